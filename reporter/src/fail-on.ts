/**
 * `failOn: 'new'`: at the end of a failed run, the server is asked for the verdicts of the failed
 * tests, and the run passes only when every failure is known flaky or quarantined. Anything the
 * reporter is unsure of leaves Playwright's result as it is.
 */
import HttpClient from './http-client.js';
import { MAX_VERDICT_TESTS, verdictResponseSchema, type RunStatus, type TestVerdict } from './protocol.js';
import type { TestIdentity } from './quarantine.js';

export type VerdictAnswer = { verdicts: TestVerdict[] } | { error: string };

export interface FailOnDecision {
	/** Every failure is forgiven: the run passes. */
	pass: boolean;
	/** What to print, one line each. */
	lines: string[];
}

/** Lines listing failures beyond this are summed up in one: a broken build can fail thousands. */
const MAX_LISTED = 100;
const STANDS = "Playwright's result stands";

/**
 * Why the server is not asked, as the line to print ('' for nothing worth saying), or undefined
 * when it should be: only a run that failed because of its tests, and nothing else, can be forgiven.
 */
export function failOnSkip(status: RunStatus, failedTests: number, otherErrors: number, configured: boolean): string | undefined {
	if (status === 'passed') return '';
	if (status !== 'failed') return `failOn new: the run ended ${status === 'timedout' ? 'by the global timeout' : 'interrupted'}; ${STANDS}`;
	if (otherErrors > 0 || failedTests === 0) return `failOn new: the run failed outside its tests; ${STANDS}`;
	if (!configured) return `failOn new: no server to ask (FLACKYNESS_URL and FLACKYNESS_TOKEN); ${STANDS}`;
	if (failedTests > MAX_VERDICT_TESTS) return `failOn new: ${failedTests} failures are more than known flakes; ${STANDS}`;
	return undefined;
}

/** Where to ask for verdicts, and how long to wait for them. */
export interface VerdictServer {
	url: string;
	token: string;
	userAgent?: string;
	/** For the whole request, retry included: the answer is wanted at the very end of a CI job. */
	timeoutMs: number;
}

/**
 * The one verdict request of a run, shared by `failOn: 'new'` and the JUnit file (and the `junit`
 * command): within `timeoutMs`, never thrown.
 */
export async function requestVerdicts(server: VerdictServer, tests: readonly TestIdentity[]): Promise<VerdictAnswer> {
	const http = new HttpClient({ baseUrl: server.url, token: server.token, requestTimeoutMs: server.timeoutMs, userAgent: server.userAgent });
	http.armDeadline(server.timeoutMs);
	try {
		return await fetchVerdicts(http, tests);
	} finally {
		await http.close();
	}
}

/** The verdicts of `tests`, in their order; an error (never thrown) when the server can't say. */
export async function fetchVerdicts(http: HttpClient, tests: readonly TestIdentity[]): Promise<VerdictAnswer> {
	try {
		const res = await http.request({
			method: 'POST',
			path: '/api/v1/verdicts',
			json: { tests: tests.map(({ file, titlePath, projectName }) => ({ file, titlePath, projectName })) },
			maxAttempts: 2
		});
		const parsed = verdictResponseSchema.safeParse(res.body);
		if (!parsed.success || parsed.data.verdicts.length !== tests.length) return { error: 'unexpected answer (is the URL the Flackyness server?)' };
		return parsed.data;
	} catch (err) {
		return { error: (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 300) };
	}
}

function percentNumber(p: number): string {
	const x = p * 100;
	return x > 0 && x < 1 ? x.toFixed(1) : String(Math.round(x));
}

/** 0.07 → "7%", 0.004 → "0.4%". */
export function percent(p: number): string {
	return `${percentNumber(p)}%`;
}

export function displayTitle(t: TestIdentity): string {
	return [...(t.projectName ? [`[${t.projectName}]`] : []), t.file, ...t.titlePath].join(' › ');
}

/** "known flaky 7% (3–12%)": a flaky verdict with its failure chance, when the server has one. */
export function knownFlaky(v: TestVerdict): string {
	const c = v.failureChance;
	return c ? `known flaky ${percent(c.estimate)} (${percentNumber(c.low)}–${percent(c.high)})` : 'known flaky';
}

/** Why a failure is forgiven, or undefined when it is not. */
function forgiveness(v: TestVerdict): string | undefined {
	if (v.state === 'quarantined') {
		const until = v.quarantine?.until ? ` until ${v.quarantine.until.slice(0, 10)}` : '';
		const reason = v.quarantine?.reason ? `: ${v.quarantine.reason}` : '';
		return `quarantined${until}${reason}`;
	}
	return v.state === 'flaky' ? knownFlaky(v) : undefined;
}

/** What a failure that is not forgiven is. */
function unforgiven(v: TestVerdict): string {
	switch (v.state) {
		case 'broken':
			return v.brokenSince ? `broken on the default branch since ${v.brokenSince.commitSha.slice(0, 8)}` : 'broken on the default branch';
		case 'unknown':
			return v.testId ? 'new: no verdict yet' : 'new: never seen before';
		case 'suspect':
			return 'new: failed recently, not yet known flaky';
		case 'failing':
			return 'new: failing on a feature branch, never seen failing on the default branch';
		default:
			return `new: ${v.state} until now`;
	}
}

function listed(lines: string[]): string[] {
	return lines.length <= MAX_LISTED ? lines : [...lines.slice(0, MAX_LISTED), `… and ${lines.length - MAX_LISTED} more`];
}

/** The decision, from the failed tests and what the server said about them (in the same order). */
export function decideFailOn(failed: readonly TestIdentity[], answer: VerdictAnswer): FailOnDecision {
	if ('error' in answer) return { pass: false, lines: [`failOn new: no verdicts from the server (${answer.error}); ${STANDS}`] };
	const forgiven: string[] = [];
	const failing: string[] = [];
	failed.forEach((test, i) => {
		const verdict = answer.verdicts[i]!;
		const why = forgiveness(verdict);
		if (why) forgiven.push(`forgiven: ${displayTitle(test)} — ${why}`);
		else failing.push(`failing: ${displayTitle(test)} — ${unforgiven(verdict)}`);
	});
	const pass = failing.length === 0;
	const verdict = pass
		? `failOn new: ${failed.length === 1 ? 'the only failure is' : `all ${failed.length} failures are`} known flaky or quarantined: the run passes`
		: `failOn new: ${failing.length} of ${failed.length} failures are not known flaky or quarantined: the run fails`;
	return { pass, lines: [...listed(forgiven), ...listed(failing), verdict] };
}
