import type { PipelineResult, PipelineRun, PipelineTotals } from '../repositories/gitlab-reports.js';

/**
 * What a merge request is told about one pipeline: each failure sorted by whose it is, in a note
 * short enough to read in the MR and a one-line commit status. Pure: the data comes in, text goes out.
 */

/**
 * - new: failing here, not known to fail on the default branch (likely the MR's doing);
 * - flaky: known flaky before this pipeline;
 * - broken: broken on the default branch since a commit before this pipeline;
 * - quarantined: failed, ignored by the pipeline.
 */
export type FailureKind = 'new' | 'flaky' | 'broken' | 'quarantined';

export interface Judged extends PipelineResult {
	kind: FailureKind;
}

/** Flaky states: `fixed` was flaky and failing again says it still is. */
const FLAKY_STATES = new Set(['flaky', 'fixed']);

/**
 * Every other state is `new`: `failing` (failing on feature branches only — this MR's own failure
 * among them), suspect, healthy, not analysed yet.
 *
 * Judged by what was known before the pipeline began: a test this pipeline's own failures made
 * flaky, or a break that began in this pipeline, is news to the MR, not an excuse.
 */
export function judge(r: PipelineResult, pipelineStart: Date): FailureKind {
	if (r.quarantined) return 'quarantined';
	if (r.state === 'broken' && r.changePointSha && r.changePointAt && r.changePointAt < pipelineStart) return 'broken';
	if (r.state && FLAKY_STATES.has(r.state) && r.firstDetectedAt && r.firstDetectedAt < pipelineStart) return 'flaky';
	return 'new';
}

export interface NoteInput {
	pipelineId: string;
	runs: PipelineRun[];
	totals: PipelineTotals;
	results: Judged[];
	/** Failed or flaky tests beyond `results` (the list is capped). */
	omitted: number;
	defaultBranch: string | null;
	/** Base URL of the dashboard, without a trailing slash. */
	dashboard: string;
}

export const NOTE_MARKER = '<!-- flackyness:mr-note -->';
/** A section longer than this is folded. */
const FOLD_AFTER = 5;

export function percent(p: number): string {
	const v = p * 100;
	if (v > 0 && v < 1) return `${v.toFixed(1)}%`;
	return `${Math.round(v)}%`;
}

