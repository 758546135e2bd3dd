/**
 * `flackyness-reporter burn-in`: new tests are where flakiness enters a suite. Before a merge, the
 * tests the default branch has never run are repeated N times, without retries, so that a test that
 * fails now and then is caught while its author is still at it.
 *
 *  1. `playwright test --list --reporter=json` lists the local tests without running them;
 *  2. the server says which of them have no result on the default branch (`POST /api/v1/tests/new`);
 *  3. `playwright test --repeat-each N --retries 0 --grep <exactly those tests>` runs them, with the
 *     reporter of the user's config streaming the results (the repetitions of a test are sent as one
 *     result, see repeats.ts) and writing them to a file, from which the verdict is read.
 *
 * A server that can't answer never blocks a pipeline: nothing is run, a line says why, exit code 0.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { JSONReport, JSONReportSuite } from '@playwright/test/reporter';
import { displayTitle } from './fail-on.js';
import HttpClient from './http-client.js';
import { displayUrl, type LineWriter } from './log.js';
import { optionEnvVars, resolveOptions } from './options.js';
import { MAX_NEW_TESTS, newTestsResponseSchema, type NewTest, type TestResultInput } from './protocol.js';
import type { TestIdentity } from './quarantine.js';
import { serializeTest, type SuiteLike } from './serialize.js';
import { parseSpool, readJsonFile } from './spool.js';

export const DEFAULT_REPEAT_EACH = 10;
export const DEFAULT_MAX_TESTS = 50;
/** The server stores at most 100 attempts per result, and each repetition is one. */
export const MAX_REPEAT_EACH = 100;
/** The selection is one `--grep` argument: Linux refuses a single argument over 128 KiB. */
export const MAX_MAX_TESTS = 500;
const MAX_PATTERN_LENGTH = 100_000;
/** The question is asked before anything runs: a CI job should not wait long for it. */
const ASK_TIMEOUT_MS = 30_000;

export interface BurnInOptions {
	repeatEach: number;
	maxTests: number;
	/** Given after `--`: passed to both `playwright test` invocations (config, project, workers…). */
	playwrightArgs: string[];
	/** `--url`, which wins over FLACKYNESS_URL. */
	url?: string;
}

export interface BurnInContext {
	env: Record<string, string | undefined>;
	cwd: string;
	print: LineWriter;
}

/** A listed test: its identity on the server, and what Playwright's `--grep` matches it by. */
export interface ListedTest extends TestIdentity {
	/** The project's name, the file as Playwright names it (relative to the test directory), the describe blocks' titles, the test's. */
	grepTitles: string[];
}

/**
 * Every test of a `--list` JSON report, once per Playwright project, identified as the reporter
 * identifies it when it sends its result.
 */
export function listedTests(report: JSONReport): ListedTest[] {
	const rootDir = report.config.rootDir;
	const out: ListedTest[] = [];
	const walk = (suite: JSONReportSuite, parent: SuiteLike | undefined, describes: string[]) => {
		const here: SuiteLike = { title: suite.title, type: parent ? 'describe' : 'file', ...(parent ? { parent } : {}), project: () => undefined };
		const titles = parent && suite.title !== '' ? [...describes, suite.title] : describes;
		for (const spec of suite.specs) {
			for (const test of spec.tests) {
				const serialized = serializeTest(
					{
						title: spec.title,
						tags: spec.tags,
						expectedStatus: test.expectedStatus,
						retries: 0,
						location: { file: path.join(rootDir, spec.file), line: spec.line, column: spec.column },
						outcome: () => 'skipped',
						annotations: [],
						results: [],
						parent: { ...here, project: () => ({ name: test.projectName }) }
					},
					rootDir,
					new Date()
				);
				out.push({
					file: serialized.file,
					titlePath: serialized.titlePath,
					projectName: serialized.projectName ?? '',
					grepTitles: [test.projectName, spec.file, ...titles, spec.title]
				});
			}
		}
		for (const child of suite.suites ?? []) walk(child, here, titles);
	};
	for (const suite of report.suites) walk(suite, undefined, []);
	return out;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * One `--grep` that matches exactly these tests. Playwright matches it against the project's name,
 * the file, the describe blocks' titles and the test's title joined by spaces, each followed by its
 * tags (`@slow`); older versions start with the root's empty title, hence an optional first space.
 * Every title is matched whole, in place, so a test is selected only with its own project, file and
 * title path (tests declared at one place in a loop included). In the `/…/` form the pattern is
 * case-sensitive.
 */
export function grepFor(tests: readonly ListedTest[]): string {
	const tags = '(?: @[^ ]*)*';
	const one = (t: ListedTest) => t.grepTitles.map((title) => `${escapeRegExp(title)}${tags}`).join(' ');
	return `/^ ?(?:${tests.map(one).join('|')})$/`;
}

const keyOf = (t: TestIdentity) => JSON.stringify([t.projectName, t.file, t.titlePath]);

interface Exit {
	code: number | null;
	signal: NodeJS.Signals | null;
}

function runNode(args: string[], cwd: string, env: Record<string, string | undefined>, stdout: 'inherit' | 'ignore'): Promise<Exit> {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, args, { cwd, env: env as NodeJS.ProcessEnv, stdio: ['ignore', stdout, 'inherit'] });
		child.on('error', reject);
		child.on('close', (code, signal) => resolve({ code, signal }));
	});
}

