import { countedRunsWords } from './figures';
import { ago, day, pct, pctInterval, plural, sha } from './format';
import type { FailingBranch, HealthState, HistoryItem, TestDetail } from './types';

export interface VerdictWords {
	/** One line, e.g. "flaky: mixed results on 4 commits, estimated 7% (3–12%)". */
	headline: string;
	/** Supporting facts, strongest first. */
	details: string[];
}

/** The pipeline of the earliest run seen on a commit (history is newest first). */
function firstPipelineOn(history: HistoryItem[], commit: string | null | undefined): string | null {
	if (!commit) return null;
	let found: string | null = null;
	for (const h of history) if (h.commitSha === commit && h.pipelineId) found = h.pipelineId;
	return found;
}

function flakyPhrase(t: TestDetail): string {
	const h = t.health!;
	const est = h.evidence?.estimate;
	const estimate = `estimated ${pctInterval(est?.mean ?? h.score, est?.low ?? h.scoreLow, est?.high ?? h.scoreHigh)}`;
	if (h.mixedCommits > 0) return `mixed results on ${plural(h.mixedCommits, 'commit')}, ${estimate}`;
	const streaks = h.evidence?.counts?.failureStreaks ?? 0;
	if (streaks > 1) return `failed in ${streaks} separate streaks with passing commits between, ${estimate}`;
	return estimate;
}

/** "failing on feature/x, never seen failing on the default branch". */
export function failingHeadline(branches: FailingBranch[]): string {
	const names = branches.map((b) => b.branch);
	const where = names.length === 0 ? 'a feature branch' : names.length <= 3 ? names.join(', ') : `${names.slice(0, 3).join(', ')} and ${names.length - 3} more`;
	return `failing on ${where}, never seen failing on the default branch`;
}

/** What each state means: the badge's tooltip and the filter's help. */
export const STATE_MEANINGS: Record<HealthState, string> = {
	flaky: 'Passed and failed on the same code: fails now and then without a code change.',
	broken: 'Fails on every run since a commit on the default branch: a real failure, not flakiness.',
	suspect: 'An unexplained failure: not enough evidence yet to call it flaky.',
	failing:
		'Fails on feature branch(es), on commits that never passed, and has never been seen failing on the default branch: likely a bug in an unmerged change. Not counted as flakiness.',
	quarantined: 'Its failures are ignored by the pipeline while quarantined.',
	fixed: 'Was flaky; has passed long enough since to be called fixed.',
	healthy: 'No flaky failure in the runs analysed.',
	skipped: 'Skipped in every run: there is nothing to judge, so no failure chance.'
};

/** "inactive since 2 Nov (not in the last 5 complete default-branch pipelines)", or null while active. */
export function inactiveWords(since: string | null | undefined, pipelines: number | undefined): string | null {
	if (!since || !pipelines) return null;
	return `inactive since ${day(since)} (not in the last ${plural(pipelines, 'complete default-branch pipeline')}): removed or renamed; out of the active counts until it runs again`;
}

/** The analysis verdict in words, with the evidence a person needs to believe it. */
export function verdictWords(t: TestDetail, history: HistoryItem[]): VerdictWords {
	const h = t.health;
	if (!h) return { headline: 'not analysed yet: the verdict appears once a run with this test has been analysed', details: [] };
	const ev = h.evidence ?? {};
	const details = [...(ev.reasons ?? [])];
	let headline: string;
	switch (h.state) {
		case 'flaky':
			headline = `flaky: ${flakyPhrase(t)}`;
			break;
		case 'broken': {
			const commit = ev.changePoint?.firstBadSha ?? h.changePointSha;
			const pipeline = firstPipelineOn(history, commit);
			headline = commit
				? `broken since commit ${sha(commit)}${pipeline ? ` — pipeline ${pipeline}` : ''}`
				: `broken: failing on every attempt since ${ago(h.stateSince)}`;
			break;
		}
		case 'suspect':
			headline = `suspect: an unexplained failure ${ago(h.lastFlakyAt ?? h.stateSince)}, not enough evidence yet to call it flaky`;
			break;
		case 'failing':
			headline = failingHeadline(ev.failingBranches ?? []);
			break;
		case 'fixed': {
			const rule = ev.fixedRule;
			headline = rule
				? `fixed: ${plural(rule.cleanRunsSince, 'clean run')} since the last flaky failure (${rule.requiredRuns} needed)`
				: `fixed: no flaky failure since ${ago(h.lastFlakyAt ?? h.stateSince)}`;
			break;
		}
		case 'quarantined': {
			const q = t.quarantine;
			headline = q
				? `quarantined by ${q.createdBy}${q.expiresAt ? ` until ${day(q.expiresAt)}` : ''}: ${q.reason}`
				: 'quarantined';
			if (h.mixedCommits > 0 || (h.score ?? 0) > 0) details.unshift(`Underneath: ${flakyPhrase(t)}.`);
			break;
		}
		case 'skipped': {
			const n = h.figures?.notCounted.skipped;
			headline = `skipped${n ? ` in all ${plural(n, 'run')}` : ' in every run'}: nothing to judge, so no failure chance`;
			break;
		}
		default: {
			const f = h.figures;
			if (!f) headline = h.runs > 0 ? `healthy: ${plural(h.runs, 'run')} analysed` : 'healthy';
			else if (f.countedRuns === 0) headline = 'healthy: no run counted yet (see the runs not counted below)';
			else
				headline =
					f.failedRuns === 0
						? `healthy: no failed run among ${countedRunsWords(f)}`
						: `healthy: ${f.failedRuns} of ${countedRunsWords(f)} failed (${pct(h.flakeRate)}), too few or too old to call it flaky`;
		}
	}
	return { headline, details };
}
