import { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import {
	HEALTH_STATES,
	flakyPage,
	healthState,
	historyAnswer,
	projectsAnswer,
	runAnswer,
	testAnswer,
	type FlakyRow,
	type HealthState,
	type HistoryItem,
	type TestAnswer
} from './answers.js';
import { ApiError, type FlackynessApi } from './api.js';
import { firstLine, minutes, pct, pctInterval, plural, sha, testName, when } from './format.js';

/** The tools: each reads the API, answers a compact text for the agent and the same facts as structured content. */

const projectArg = z.string().trim().min(1).max(100).describe('Flackyness project: its slug (as list_projects shows) or id');
const limitArg = (def: number) => z.number().int().min(1).max(100).default(def).describe(`how many tests to return, 1–100 (default ${def})`);
const ALL_STATES = [...HEALTH_STATES];
/** The states worth attention, the read API's default for its flaky list. */
const ATTENTION: HealthState[] = ['flaky', 'broken', 'suspect', 'failing', 'quarantined', 'fixed'];
const readOnly = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const;

const chance = z.object({
	estimate: z.number().describe('estimated probability that one attempt fails for flaky reasons, 0–1'),
	low: z.number().describe('lower bound of its credible interval'),
	high: z.number().describe('upper bound of its credible interval')
});
const failureChance = chance
	.nullable()
	.describe('per-attempt failure chance of the flaky component; null for a test skipped in every run');

const testItem = z.object({
	testId: z.string().describe('test id, for explain_test'),
	name: z.string().describe('describe blocks and title, joined with ›'),
	file: z.string().describe('spec file'),
	playwrightProject: z.string().describe('Playwright project the test ran in'),
	tags: z.array(z.string()).describe('Playwright tags'),
	state: healthState.describe('verdict: flaky, broken, suspect, fixed, quarantined, healthy, or skipped (in every run)'),
	stateSince: z.string().describe('when the test entered this state (ISO 8601)'),
	failureChance,
	flakeRate: z.number().nullable().describe('share of the counted runs (default branch) with a failed attempt, 0–1; null for a test skipped in every run'),
	ciMinutesLostPerDay: z.number().describe('CI time lost to this test’s flaky failures, minutes per day'),
	runs: z.number().int().describe('runs analysed'),
	failures: z.number().int().describe('runs that failed, retries included'),
	flakyRuns: z.number().int().describe('runs that passed on retry'),
	mixedCommits: z.number().int().describe('commits that both passed and failed'),
	lastFlakyAt: z.string().nullable().describe('last flaky failure (ISO 8601)'),
	lastSeenAt: z.string().nullable().describe('last run (ISO 8601)'),
	changePointSha: z.string().nullable().describe('for a broken test: the first failing commit')
});
type TestItem = z.infer<typeof testItem>;

const testList = {
	project: z.string().describe('the project asked for'),
	total: z.number().int().describe('tests matching, of which `tests` are the first'),
	tests: z.array(testItem).describe('most CI time lost first')
};

function item(r: FlakyRow): TestItem {
	return {
		testId: r.testId,
		name: testName(r),
		file: r.file,
		playwrightProject: r.projectName,
		tags: r.tags ?? [],
		state: r.state,
		stateSince: r.stateSince,
		failureChance: r.score === null || r.scoreLow === null || r.scoreHigh === null ? null : { estimate: r.score, low: r.scoreLow, high: r.scoreHigh },
		flakeRate: r.flakeRate,
		ciMinutesLostPerDay: r.impactMinutes,
		runs: r.runs,
		failures: r.failures,
		flakyRuns: r.flakyRuns,
		mixedCommits: r.mixedCommits,
		lastFlakyAt: r.lastFlakyAt,
		lastSeenAt: r.lastSeenAt,
		changePointSha: r.changePointSha
	};
}

/** A state list in words: "flaky, broken or fixed". */
function either(states: readonly string[]): string {
	return states.length < 2 ? states.join('') : `${states.slice(0, -1).join(', ')} or ${states.at(-1)}`;
}

function itemLine(t: TestItem): string {
	// A broken test fails every attempt; its estimate is the flaky part beside that, which would mislead here.
	const facts =
		t.state === 'broken' && t.changePointSha
			? [`fails every attempt since ${sha(t.changePointSha)}`]
			: t.failureChance
				? [`fails ${pctInterval(t.failureChance.estimate, t.failureChance.low, t.failureChance.high)} of attempts`]
				: ['skipped in every run'];
	if (t.ciMinutesLostPerDay > 0) facts.push(`CI time lost ${minutes(t.ciMinutesLostPerDay)}/day`);
	if (t.mixedCommits > 0) facts.push(`${plural(t.mixedCommits, 'mixed commit')}`);
	facts.push(`${plural(t.runs, 'run')}`);
	return `- [${t.state}] ${t.name} (${t.file}, ${t.playwrightProject}): ${facts.join('; ')}. id ${t.testId}`;
}

function listText(heading: string, total: number, tests: TestItem[]): string {
	if (tests.length === 0) return `${heading}: none.`;
	const shown = tests.length < total ? ` (showing ${tests.length})` : '';
	return [`${heading}: ${total}${shown}, most CI time lost first.`, ...tests.map(itemLine)].join('\n');
}

async function testPage(api: FlackynessApi, project: string, q: Record<string, string | number | undefined>) {
	return api.get(`/api/v1/projects/${encodeURIComponent(project)}/flaky-tests`, { sort: 'impact', order: 'desc', ...q }, flakyPage);
}

function result(text: string, structured: Record<string, unknown>): CallToolResult {
	return { content: [{ type: 'text', text }], structuredContent: structured };
}

// ---- explain_test ----

const verdict = z.object({
	state: healthState.describe(
		'flaky, broken, suspect, failing (fails on feature branches only, never seen failing on the default branch), fixed, quarantined or healthy'
	),
	stateSince: z.string().describe('when the test entered this state (ISO 8601)'),
	analyzedAt: z.string().describe('when the verdict was last computed (ISO 8601)'),
	failureChance: chance.extend({ credibleMass: z.number().nullable().describe('mass of the interval, e.g. 0.9') }),
	flakeRate: z.number().nullable().describe('share of the counted runs (default branch) with a failed attempt, 0–1; null for a test skipped in every run'),
	ciMinutesLostPerDay: z.number().describe('CI time lost to flaky failures, minutes per day'),
	runs: z.number().int().describe('runs analysed'),
	failures: z.number().int().describe('runs that failed, retries included'),
	flakyRuns: z.number().int().describe('runs that passed on retry'),
	mixedCommits: z.number().int().describe('commits that both passed and failed'),
	lastFlakyAt: z.string().nullable().describe('last flaky failure (ISO 8601)'),
	reasons: z.array(z.string()).describe('why the verdict is what it is, strongest first'),
	changePoint: z
		.object({
			firstBadSha: z.string().describe('first commit of the failing stretch'),
			firstBadAt: z.string().describe('when it first failed'),
			lastGoodSha: z.string().nullable().describe('last commit that passed before it'),
			lastGoodAt: z.string().nullable().describe('when that passed')
		})
		.nullable()
		.describe('for a broken test: where the failures begin'),
	fixedRule: z
		.object({
			cleanRunsSince: z.number().int().describe('clean runs since the last flaky failure'),
			requiredRuns: z.number().int().describe('clean runs needed to call it fixed'),
			rate: z.number().describe('failure rate the rule assumes')
		})
		.nullable()
		.describe('the rule that decides when a flaky test counts as fixed')
});

const explainOutput = {
	test: z
		.object({
			id: z.string().describe('test id'),
			projectId: z.string().describe('Flackyness project id'),
			name: z.string().describe('describe blocks and title, joined with ›'),
			file: z.string().describe('spec file'),
			playwrightProject: z.string().describe('Playwright project'),
			tags: z.array(z.string()).describe('Playwright tags')
		})
		.describe('the test'),
	headline: z.string().describe('the verdict in one line'),
	nextStep: z.string().describe('what to do about it'),
	verdict: verdict.nullable().describe('null before the test was first analysed'),
	quarantine: z
		.object({ reason: z.string(), createdBy: z.string(), createdAt: z.string(), expiresAt: z.string().nullable() })
		.nullable()
		.describe('the active quarantine, if any'),
	mixedCommits: z
		.array(
			z.object({
				sha: z.string().describe('commit'),
				branch: z.string().describe('branch it ran on'),
				kind: z.string().describe('in-run (failed, then passed on retry), cross-run (runs disagreed) or both'),
				runs: z.number().int().describe('runs on it'),
				failedRuns: z.number().int().describe('of which failed'),
				passedRuns: z.number().int().describe('of which passed'),
				lastAt: z.string().describe('last run on it')
			})
		)
		.describe('commits that both passed and failed, newest first: the proof of flakiness'),
	recentErrors: z
		.array(
			z.object({
				message: z.string().describe('first line of the error'),
				location: z.string().nullable().describe('file:line:column'),
				fingerprint: z.string().nullable().describe('error cluster'),
				count: z.number().int().describe('recent runs that failed with it'),
				lastAt: z.string().describe('last time (ISO 8601)')
			})
		)
		.describe('distinct errors of the recent runs, most frequent first'),
	recentRuns: z
		.array(
			z.object({
				runId: z.string().describe('run id, for show_run'),
				startedAt: z.string().describe('ISO 8601'),
				outcome: z.enum(['expected', 'unexpected', 'flaky', 'skipped']).describe('expected = passed, unexpected = failed, flaky = passed on retry'),
				attempts: z.number().int().describe('attempts run'),
				failedAttempts: z.number().int().describe('attempts that failed'),
				branch: z.string().nullable().describe('branch'),
				commitSha: z.string().nullable().describe('commit'),
				pipelineId: z.string().nullable().describe('CI pipeline'),
				jobUrl: z.string().nullable().describe('CI job'),
				infra: z.boolean().describe('the job was judged an infrastructure failure')
			})
		)
		.describe('newest first')
};

function estimateOf(h: NonNullable<TestAnswer['health']>) {
	const e = h.evidence?.estimate;
	return { estimate: e?.mean ?? h.score, low: e?.low ?? h.scoreLow, high: e?.high ?? h.scoreHigh, credibleMass: e?.credibleMass ?? null };
}

function headlineOf(t: TestAnswer): string {
	const h = t.health;
	if (!h) return 'not analysed yet: a verdict appears once a run with this test has been analysed';
	const est = estimateOf(h);
	const chance = `fails ${pctInterval(est.estimate, est.low, est.high)} of attempts`;
	const ev = h.evidence;
	switch (h.state) {
		case 'flaky':
			return h.mixedCommits > 0 ? `flaky: passed and failed on the same ${plural(h.mixedCommits, 'commit')}; ${chance}` : `flaky: ${chance}`;
		case 'broken': {
			const first = ev?.changePoint?.firstBadSha ?? h.changePointSha;
			return first ? `broken: fails every attempt since commit ${sha(first)}` : `broken: fails every attempt since ${when(h.stateSince)}`;
		}
		case 'suspect':
			return `suspect: an unexplained failure (${when(h.lastFlakyAt ?? h.stateSince)}), not yet enough evidence to call it flaky`;
		case 'failing': {
			const branches = (ev?.failingBranches ?? []).map((b) => `${b.branch} (${b.failedRuns} of ${plural(b.runs, 'run')} failed)`);
			return `failing on ${branches.length > 0 ? branches.join(', ') : 'feature branches'}, never seen failing on the default branch: likely a bug in an unmerged change, not flakiness`;
		}
		case 'fixed':
			return ev?.fixedRule
				? `fixed: ${plural(ev.fixedRule.cleanRunsSince, 'clean run')} since the last flaky failure (${ev.fixedRule.requiredRuns} needed)`
				: `fixed: no flaky failure since ${when(h.lastFlakyAt ?? h.stateSince)}`;
		case 'quarantined':
			return t.quarantine ? `quarantined by ${t.quarantine.createdBy}: ${t.quarantine.reason}; underneath it ${chance}` : `quarantined; ${chance}`;
		case 'skipped':
			return 'skipped in every run: nothing to judge, so no failure chance';
		default:
			return h.flakyRuns > 0 ? `healthy: ${plural(h.runs, 'run')}, ${pct(h.flakeRate)} needed a retry` : `healthy: ${plural(h.runs, 'run')}, no flaky failure`;
	}
}

function nextStepOf(t: TestAnswer, topError: string | null): string {
	const h = t.health;
	const where = topError ? ` Start from its most frequent error: ${topError}` : '';
	switch (h?.state) {
		case 'flaky':
			return `Its failures come and go on unchanged code (a race, timing or shared state), so a failure of it in CI is probably not caused by the change under test. To fix it, look for what the test races with or waits on by time.${where}`;
		case 'broken': {
			const cp = h.evidence?.changePoint;
			const range = cp ? (cp.lastGoodSha ? ` between ${sha(cp.lastGoodSha)} (last pass) and ${sha(cp.firstBadSha)}` : ` at ${sha(cp.firstBadSha)}`) : '';
			return `A real failure, not flakiness: look at the changes${range}; fix the code, or update the test if the behaviour changed on purpose.${where}`;
		}
		case 'suspect':
			return `Too little evidence yet: watch the next runs; re-running the job tells whether it is flaky or broken.${where}`;
		case 'failing':
			return `It fails on the branch(es) named, on code that never passed there: look at the branch's changes before merging; it is not known to fail on the default branch.${where}`;
		case 'fixed':
			return 'Nothing to do: it stopped failing. A new flaky failure would bring it back to flaky.';
		case 'quarantined':
			return `Its failures do not fail CI while quarantined. Fix it, then have an admin release it.${where}`;
		case 'healthy':
			return 'Nothing to do.';
		default:
			return 'Nothing to judge yet.';
	}
}

function recentErrorsOf(history: HistoryItem[]) {
	const groups = new Map<string, { message: string; location: string | null; fingerprint: string | null; count: number; lastAt: string }>();
	for (const h of history) {
		if (!h.error) continue;
		const message = firstLine(h.error.message);
		const key = h.error.fingerprint ?? message;
		const g = groups.get(key);
		// History is newest first: the first of a group is its latest.
		if (g) g.count++;
		else groups.set(key, { message, location: h.error.location, fingerprint: h.error.fingerprint, count: 1, lastAt: h.startedAt });
	}
	return [...groups.values()].sort((a, b) => b.count - a.count);
}

function runLine(h: HistoryItem): string {
	const what = { expected: 'passed', unexpected: 'failed', flaky: 'passed on retry', skipped: 'skipped' }[h.outcome];
	const attempts = h.attempts > 1 ? ` (${h.failedAttempts}/${h.attempts} attempts failed)` : '';
	const where = [h.branch, h.commitSha && sha(h.commitSha), h.pipelineId && `pipeline ${h.pipelineId}`].filter(Boolean).join(' ');
	return `- ${when(h.startedAt)} ${what}${attempts}${h.infra ? ' [infra failure]' : ''}${where ? `, ${where}` : ''}; run ${h.runId}`;
}

async function findTest(api: FlackynessApi, project: string, search: string): Promise<string> {
	const page = await testPage(api, project, { state: ALL_STATES.join(','), q: search, pageSize: 10, activity: 'all' });
	if (page.items.length === 1) return page.items[0]!.testId;
	const s = search.toLowerCase();
	const exact = page.items.filter((r) => r.title.toLowerCase() === s || testName(r).toLowerCase() === s);
	if (exact.length === 1) return exact[0]!.testId;
	if (page.items.length === 0) throw new ApiError(`No analysed test in project "${project}" matches "${search}". Try search_tests with fewer words.`, null);
	const more = page.total > page.items.length ? ` (first ${page.items.length} of ${page.total})` : '';
	throw new ApiError(
		[`${page.total} tests in "${project}" match "${search}"${more}; call explain_test again with one testId:`, ...page.items.map((r) => itemLine(item(r)))].join('\n'),
		null
	);
}

async function explain(api: FlackynessApi, testId: string, historyLimit: number): Promise<CallToolResult> {
	const t = await api.get(`/api/v1/tests/${testId}`, {}, testAnswer);
	const history = (await api.get(`/api/v1/tests/${testId}/history`, { limit: historyLimit }, historyAnswer)).items;
	const h = t.health;
	const ev = h?.evidence ?? null;
	const errors = recentErrorsOf(history);
	const top = errors[0] ? `${errors[0].message}${errors[0].location ? ` at ${errors[0].location}` : ''}` : null;
	const headline = headlineOf(t);
	const nextStep = nextStepOf(t, top);
	const mixed = (ev?.mixedCommits ?? []).map((m) => ({
		sha: m.sha,
		branch: m.branch,
		kind: m.kind,
		runs: m.runs,
		failedRuns: m.failedRuns,
		passedRuns: m.passedRuns,
		lastAt: m.lastAt
	}));
	const cp = ev?.changePoint ?? null;
	const fr = ev?.fixedRule ?? null;

	const lines = [`${testName(t)} — ${t.file} [${t.projectName}]`, `Verdict: ${headline}.`];
	if (h) {
		const est = estimateOf(h);
		lines.push(
			`Since ${when(h.stateSince)}; analysed ${when(h.analyzedAt)} over ${plural(h.runs, 'run')} (${h.failures} failed, ${h.flakyRuns} passed on retry).`,
			`${h.state === 'broken' ? 'Flaky failure chance per attempt outside the failing stretch' : 'Failure chance per attempt'}: ${pctInterval(est.estimate, est.low, est.high, est.credibleMass)}; CI time lost ${minutes(h.impactMinutes)}/day.`
		);
		const reasons = ev?.reasons ?? [];
		if (reasons.length > 0) lines.push('Why:', ...reasons.map((r) => `- ${r}`));
		if (mixed.length > 0) {
			const total = ev?.mixedCommitsTotal ?? mixed.length;
			lines.push(`Commits that both passed and failed (${mixed.length} of ${total}):`);
			for (const m of mixed.slice(0, 5)) lines.push(`- ${sha(m.sha)} on ${m.branch}: ${m.failedRuns} of ${m.runs} runs failed (${m.kind}), last ${when(m.lastAt)}`);
		}
		if (cp) lines.push(`Change point: first failing commit ${sha(cp.firstBadSha)} (${when(cp.firstBadAt)}); last passing ${cp.lastGoodSha ? `${sha(cp.lastGoodSha)} (${when(cp.lastGoodAt)})` : 'unknown'}.`);
		if (fr && (h.state === 'flaky' || h.state === 'fixed')) lines.push(`Fixed rule: ${plural(fr.cleanRunsSince, 'clean run')} since the last flaky failure; ${fr.requiredRuns} needed to call it fixed.`);
	}
	if (t.quarantine) lines.push(`Quarantined by ${t.quarantine.createdBy} on ${when(t.quarantine.createdAt)}${t.quarantine.expiresAt ? ` until ${when(t.quarantine.expiresAt)}` : ''}: ${t.quarantine.reason}`);
	if (errors.length > 0) {
		lines.push(`Recent errors (last ${plural(history.length, 'run')}):`);
		for (const e of errors.slice(0, 5)) lines.push(`- ${e.count}× ${e.message}${e.location ? ` at ${e.location}` : ''} (last ${when(e.lastAt)})`);
	}
	if (history.length > 0) lines.push('Recent runs, newest first:', ...history.slice(0, 10).map(runLine));
	lines.push(`Next step: ${nextStep}`);

	return result(lines.join('\n'), {
		test: { id: t.id, projectId: t.projectId, name: testName(t), file: t.file, playwrightProject: t.projectName, tags: t.tags ?? [] },
		headline,
		nextStep,
		verdict: h
			? {
					state: h.state,
					stateSince: h.stateSince,
					analyzedAt: h.analyzedAt,
					failureChance: estimateOf(h),
					flakeRate: h.flakeRate,
					ciMinutesLostPerDay: h.impactMinutes,
					runs: h.runs,
					failures: h.failures,
					flakyRuns: h.flakyRuns,
					mixedCommits: h.mixedCommits,
					lastFlakyAt: h.lastFlakyAt,
					reasons: ev?.reasons ?? [],
					changePoint: cp ? { firstBadSha: cp.firstBadSha, firstBadAt: cp.firstBadAt, lastGoodSha: cp.lastGoodSha, lastGoodAt: cp.lastGoodAt } : null,
					fixedRule: fr ? { cleanRunsSince: fr.cleanRunsSince, requiredRuns: fr.requiredRuns, rate: fr.rate } : null
				}
			: null,
		quarantine: t.quarantine
			? { reason: t.quarantine.reason, createdBy: t.quarantine.createdBy, createdAt: t.quarantine.createdAt, expiresAt: t.quarantine.expiresAt }
			: null,
		mixedCommits: mixed,
		recentErrors: errors,
		recentRuns: history.map((r) => ({
			runId: r.runId,
			startedAt: r.startedAt,
			outcome: r.outcome,
			attempts: r.attempts,
			failedAttempts: r.failedAttempts,
			branch: r.branch,
			commitSha: r.commitSha,
			pipelineId: r.pipelineId,
			jobUrl: r.jobUrl,
			infra: r.infra
		}))
	});
}

// ---- show_run ----

const runOutput = {
	run: z
		.object({
			id: z.string().describe('run id'),
			projectId: z.string().describe('Flackyness project id'),
			status: z.string().describe('running, passed, failed, timedout, interrupted or incomplete'),
			branch: z.string().nullable().describe('branch or tag'),
			commitSha: z.string().nullable().describe('commit'),
			commitTitle: z.string().nullable().describe('commit title'),
			pipelineId: z.string().nullable().describe('CI pipeline id'),
			pipelineUrl: z.string().nullable().describe('CI pipeline URL'),
			jobName: z.string().nullable().describe('CI job name'),
			jobUrl: z.string().nullable().describe('CI job URL'),
			mrIid: z.number().int().nullable().describe('merge request number'),
			shard: z.string().nullable().describe('"2/4" when sharded'),
			startedAt: z.string().describe('ISO 8601'),
			durationMs: z.number().nullable().describe('duration, null while running'),
			total: z.number().int().describe('tests'),
			passed: z.number().int().describe('tests that went as expected'),
			failed: z.number().int().describe('tests that failed'),
			flaky: z.number().int().describe('tests that passed on retry'),
			skipped: z.number().int().describe('tests skipped'),
			infraFailure: z.boolean().describe('the job was judged an infrastructure failure'),
			infraReason: z.string().nullable().describe('why')
		})
		.describe('the run'),
	failures: z
		.array(
			z.object({
				testId: z.string().describe('test id, for explain_test'),
				title: z.string().describe('test title'),
				file: z.string().describe('spec file'),
				playwrightProject: z.string().describe('Playwright project'),
				outcome: z.enum(['unexpected', 'flaky', 'expected', 'skipped']).describe('unexpected = failed, flaky = passed on retry'),
				attempts: z.number().int().describe('attempts run'),
				error: z.string().nullable().describe('first line of the first error'),
				verdict: healthState.nullable().describe('the test’s current verdict, null before analysis')
			})
		)
		.describe('failed tests first, then those that passed on retry')
};

/** What a failure in this run means, given the test's verdict. */
function meaning(outcome: string, state: HealthState | null): string {
	if (outcome === 'flaky') return 'passed on retry';
	switch (state) {
		case 'flaky':
		case 'quarantined':
			return 'known flaky: likely not caused by this change';
		case 'broken':
			return 'known broken: fails on other commits too, not only on this change';
		case 'suspect':
			return 'suspect: failed before without a clear cause';
		case 'failing':
			return 'failing on a feature branch, not on the default branch: likely caused by a change on that branch';
		default:
			return 'no flaky history: likely a real failure';
	}
}

export function registerTools(server: McpServer, api: FlackynessApi): void {
	server.registerTool(
		'list_projects',
		{
			title: 'List projects',
			description: 'The Flackyness projects this token can read, with their tracked, flaky and broken test counts.',
			inputSchema: {},
			outputSchema: {
				projects: z
					.array(
						z.object({
							id: z.string().describe('project id'),
							slug: z.string().describe('slug, for the other tools'),
							name: z.string().describe('display name'),
							isDemo: z.boolean().describe('the built-in demo project'),
							lastRunAt: z.string().nullable().describe('latest run (ISO 8601)'),
							tests: z.number().int().describe('tests tracked'),
							flaky: z.number().int().describe('tests judged flaky'),
							broken: z.number().int().describe('tests judged broken')
						})
					)
					.describe('the projects')
			},
			annotations: readOnly
		},
		async () => {
			const { projects } = await api.get('/api/v1/projects', {}, projectsAnswer);
			const rows = projects.map((p) => ({ id: p.id, slug: p.slug, name: p.name, isDemo: p.isDemo, lastRunAt: p.lastRunAt, tests: p.tests, flaky: p.flaky, broken: p.broken }));
			const text =
				rows.length === 0
					? 'No project is readable with this token.'
					: rows
							.map((p) => `- ${p.slug}${p.name !== p.slug ? ` (${p.name})` : ''}${p.isDemo ? ' [demo]' : ''}: ${p.tests} tests, ${p.flaky} flaky, ${p.broken} broken; last run ${when(p.lastRunAt)}`)
							.join('\n');
			return result(text, { projects: rows });
		}
	);

	server.registerTool(
		'list_flaky_tests',
		{
			title: 'List flaky tests',
			description:
				'Tests of a project by verdict (flaky, broken, suspect, failing, quarantined, fixed by default; failing = fails on feature branches only), most CI time lost first, with the per-attempt failure chance and its interval. Tests gone from the recent default-branch pipelines (inactive) are left out.',
			inputSchema: {
				project: projectArg,
				state: z.array(healthState).min(1).optional().describe(`verdicts to list (default: ${ATTENTION.join(', ')})`),
				playwrightProject: z.string().trim().min(1).max(255).optional().describe('only tests of this Playwright project'),
				branch: z.string().trim().min(1).max(255).optional().describe('only tests that ran on this branch or are failing on it'),
				limit: limitArg(20)
			},
			outputSchema: testList,
			annotations: readOnly
		},
		async ({ project, state, playwrightProject, branch, limit }) => {
			const states = state ?? ATTENTION;
			const page = await testPage(api, project, { state: states.join(','), project: playwrightProject, branch, pageSize: limit });
			const tests = page.items.map(item);
			return result(listText(`Tests of ${project} judged ${either(states)}`, page.total, tests), { project, total: page.total, tests });
		}
	);

	server.registerTool(
		'search_tests',
		{
			title: 'Search tests',
			description:
				'Tests of a project whose title, describe blocks or file contain the text, whatever their verdict (healthy and inactive included; tests not analysed yet are not listed).',
			inputSchema: { project: projectArg, text: z.string().trim().min(1).max(200).describe('part of a title, describe block or file path'), limit: limitArg(20) },
			outputSchema: testList,
			annotations: readOnly
		},
		async ({ project, text, limit }) => {
			const page = await testPage(api, project, { state: ALL_STATES.join(','), q: text, pageSize: limit, activity: 'all' });
			const tests = page.items.map(item);
			return result(listText(`Tests of ${project} matching "${text}"`, page.total, tests), { project, total: page.total, tests });
		}
	);

	server.registerTool(
		'explain_test',
		{
			title: 'Explain a test’s verdict',
			description:
				'Why a test is judged flaky, broken, suspect, fixed or healthy: its failure chance, the commits that both passed and failed, the change point, recent errors and runs, and what to do. Give testId, or project and search (a title or part of it).',
			inputSchema: {
				testId: z.uuid().optional().describe('test id (from list_flaky_tests, search_tests or show_run)'),
				project: projectArg.optional(),
				search: z.string().trim().min(1).max(200).optional().describe('with project: the test’s title, or a part that names one test'),
				historyLimit: z.number().int().min(1).max(100).default(20).describe('recent runs to read (default 20)')
			},
			outputSchema: explainOutput,
			annotations: readOnly
		},
		async ({ testId, project, search, historyLimit }) => {
			if (!testId && !(project && search)) throw new ApiError('Give testId, or project and search.', null);
			return explain(api, testId ?? (await findTest(api, project!, search!)), historyLimit);
		}
	);

	server.registerTool(
		'show_run',
		{
			title: 'Show a run',
			description: 'A test run (one CI job): its status, CI links, and its failed and flaky tests with each test’s verdict, which tells a real failure from a known flaky one.',
			inputSchema: { runId: z.uuid().describe('run id (from explain_test’s recent runs, or the reporter’s output)') },
			outputSchema: runOutput,
			annotations: readOnly
		},
		async ({ runId }) => {
			const r = await api.get(`/api/v1/runs/${runId}`, {}, runAnswer);
			const shard = r.shardIndex !== null && r.shardTotal !== null ? `${r.shardIndex}/${r.shardTotal}` : null;
			// Failures first: they are what the question is about; retried passes only add context.
			const notable = [...r.notable].sort((a, b) => Number(b.outcome === 'unexpected') - Number(a.outcome === 'unexpected'));
			const failures = notable.map((n) => ({
				testId: n.testId,
				title: n.title,
				file: n.file,
				playwrightProject: n.projectName,
				outcome: n.outcome,
				attempts: n.attempts,
				error: n.errorMessage ? firstLine(n.errorMessage) : null,
				verdict: n.state
			}));
			const where = [r.branch, r.commitSha && `@ ${sha(r.commitSha)}`, r.commitTitle && `"${firstLine(r.commitTitle, 80)}"`].filter(Boolean).join(' ');
			const ci = [r.mrIid !== null && `MR !${r.mrIid}`, r.pipelineId && `pipeline ${r.pipelineId}`, r.jobName && `job ${r.jobName}${shard ? ` (shard ${shard})` : ''}`, r.jobUrl]
				.filter(Boolean)
				.join(', ');
			const lines = [
				`Run ${r.id}: ${r.status}${where ? `, ${where}` : ''}`,
				...(ci ? [`CI: ${ci}`] : []),
				`Started ${when(r.startedAt)}${r.durationMs !== null ? `, took ${Math.round(r.durationMs / 1000)} s` : ''}. ${r.total} tests: ${r.expected} passed, ${r.unexpected} failed, ${r.flaky} flaky, ${r.skipped} skipped.`
			];
			if (r.infraFailure) lines.push(`Judged an infrastructure failure${r.infraReason ? `: ${r.infraReason}` : ''}; its failures do not count against the tests.`);
			if (r.shards.length > 1) lines.push(`Shards: ${r.shards.map((s) => `${s.shardIndex ?? '?'}/${s.shardTotal ?? '?'} ${s.status}`).join(', ')}.`);
			if (failures.length === 0) lines.push('No test failed or needed a retry.');
			else {
				lines.push('Failed and flaky tests:');
				for (const f of failures) {
					lines.push(
						`- [${f.outcome === 'unexpected' ? 'failed' : 'flaky'}] ${f.title} (${f.file}, ${f.playwrightProject}), verdict ${f.verdict ?? 'none yet'}: ${meaning(f.outcome, f.verdict)}${f.error ? `; ${f.error}` : ''}. id ${f.testId}`
					);
				}
			}
			return result(lines.join('\n'), {
				run: {
					id: r.id,
					projectId: r.projectId,
					status: r.status,
					branch: r.branch,
					commitSha: r.commitSha,
					commitTitle: r.commitTitle,
					pipelineId: r.pipelineId,
					pipelineUrl: r.pipelineUrl,
					jobName: r.jobName,
					jobUrl: r.jobUrl,
					mrIid: r.mrIid,
					shard,
					startedAt: r.startedAt,
					durationMs: r.durationMs,
					total: r.total,
					passed: r.expected,
					failed: r.unexpected,
					flaky: r.flaky,
					skipped: r.skipped,
					infraFailure: r.infraFailure,
					infraReason: r.infraReason
				},
				failures
			});
		}
	);
}