/** Playwright's CLI as the project at `cwd` installed it. */
function playwrightCli(cwd: string): string | undefined {
	try {
		return createRequire(path.join(cwd, 'package.json')).resolve('@playwright/test/cli');
	} catch {
		return undefined;
	}
}

/** The environment of a child Playwright, its JSON reporter writing to `jsonFile`. */
function childEnv(env: Record<string, string | undefined>, extra: Record<string, string>): Record<string, string | undefined> {
	const out = { ...env };
	for (const k of ['PLAYWRIGHT_JSON_OUTPUT_FILE', 'PLAYWRIGHT_JSON_OUTPUT_DIR', 'PLAYWRIGHT_JSON_OUTPUT_NAME']) delete out[k];
	return { ...out, ...extra };
}

type Asked = { tests: NewTest[] } | { error: string };

/** What the server says of `tests`, in their order; an error (never thrown) when it can't say. */
async function askServer(url: string, token: string, tests: readonly TestIdentity[], requestTimeoutMs: number): Promise<Asked> {
	const http = new HttpClient({ baseUrl: url, token, requestTimeoutMs: Math.min(requestTimeoutMs, ASK_TIMEOUT_MS) });
	http.armDeadline(ASK_TIMEOUT_MS);
	try {
		const answers: NewTest[] = [];
		for (let i = 0; i < tests.length; i += MAX_NEW_TESTS) {
			const chunk = tests.slice(i, i + MAX_NEW_TESTS);
			const res = await http.request({
				method: 'POST',
				path: '/api/v1/tests/new',
				json: { tests: chunk.map(({ file, titlePath, projectName }) => ({ file, titlePath, projectName })) },
				maxAttempts: 2
			});
			const parsed = newTestsResponseSchema.safeParse(res.body);
			if (!parsed.success || parsed.data.tests.length !== chunk.length) return { error: 'unexpected answer (is the URL the Flackyness server?)' };
			answers.push(...parsed.data.tests);
		}
		return { tests: answers };
	} catch (err) {
		return { error: (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 300) };
	} finally {
		await http.close();
	}
}

/** The results the reporter wrote to its output file, by identity; undefined when it wrote none. */
function readResults(file: string): Map<string, TestResultInput> | undefined {
	if (!existsSync(file)) return undefined;
	try {
		const spool = parseSpool(readJsonFile(file));
		return new Map(spool.results.map((r) => [keyOf({ file: r.file, titlePath: r.titlePath, projectName: r.projectName ?? '' }), r]));
	} catch {
		return undefined;
	}
}

function repeatsLine(test: TestIdentity, result: TestResultInput | undefined, repeatEach: number): string {
	const name = displayTitle(test);
	if (!result || result.attempts === 0) return `burn-in: ${name} — did not run`;
	if (result.failedAttempts > 0) return `burn-in: ${name} — FAILED ${result.failedAttempts} of ${result.attempts} runs`;
	if (result.outcome === 'skipped') return `burn-in: ${name} — skipped`;
	return `burn-in: ${name} — passed ${result.attempts} of ${result.attempts} runs${result.attempts < repeatEach ? ` (of ${repeatEach} asked)` : ''}`;
}

