/**
 * `--repeat-each N` turns one test into N TestCases with the same file, title path and project: the
 * same identity on the server, which keeps one result per test per batch of a run (the last one).
 * Sent one by one, most repetitions would be dropped, and which ones survived would depend on how
 * they happened to be batched. So the reporter sends one result per test and run: each repetition
 * counts as attempts of it. A test that failed in some repetitions and passed in others is then
 * `flaky`, with `attempts` = every attempt of every repetition and `failedAttempts` = those that
 * failed — the evidence `burn-in` is run for.
 */
import { MAX_ATTACHMENTS, type TestResultInput } from './protocol.js';

const MAX_ATTEMPTS = 100;
const MAX_INT = 2_147_483_647;
const MAX_ANNOTATIONS = 100;

type Outcome = TestResultInput['outcome'];

/** As Playwright's `outcome()` over attempts, here over repetitions: skipped ones say nothing. */
function mergedOutcome(outcomes: Outcome[]): Outcome {
	const ran = outcomes.filter((o) => o !== 'skipped');
	if (ran.length === 0) return 'skipped';
	if (ran.every((o) => o === 'expected')) return 'expected';
	if (ran.every((o) => o === 'unexpected')) return 'unexpected';
	return 'flaky';
}

/**
 * The repetitions of one test as one result: outcome over all of them, attempts and failures
 * summed, the first error, every annotation once, the files of failed attempts numbered by their
 * attempt across repetitions. Other fields are the first repetition's.
 */
export function mergeRepeats(repeats: readonly TestResultInput[]): TestResultInput {
	if (repeats.length === 1) return repeats[0]!;
	const ordered = [...repeats].sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
	const first = ordered[0]!;
	const attempts = Math.min(
		ordered.reduce((n, r) => n + r.attempts, 0),
		MAX_ATTEMPTS
	);
	const annotations: NonNullable<TestResultInput['annotations']> = [];
	const seen = new Set<string>();
	for (const a of ordered.flatMap((r) => r.annotations ?? [])) {
		const key = JSON.stringify([a.type, a.description ?? null]);
		if (seen.has(key) || annotations.length === MAX_ANNOTATIONS) continue;
		seen.add(key);
		annotations.push(a);
	}
	const attachments: NonNullable<TestResultInput['attachments']> = [];
	let offset = 0;
	for (const r of ordered) {
		for (const a of r.attachments ?? []) {
			if (attachments.length < MAX_ATTACHMENTS && offset + a.attempt <= 99) attachments.push({ ...a, attempt: offset + a.attempt });
		}
		offset += r.attempts;
	}
	const merged: TestResultInput = {
		...first,
		outcome: mergedOutcome(ordered.map((r) => r.outcome)),
		status: ordered[ordered.length - 1]!.status,
		attempts,
		failedAttempts: Math.min(
			ordered.reduce((n, r) => n + r.failedAttempts, 0),
			attempts
		),
		durationMs: Math.min(
			ordered.reduce((n, r) => n + r.durationMs, 0),
			MAX_INT
		),
		annotations
	};
	const error = ordered.find((r) => r.error)?.error;
	if (error) merged.error = error;
	else delete merged.error;
	if (attachments.length > 0) merged.attachments = attachments;
	else delete merged.attachments;
	return merged;
}

/**
 * Repetitions waiting for their siblings: a test's result is sent once all `repeatEach` of them
 * have ended, or at the end of the run (a shard, an interrupted run) with those that did.
 */
export class RepeatGroups<T> {
	private readonly groups = new Map<string, { items: T[]; results: TestResultInput[] }>();

	/** The merged result and the last repetition's item once `total` repetitions are in; else undefined. */
	add(item: T, result: TestResultInput, total: number): { item: T; result: TestResultInput } | undefined {
		const key = JSON.stringify([result.projectName ?? '', result.file, result.titlePath]);
		const group = this.groups.get(key) ?? { items: [], results: [] };
		group.items.push(item);
		group.results.push(result);
		if (group.results.length < total) {
			this.groups.set(key, group);
			return undefined;
		}
		this.groups.delete(key);
		return { item, result: mergeRepeats(group.results) };
	}

	/** Every group still waiting, merged from the repetitions that ended. */
	drain(): Array<{ item: T; result: TestResultInput }> {
		const out = [...this.groups.values()].map((g) => ({ item: g.items[g.items.length - 1]!, result: mergeRepeats(g.results) }));
		this.groups.clear();
		return out;
	}
}