export function duration(ms: number): string {
	const s = Math.round(ms / 1000);
	if (s < 60) return `${s} s`;
	const m = Math.floor(s / 60);
	if (m < 60) return `${m} min${s % 60 ? ` ${s % 60} s` : ''}`;
	return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/**
 * Text from test titles and errors goes into code spans: Markdown, HTML, @mentions and #references
 * in it are then shown as written, never acted on. A backtick would end the span; a newline the line.
 */
export function code(text: string, max = 200): string {
	const flat = text.replace(/[\r\n\t]+/g, ' ').replace(/`/g, 'ʼ').trim();
	const clipped = flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
	return `\`${clipped || ' '}\``;
}

const shortSha = (sha: string) => sha.slice(0, 8);

export function testName(r: Pick<PipelineResult, 'file' | 'titlePath' | 'projectName'>): string {
	const path = [r.file, ...r.titlePath.filter((t) => t !== '' && t !== r.file)].join(' › ');
	return r.projectName ? `[${r.projectName}] ${path}` : path;
}

function branchName(input: Pick<NoteInput, 'defaultBranch'>): string {
	return input.defaultBranch ? code(input.defaultBranch, 100) : 'the default branch';
}

function chance(r: PipelineResult): string {
	if (r.score === null) return 'flaky';
	const interval = r.scoreLow !== null && r.scoreHigh !== null ? ` (${percent(r.scoreLow)}–${percent(r.scoreHigh)})` : '';
	return `flaky: ${percent(r.score)} per attempt${interval}`;
}

function line(r: Judged, input: NoteInput): string {
	const link = `[${code(testName(r))}](${input.dashboard}/tests/${r.testId})`;
	const retry = r.outcome === 'flaky' ? `passed on retry ${r.attempts}, ` : '';
	switch (r.kind) {
		case 'flaky':
			return `- ${link} — ${retry}${chance(r)}, [quarantine?](${input.dashboard}/tests/${r.testId})`;
		case 'broken':
			return `- ${link} — broken on ${branchName(input)} since ${code(shortSha(r.changePointSha!))}`;
		case 'quarantined':
			return `- ${link} — quarantined${r.quarantineReason ? `: ${code(r.quarantineReason, 120)}` : ''}`;
		case 'new':
			if (r.outcome === 'flaky') return `- ${link} — ${retry}not known flaky before this pipeline`;
			return `- ${link}${r.errorMessage ? ` — ${code(r.errorMessage.split('\n')[0]!, 160)}` : ''}`;
	}
}

function section(title: string, items: Judged[], input: NoteInput, fold = items.length > FOLD_AFTER): string[] {
	if (items.length === 0) return [];
	const lines = items.map((r) => line(r, input));
	if (!fold) return [`**${title} (${items.length})**`, '', ...lines, ''];
	return [`<details><summary><b>${title} (${items.length})</b></summary>`, '', ...lines, '', '</details>', ''];
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** A pipeline's failures in the words of the note's headline and the commit status. */
export function verdictWords(failed: Judged[], input: Pick<NoteInput, 'defaultBranch' | 'totals'>): { ok: boolean; headline: string } {
	const count = (k: FailureKind) => failed.filter((r) => r.kind === k).length;
	const fresh = count('new');
	if (fresh > 0) return { ok: false, headline: `${plural(fresh, 'new failure')} (not known flaky, not broken on ${input.defaultBranch ?? 'the default branch'})` };
	if (failed.length === 0) return { ok: true, headline: `all ${plural(input.totals.tests - input.totals.skipped, 'test')} passed` };
	const parts = [
		count('flaky') && `${count('flaky')} known flaky`,
		count('broken') && `${count('broken')} broken on ${input.defaultBranch ?? 'the default branch'} too`,
		count('quarantined') && `${count('quarantined')} quarantined`
	].filter(Boolean);
	return { ok: true, headline: `no new failures: ${parts.join(', ')}` };
}

export function renderNote(input: NoteInput): string {
	const { totals, runs } = input;
	const failed = input.results.filter((r) => r.outcome === 'unexpected');
	const retried = input.results.filter((r) => r.outcome === 'flaky');
	const verdict = verdictWords(failed, input);
	const iid = runs.find((r) => r.pipelineIid)?.pipelineIid;
	const pipelineUrl = runs.find((r) => r.pipelineUrl)?.pipelineUrl;
	const pipeline = pipelineUrl ? `[pipeline #${input.pipelineId}](${pipelineUrl})` : `pipeline #${iid ?? input.pipelineId}`;
	const out = [NOTE_MARKER, `### ${verdict.ok ? '✅' : '❌'} Flackyness: ${verdict.headline}`, ''];

	const counts = [
		`**${plural(totals.tests, 'test')}**`,
		`${totals.passed} passed`,
		totals.flaky ? `${totals.flaky} passed only on retry` : null,
		totals.failed ? `${totals.failed} failed` : null,
		totals.skipped ? `${totals.skipped} skipped` : null
	].filter(Boolean);
	out.push(`${counts.join(' · ')} in ${pipeline}.${totals.lostMs >= 1000 ? ` CI time lost to flaky retries: ${duration(totals.lostMs)}.` : ''}`, '');
	if (failed.length === 0 && retried.length > 0) {
		const known = retried.filter((r) => r.kind === 'flaky').length;
		out.push(`${plural(retried.length, 'test')} passed only on retry: ${known === retried.length ? 'known flaky' : `${known} known flaky, ${retried.length - known} not known flaky before`}.`, '');
	}

	const of = (k: FailureKind) => failed.filter((r) => r.kind === k);
	out.push(...section(`New: failing here, not known to fail on ${input.defaultBranch ?? 'the default branch'}, likely this MR's doing`, of('new'), input));
	out.push(...section('Known flaky', of('flaky'), input));
	out.push(...section(`Broken on ${input.defaultBranch ?? 'the default branch'} too: not this MR's fault`, of('broken'), input));
	out.push(...section('Quarantined: failed, ignored by the pipeline', of('quarantined'), input));
	out.push(...section('Passed only on retry', retried, input, retried.length > FOLD_AFTER || failed.length > 0));
	if (input.omitted > 0) out.push(`…and ${plural(input.omitted, 'more test')} that failed or passed on retry: see the runs.`, '');

	const infra = runs.filter((r) => r.infraFailure);
	if (infra.length > 0) {
		out.push(`⚠️ ${plural(infra.length, 'job')} looked like an infrastructure failure (${infra.map((r) => code(r.infraReason ?? r.jobName ?? r.id, 120)).join(', ')}).`, '');
	}
	const runLinks = runs.map((r) => `[${code(r.jobName ?? 'run', 60)}](${input.dashboard}/runs/${r.id})${r.jobUrl ? ` ([job](${r.jobUrl}))` : ''}`);
	const sha = runs.find((r) => r.commitSha)?.commitSha;
	out.push(`<sub>Runs in Flackyness: ${runLinks.join(', ')}${sha ? ` · commit ${code(shortSha(sha))}` : ''} · this note is updated by each pipeline of the merge request.</sub>`);
	return out.join('\n');
}

/** GitLab shows at most 255 characters of a status description. */
export function statusDescription(failed: Judged[], input: Pick<NoteInput, 'defaultBranch' | 'totals'>): { state: 'success' | 'failed'; description: string } {
	const v = verdictWords(failed, input);
	const text = v.headline.charAt(0).toUpperCase() + v.headline.slice(1);
	return { state: v.ok ? 'success' : 'failed', description: text.length > 255 ? `${text.slice(0, 254)}…` : text };
}