/** The new tests run, and what exit code burn-in ends with. */
export async function burnIn(options: BurnInOptions, ctx: BurnInContext): Promise<number> {
	const { env, cwd, print } = ctx;
	const { url: envUrl, token, requestTimeoutMs } = resolveOptions({}, env, print);
	const url = options.url ?? envUrl;
	if (!url || !token) {
		print(`burn-in: skipped, nothing run: ${optionEnvVars.url} and ${optionEnvVars.token} are needed to know which tests are new`);
		return 0;
	}
	const cli = playwrightCli(cwd);
	if (!cli) {
		print(`burn-in: @playwright/test is not installed in ${cwd}`);
		return 2;
	}
	const tmp = mkdtempSync(path.join(os.tmpdir(), 'flackyness-burn-in-'));
	try {
		// 1. The local tests, listed without running them (the config's reporters do not run).
		const listFile = path.join(tmp, 'list.json');
		const listed = await runNode([cli, 'test', ...options.playwrightArgs, '--list', '--reporter=json'], cwd, childEnv(env, { PLAYWRIGHT_JSON_OUTPUT_NAME: listFile }), 'ignore');
		if (listed.code !== 0 || !existsSync(listFile)) {
			print(`burn-in: playwright test --list failed (exit code ${listed.code ?? listed.signal}); nothing run`);
			return listed.code || 1;
		}
		const tests = listedTests(JSON.parse(readFileSync(listFile, 'utf8')) as JSONReport);
		if (tests.length === 0) {
			print('burn-in: no tests found; nothing run');
			return 0;
		}

		// 2. Which of them the default branch has never run.
		const asked = await askServer(url, token, tests, requestTimeoutMs);
		if ('error' in asked) {
			print(`burn-in: skipped, nothing run: the server at ${displayUrl(url)} could not say which tests are new (${asked.error})`);
			return 0;
		}
		const fresh = tests.filter((_, i) => asked.tests[i]!.isNew);
		if (fresh.length === 0) {
			print(`burn-in: none of the ${tests.length} tests is new (all have run on the default branch); nothing run`);
			return 0;
		}
		let chosen = fresh.slice(0, options.maxTests);
		while (chosen.length > 1 && grepFor(chosen).length > MAX_PATTERN_LENGTH) chosen = chosen.slice(0, -1);
		const left = fresh.length - chosen.length;
		print(
			`burn-in: ${fresh.length} of ${tests.length} tests are new; running ${chosen.length === fresh.length ? 'each' : `${chosen.length} of them (--max-tests)`} ${options.repeatEach} times`
		);
		for (const t of chosen) print(`burn-in: new: ${displayTitle(t)}`);

		// 3. Exactly those, repeated, without retries; the reporter of the config sends the results and writes them here.
		const resultsFile = path.join(tmp, 'results.json');
		const run = await runNode(
			[cli, 'test', ...options.playwrightArgs, '--repeat-each', String(options.repeatEach), '--retries', '0', '--pass-with-no-tests', '--grep', grepFor(chosen)],
			cwd,
			// The run's own result decides nothing here: no verdict may forgive a failure of a new test.
			childEnv(env, { [optionEnvVars.url]: url, [optionEnvVars.outputFile]: resultsFile, [optionEnvVars.failOn]: 'all', [optionEnvVars.quarantine]: 'off' }),
			'inherit'
		);
		const results = readResults(resultsFile);
		if (!results) {
			print('burn-in: flackyness-reporter did not report (is it among the reporters of playwright.config.ts?): the results were not recorded');
			print(`burn-in: playwright exited with ${run.code ?? run.signal}`);
			return run.code === 0 ? 0 : 1;
		}
		const lines = chosen.map((t) => ({ t, result: results.get(keyOf(t)) }));
		for (const { t, result } of lines) print(repeatsLine(t, result, options.repeatEach));
		const failed = lines.filter(({ result }) => result && result.failedAttempts > 0).length;
		const ran = lines.filter(({ result }) => result && result.attempts > 0).length;
		if (left > 0) print(`burn-in: ${left} more new tests were not run (--max-tests ${options.maxTests})`);
		if (failed > 0) {
			print(`burn-in: ${failed} new test${failed === 1 ? '' : 's'} failed at least once in ${options.repeatEach} runs: flaky or broken before the merge`);
			return 1;
		}
		if (ran < chosen.length) print(`burn-in: ${chosen.length - ran} of ${chosen.length} new tests did not run; none of those that ran failed`);
		else if (run.code !== 0) print(`burn-in: no new test failed, but playwright exited with ${run.code ?? run.signal}`);
		else print(`burn-in: every new test passed ${options.repeatEach} times`);
		return 0;
	} finally {
		rmSync(tmp, { recursive: true, force: true });
	}
}
