import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testResultInputSchema, type TestResultData, type TestStatus } from 'flackyness-reporter/protocol';
import { runPlaywrightJson, type PwRun } from '../../test/helpers/pw-run.js';
import { stripAnsi } from 'flackyness-reporter/playwright-data';
import { errorFingerprint } from './errors.js';
import {
	MAX_SUITE_DEPTH,
	MAX_TESTS,
	ReportFormatError,
	computeOutcome,
	formatReportPath,
	parsePlaywrightReport
} from './playwright-json.js';

// shared/ lies beside the repository (see DEVELOPERS.md), in development and in CI alike.
const FIXTURES = fileURLToPath(new URL('../../test/fixtures/playwright-json', import.meta.url));

/** The report as Playwright wrote it, only as deep as these tests read it. */
interface RawResult {
	status: TestStatus;
	duration?: number;
	startTime?: string;
	[key: string]: unknown;
}
interface RawTest {
	projectName: string;
	expectedStatus: TestStatus;
	status?: string;
	results: RawResult[];
	[key: string]: unknown;
}
interface RawSpec {
	title: string;
	file?: string;
	tags?: string[];
	tests: RawTest[];
	[key: string]: unknown;
}
interface RawSuite {
	title: string;
	file?: string;
	specs: RawSpec[];
	suites?: RawSuite[];
	[key: string]: unknown;
}
interface RawReport {
	config: Record<string, unknown>;
	suites: RawSuite[];
	errors: unknown[];
	stats?: { startTime: string; duration: number; expected: number; unexpected: number; flaky: number; skipped: number };
	[key: string]: unknown;
}

function rawTests(report: RawReport): Array<{ spec: RawSpec; test: RawTest }> {
	const out: Array<{ spec: RawSpec; test: RawTest }> = [];
	const walk = (suite: RawSuite): void => {
		for (const spec of suite.specs) for (const test of spec.tests) out.push({ spec, test });
		for (const child of suite.suites ?? []) walk(child);
	};
	report.suites.forEach(walk);
	return out;
}

function outcomeCounts(results: TestResultData[]): Record<'expected' | 'unexpected' | 'flaky' | 'skipped', number> {
	const counts = { expected: 0, unexpected: 0, flaky: 0, skipped: 0 };
	for (const result of results) counts[result.outcome]++;
	return counts;
}

function statsCounts(report: RawReport): ReturnType<typeof outcomeCounts> | undefined {
	if (!report.stats) return undefined;
	const { expected, unexpected, flaky, skipped } = report.stats;
	return { expected, unexpected, flaky, skipped };
}

function withoutTestStatus(report: RawReport): RawReport {
	const copy = structuredClone(report);
	for (const { test } of rawTests(copy)) delete test.status;
	return copy;
}

function find(results: TestResultData[], title: string, projectName = ''): TestResultData {
	const found = results.filter((r) => r.titlePath.at(-1) === title && r.projectName === projectName);
	if (found.length !== 1) throw new Error(`expected one result "${title}" [${projectName}], found ${found.length}`);
	return found[0]!;
}

function formatErrorOf(run: () => unknown): ReportFormatError {
	try {
		run();
	} catch (error) {
		if (error instanceof ReportFormatError) return error;
		throw error;
	}
	throw new Error('expected a ReportFormatError');
}

async function readShared(name: string): Promise<RawReport> {
	return JSON.parse(await readFile(path.join(FIXTURES, name), 'utf8')) as RawReport;
}

/** A minimal well-formed report to mutate. */
function tinyReport(): RawReport {
	return {
		config: { version: '1.65.1', rootDir: '/repo/tests', shard: null },
		suites: [
			{
				title: 'a.spec.ts',
				file: 'a.spec.ts',
				specs: [
					{
						title: 'works',
						file: 'a.spec.ts',
						tags: [],
						tests: [
							{
								projectName: 'chromium',
								expectedStatus: 'passed',
								status: 'expected',
								annotations: [],
								results: [{ status: 'passed', duration: 12, startTime: '2025-01-02T03:04:05.000Z', errors: [] }]
							}
						]
					}
				]
			}
		],
		errors: [],
		stats: {
			startTime: '2025-01-02T03:04:00.000Z',
			duration: 1500.5,
			expected: 1,
			unexpected: 0,
			flaky: 0,
			skipped: 0
		}
	};
}

function firstTest(report: RawReport): RawTest {
	return report.suites[0]!.specs[0]!.tests[0]!;
}

describe('real reports from other projects (1.37 to 1.40)', () => {
	let names: string[] = [];
	beforeAll(async () => {
		names = (await readdir(FIXTURES)).filter((name) => name.endsWith('.json') && !name.includes('invalid'));
	});

	it('finds the fixtures', () => {
		expect(names.length).toBeGreaterThanOrEqual(6);
	});

	it('parses each one into valid results whose outcomes match the report', async () => {
		for (const name of names) {
			const raw = await readShared(name);
			const parsed = parsePlaywrightReport(raw);
			expect(parsed.results.length, name).toBe(rawTests(raw).length);
			for (const result of parsed.results) expect(testResultInputSchema.parse(result), name).toEqual(result);
			const fromTests = { expected: 0, unexpected: 0, flaky: 0, skipped: 0 };
			for (const { test } of rawTests(raw)) fromTests[test.status as keyof typeof fromTests]++;
			expect(outcomeCounts(parsed.results), name).toEqual(statsCounts(raw) ?? fromTests);
		}
	});

	it('derives the same outcomes as Playwright when tests carry no status', async () => {
		for (const name of names) {
			const raw = await readShared(name);
			const derived = parsePlaywrightReport(withoutTestStatus(raw));
			expect(derived, name).toEqual(parsePlaywrightReport(raw));
		}
	});

	it('rejects the invalid one, which has no suites, naming the field', async () => {
		const raw = await readShared('pw1.37-report-invalid.json');
		const error = formatErrorOf(() => parsePlaywrightReport(raw));
		expect(error.path).toEqual(['suites']);
		expect(error.message).toMatch(/expected array/);
	});

	it('reads a sharded 1.37 run without stats', async () => {
		const parsed = parsePlaywrightReport(await readShared('pw1.37-report-valid.json'));
		expect(parsed.playwrightVersion).toBe('1.37.1');
		expect(parsed.shard).toEqual({ current: 1, total: 2 });
		expect(parsed.durationMs).toBeUndefined();
		expect(parsed.status).toBe('failed');
		expect(parsed.onlyFailures).toBe(false);
		// Without stats the run starts with its earliest attempt.
		const earliest = parsed.results.map((r) => r.startedAt).sort()[0];
		expect(parsed.startedAt).toBe(earliest);

		const flaky = find(parsed.results, 'multiplies', 'chromium');
		expect(flaky).toMatchObject({
			file: 'multiply.spec.ts',
			titlePath: ['multiply', 'multiplies'],
			outcome: 'flaky',
			status: 'passed',
			attempts: 3,
			failedAttempts: 2
		});
		expect(flaky.error?.location).toBe('multiply.spec.ts:10:26');
		expect(flaky.error?.message.includes('\u001b')).toBe(false);
		expect(flaky.error?.message).toMatch(/^Error: expect\(received\)\.toBe\(expected\)/);
		expect(flaky.error?.stack).toMatch(/at \/project\/tests\/functional\/multiply\.spec\.ts:10:26/);
	});

	it('treats missing result durations as 0', async () => {
		// Despite its name, the "without-duration" fixture only lacks config.metadata.totalTime
		// (what its source project read); the result durations are removed here.
		const valid = await readShared('pw1.37-report-valid.json');
		expect(parsePlaywrightReport(await readShared('pw1.37-report-without-duration.json'))).toEqual(
			parsePlaywrightReport(valid)
		);
		const withoutDurations = structuredClone(valid);
		for (const { test } of rawTests(withoutDurations)) for (const result of test.results) delete result.duration;
		const parsed = parsePlaywrightReport(withoutDurations);
		expect(parsed.results.every((r) => r.durationMs === 0)).toBe(true);
		expect(parsed.results.map(({ durationMs: _, ...rest }) => rest)).toEqual(
			parsePlaywrightReport(valid).results.map(({ durationMs: _, ...rest }) => rest)
		);
		expect(parsePlaywrightReport(valid).results.some((r) => r.durationMs > 0)).toBe(true);
	});

	it('keeps describe titles, not the file suite, in the title path of nested suites', async () => {
		const raw = await readShared('pw1.37-report-nested.json');
		const parsed = parsePlaywrightReport(raw);
		const deepest = Math.max(...parsed.results.map((r) => r.titlePath.length));
		expect(deepest).toBe(4);
		for (const result of parsed.results) {
			expect(result.titlePath[0]).not.toBe(result.file);
			expect(['chromium', 'firefox', 'webkit']).toContain(result.projectName);
		}
	});

	it('reads a merged report (shard null, no projects) and the 1.40 stats block', async () => {
		const merged = parsePlaywrightReport(await readShared('pw1.37-report-sharded.json'));
		expect(merged.shard).toBeNull();
		expect(merged.results).toHaveLength(27);

		const slack = await readShared('pw1.40-slack-valid.json');
		const parsed = parsePlaywrightReport(slack);
		expect(parsed.startedAt).toBe('2023-11-19T09:04:07.690Z');
		expect(parsed.durationMs).toBe(8557);
		// Windows paths: locations come out relative to rootDir "C:/_repo/test-slick/tests".
		const failed = parsed.results.find((r) => r.outcome === 'unexpected' && r.error?.location);
		expect(failed?.error?.location).toMatch(/^example\.spec\.ts:\d+:\d+$/);

		const complex = parsePlaywrightReport(await readShared('pw1.40-slack-complex.json'));
		expect(complex.results.every((r) => r.projectName === '')).toBe(true);
	});
});

describe('reports written by the Playwright runner (1.65)', () => {
	let outDir = '';
	const runs: Record<'full' | 'shard' | 'onlyFailures' | 'interrupted' | 'broken' | 'repeated', PwRun> = {} as never;

	beforeAll(async () => {
		outDir = await mkdtemp(path.join(os.tmpdir(), 'flackyness-pw-json-'));
		const semantics = 'semantics/playwright.config.ts';
		// Two at a time: enough to overlap start-up, few enough not to starve the 300 ms timeout test.
		await Promise.all([
			(async () => {
				runs.full = await runPlaywrightJson({ config: semantics, outDir, name: 'full' });
				runs.onlyFailures = await runPlaywrightJson({
					config: 'semantics/only-failures.config.ts',
					args: ['--project=beta'],
					jsonReporterFlag: false,
					outDir,
					name: 'only-failures'
				});
				runs.broken = await runPlaywrightJson({ config: 'broken/playwright.config.ts', outDir, name: 'broken' });
			})(),
			(async () => {
				runs.shard = await runPlaywrightJson({ config: semantics, args: ['--shard=1/2'], outDir, name: 'shard' });
				runs.interrupted = await runPlaywrightJson({
					config: 'interrupted/playwright.config.ts',
					interruptOnMarker: true,
					outDir,
					name: 'interrupted'
				});
				runs.repeated = await runPlaywrightJson({
					config: semantics,
					args: ['--repeat-each=2', '--project=alpha', '--grep=passes$|statically'],
					outDir,
					name: 'repeated'
				});
			})()
		]);
		// Six real runs; generous because CI machines share their CPUs.
	}, 600_000);

	afterAll(async () => {
		if (outDir) await rm(outDir, { recursive: true, force: true });
	});

	const report = (name: keyof typeof runs): RawReport => runs[name].report as RawReport;

	it('counts the same outcomes as Playwright’s own stats, in every run', () => {
		for (const name of Object.keys(runs) as Array<keyof typeof runs>) {
			const parsed = parsePlaywrightReport(report(name));
			if (name === 'repeated') continue; // duplicates are collapsed, see below
			expect(outcomeCounts(parsed.results), name).toEqual(statsCounts(report(name)));
			expect(parsed.playwrightVersion, name).toBe('1.65.1');
			expect(parsed.startedAt, name).toBe(report(name).stats?.startTime);
			expect(parsed.durationMs, name).toBe(Math.round(report(name).stats?.duration ?? -1));
		}
		expect(statsCounts(report('full'))).toEqual({ expected: 11, unexpected: 7, flaky: 2, skipped: 6 });
	});

	it('derives every outcome as Playwright’s TestCase.outcome() does', () => {
		for (const name of Object.keys(runs) as Array<keyof typeof runs>) {
			for (const { spec, test } of rawTests(report(name))) {
				expect(computeOutcome(test.results, test.expectedStatus), `${name}: ${spec.title}`).toBe(test.status);
			}
			expect(parsePlaywrightReport(withoutTestStatus(report(name))), name).toEqual(parsePlaywrightReport(report(name)));
		}
	});

	it('reports the run status Playwright exited with', () => {
		expect(runs.full.exitCode).toBe(1);
		expect(parsePlaywrightReport(report('full')).status).toBe('failed');
		expect(runs.interrupted.exitCode).toBe(130);
		expect(parsePlaywrightReport(report('interrupted')).status).toBe('interrupted');
		expect(parsePlaywrightReport(report('broken')).status).toBe('failed');
	});

	it('gives each test its identity, attempts and timing', () => {
		const raw = report('full');
		const parsed = parsePlaywrightReport(raw);
		expect(parsed.results).toHaveLength(26);
		expect(parsed.shard).toBeNull();
		for (const result of parsed.results) expect(testResultInputSchema.parse(result)).toEqual(result);

		for (const { spec, test } of rawTests(raw)) {
			const result = parsed.results.find(
				(r) => r.titlePath.at(-1) === spec.title && r.projectName === test.projectName && r.file === spec.file
			);
			expect(result, spec.title).toBeDefined();
			const durations = test.results.reduce((sum, r) => sum + (r.duration ?? 0), 0);
			expect(result?.durationMs).toBe(Math.round(durations));
			expect(result?.startedAt).toBe(test.results[0]?.startTime);
			expect(result?.attempts).toBe(test.results.length);
		}

		const expectations: Array<[string, string, Partial<TestResultData>]> = [
			['passes', 'alpha', { outcome: 'expected', status: 'passed', attempts: 1, failedAttempts: 0, expectedStatus: 'passed' }],
			['fails every attempt', 'beta', { outcome: 'unexpected', status: 'failed', attempts: 2, failedAttempts: 2 }],
			['fails on the first attempt only', 'alpha', { outcome: 'flaky', status: 'passed', attempts: 2, failedAttempts: 1 }],
			['skipped statically', 'alpha', { outcome: 'skipped', status: 'skipped', attempts: 1, expectedStatus: 'skipped' }],
			['skipped at runtime', 'beta', { outcome: 'skipped', status: 'skipped', failedAttempts: 0 }],
			['fixme', 'alpha', { outcome: 'skipped', status: 'skipped', expectedStatus: 'skipped' }],
			['expected to fail and fails', 'alpha', { outcome: 'expected', status: 'failed', expectedStatus: 'failed', failedAttempts: 0 }],
			['expected to fail but passes', 'beta', { outcome: 'unexpected', status: 'passed', expectedStatus: 'failed', failedAttempts: 2 }],
			['times out', 'alpha', { outcome: 'unexpected', status: 'timedOut', attempts: 2, failedAttempts: 2 }],
			['fails only in beta', 'alpha', { outcome: 'expected', status: 'passed' }],
			['fails only in beta', 'beta', { outcome: 'unexpected', status: 'failed' }]
		];
		for (const [title, project, expected] of expectations) {
			expect(find(parsed.results, title, project), `${title} [${project}]`).toMatchObject(expected);
		}
		expect(find(parsed.results, 'passes', 'alpha')).toMatchObject({ file: 'outcomes.spec.ts', titlePath: ['passes'] });
		expect(find(parsed.results, 'passes', 'alpha').error).toBeUndefined();
		expect(find(parsed.results, 'expected to fail and fails', 'alpha').error).toBeUndefined();
	});

	it('reads tags from the report and describe titles into the title path', () => {
		const parsed = parsePlaywrightReport(report('full'));
		expect(find(parsed.results, 'tagged by details', 'beta')).toMatchObject({
			file: 'identity.spec.ts',
			titlePath: ['outer @area', 'inner', 'tagged by details'],
			tags: ['area', 'smoke', 'fast']
		});
		expect(find(parsed.results, 'tagged in title @legacy', 'alpha').tags).toEqual(['area', 'legacy']);
		expect(find(parsed.results, 'passes', 'alpha').tags).toEqual([]);
	});

	it('merges test and result annotations without duplicates', () => {
		const parsed = parsePlaywrightReport(report('full'));
		expect(find(parsed.results, 'annotated', 'alpha').annotations).toEqual([
			{ type: 'issue', description: 'https://example.test/issues/1' },
			{ type: 'runtime', description: 'retry 0' }
		]);
		expect(find(parsed.results, 'skipped at runtime', 'alpha').annotations).toEqual([
			{ type: 'skip', description: 'not on this platform' }
		]);
		expect(find(parsed.results, 'expected to fail but passes', 'alpha').annotations).toEqual([{ type: 'fail' }]);
	});

	it('keeps the first error of the first failed attempt, without ANSI codes', () => {
		const parsed = parsePlaywrightReport(report('full'));
		const assertion = find(parsed.results, 'fails every attempt', 'alpha').error;
		expect(assertion?.location).toBe('outcomes.spec.ts:8:42');
		expect(assertion?.message).toMatch(/^Error: arithmetic still works\n/);
		expect(assertion?.message).toContain('Expected: 3\nReceived: 2');
		expect(assertion?.message).toBe(stripAnsi(assertion?.message ?? ''));
		expect(assertion?.stack).toMatch(/^Error: arithmetic still works[\s\S]*outcomes\.spec\.ts:8:42$/);

		const flaky = find(parsed.results, 'fails on the first attempt only', 'beta').error;
		expect(flaky?.message).toMatch(/^Error: passes on retry/);

		expect(find(parsed.results, 'times out', 'beta').error?.message).toBe('Test timeout of 300ms exceeded.');
		expect(find(parsed.results, 'expected to fail but passes', 'alpha').error).toEqual({
			message: 'Expected to fail, but passed.'
		});
		// The same failure in two projects clusters under one fingerprint.
		expect(errorFingerprint(assertion?.message ?? '')).toBe(
			errorFingerprint(find(parsed.results, 'fails every attempt', 'beta').error?.message ?? 'x')
		);
	});

	it('reads --shard=1/2', () => {
		const parsed = parsePlaywrightReport(report('shard'));
		expect(parsed.shard).toEqual({ current: 1, total: 2 });
		const full = parsePlaywrightReport(report('full'));
		const identities = new Set(full.results.map((r) => JSON.stringify([r.file, r.titlePath, r.projectName])));
		expect(parsed.results.length).toBeGreaterThan(0);
		expect(parsed.results.length).toBeLessThan(full.results.length);
		for (const r of parsed.results) expect(identities.has(JSON.stringify([r.file, r.titlePath, r.projectName]))).toBe(true);
	});

	it('knows when the JSON reporter kept only failures', () => {
		expect(parsePlaywrightReport(report('full')).onlyFailures).toBe(false);
		const parsed = parsePlaywrightReport(report('onlyFailures'));
		expect(parsed.onlyFailures).toBe(true);
		expect(outcomeCounts(parsed.results)).toEqual({ expected: 0, unexpected: 4, flaky: 1, skipped: 0 });
		expect(parsed.results.every((r) => r.projectName === 'beta')).toBe(true);
	});

	it('reads an interrupted run: the interrupted attempt is neither a pass nor a failure', () => {
		const parsed = parsePlaywrightReport(report('interrupted'));
		expect(find(parsed.results, 'quick', 'only')).toMatchObject({ outcome: 'expected', status: 'passed' });
		const interrupted = find(parsed.results, 'waits to be interrupted', 'only');
		expect(interrupted).toMatchObject({ outcome: 'skipped', status: 'interrupted', attempts: 1, failedAttempts: 0 });
		expect(interrupted.error).toBeUndefined();
	});

	it('reports a spec file that failed to load as a report-level error', () => {
		const parsed = parsePlaywrightReport(report('broken'));
		expect(parsed.results).toEqual([]);
		expect(parsed.errors).toEqual(['Error: fixture setup exploded while loading 42 things']);
	});

	it('keeps one result per identity when a test repeats (--repeat-each)', () => {
		const raw = report('repeated');
		expect(rawTests(raw)).toHaveLength(6);
		const parsed = parsePlaywrightReport(raw);
		expect(parsed.results).toHaveLength(3);
		const starts = rawTests(raw)
			.filter(({ spec }) => spec.title === 'passes')
			.map(({ test }) => test.results[0]?.startTime ?? '');
		expect(find(parsed.results, 'passes', 'alpha').startedAt).toBe([...starts].sort().at(-1));
		// Duplicates still count towards the run's verdict.
		expect(parsed.status).toBe('failed');
	});
});

describe('report shapes the runner rarely writes', () => {
	it('takes the file from the suite when specs carry none, with forward slashes', () => {
		const raw = tinyReport();
		const suite = raw.suites[0]!;
		delete suite.specs[0]!.file;
		suite.file = 'e2e\\login.spec.ts';
		expect(parsePlaywrightReport(raw).results[0]?.file).toBe('e2e/login.spec.ts');
		delete suite.file;
		suite.title = './e2e/login.spec.ts';
		expect(parsePlaywrightReport(raw).results[0]?.file).toBe('e2e/login.spec.ts');
	});

	it('parses @tags from all titles up to 1.41 and when tags are missing, trusts the field after', () => {
		const raw = tinyReport();
		raw.suites[0]!.suites = [
			{ title: 'checkout @slow', specs: [{ title: 'pays @smoke @smoke', tags: ['smoke'], tests: [structuredClone(firstTest(raw))] }] }
		];
		const pays = (report: RawReport) => find(parsePlaywrightReport(report).results, 'pays @smoke @smoke', 'chromium');
		raw.config.version = '1.41.2';
		expect(pays(raw).tags).toEqual(['smoke', 'slow']);
		raw.config.version = '1.42.0';
		expect(pays(raw).tags).toEqual(['smoke']);
		delete raw.suites[0]!.suites[0]!.specs[0]!.tags;
		expect(pays(raw).tags).toEqual(['slow', 'smoke']);
		raw.suites[0]!.suites[0]!.specs[0]!.tags = ['@Already-prefixed'];
		expect(pays(raw).tags).toEqual(['Already-prefixed']);
	});

	it('leaves anonymous describe blocks out of the title path, as Playwright does', () => {
		const raw = tinyReport();
		const spec = raw.suites[0]!.specs.pop()!;
		raw.suites[0]!.suites = [{ title: '', specs: [], suites: [{ title: 'group', specs: [spec] }] }];
		expect(parsePlaywrightReport(raw).results[0]?.titlePath).toEqual(['group', 'works']);
	});

	it('accepts unknown fields anywhere and null for absent ones', () => {
		const raw = tinyReport();
		raw.newTopLevel = { anything: [1, 2] };
		raw.config.shard = null;
		raw.config.futureOption = true;
		raw.suites[0]!.futureSuiteField = 'x';
		raw.suites[0]!.suites = undefined;
		raw.suites[0]!.specs[0]!.futureSpecField = 1;
		const test = firstTest(raw);
		test.futureTestField = { nested: true };
		Object.assign(test.results[0]!, { futureResultField: [], error: null, annotations: null, steps: [{ subtitle: 's' }] });
		const parsed = parsePlaywrightReport(raw);
		expect(parsed.results).toHaveLength(1);
		expect(parsed.results[0]).toMatchObject({ outcome: 'expected', durationMs: 12, attempts: 1 });
	});

	it('gives a test that never ran 0 attempts, outcome skipped, and the run start', () => {
		const raw = tinyReport();
		const test = firstTest(raw);
		test.results = [];
		delete test.status;
		expect(parsePlaywrightReport(raw).results[0]).toMatchObject({
			outcome: 'skipped',
			status: 'skipped',
			attempts: 0,
			failedAttempts: 0,
			durationMs: 0,
			startedAt: '2025-01-02T03:04:00.000Z'
		});
		delete raw.stats;
		const now = new Date('2030-05-06T07:08:09.000Z');
		const parsed = parsePlaywrightReport(raw, { now });
		expect(parsed.results[0]?.startedAt).toBe(now.toISOString());
		expect(parsed.startedAt).toBeUndefined();
		expect(parsed.durationMs).toBeUndefined();
	});

	it('truncates long error text to the protocol limits, but rejects long titles', () => {
		const raw = tinyReport();
		const test = firstTest(raw);
		test.status = 'unexpected';
		// An emoji straddling the cut must not leave half a surrogate pair behind.
		const message = `${'x'.repeat(65_535)}😀 and more`;
		Object.assign(test.results[0]!, {
			status: 'failed',
			errors: [{ message: `\u001b[31m${message}\u001b[39m`, location: { file: '/repo/tests/a.spec.ts', line: 3, column: 9 } }],
			error: { message, stack: `Error: ${message}\n    at a.spec.ts:3:9` }
		});
		const error = parsePlaywrightReport(raw).results[0]?.error;
		expect(error?.message).toBe('x'.repeat(65_535));
		expect(error?.stack).toHaveLength(65_536);
		expect(error?.location).toBe('a.spec.ts:3:9');

		raw.suites[0]!.specs[0]!.title = 't'.repeat(2049);
		const tooLong = formatErrorOf(() => parsePlaywrightReport(raw));
		expect(formatReportPath(tooLong.path)).toBe('suites[0].specs[0].title');
	});

	it('keeps the entry with more attempts, then the later one, for a repeated identity', () => {
		const raw = tinyReport();
		const spec = raw.suites[0]!.specs[0]!;
		const once = firstTest(raw);
		const attempt = (status: TestStatus, startTime: string): RawResult => ({ status, duration: 5, startTime });
		const retried: RawTest = {
			...structuredClone(once),
			status: 'flaky',
			results: [attempt('failed', '2025-01-01T00:00:00.000Z'), attempt('passed', '2025-01-01T00:00:01.000Z')]
		};
		for (const order of [[retried, once], [once, retried]]) {
			spec.tests = order;
			const parsed = parsePlaywrightReport(raw);
			expect(parsed.results).toHaveLength(1);
			expect(parsed.results[0]).toMatchObject({ outcome: 'flaky', attempts: 2 });
		}

		const later: RawTest = { ...structuredClone(once), results: [attempt('passed', '2025-02-01T00:00:00.000Z')] };
		for (const order of [[later, once], [once, later]]) {
			spec.tests = order;
			expect(parsePlaywrightReport(raw).results[0]?.startedAt).toBe('2025-02-01T00:00:00.000Z');
		}
	});

	it('fails the run on flaky tests when the config says failOnFlakyTests', () => {
		const raw = tinyReport();
		firstTest(raw).status = 'flaky';
		expect(parsePlaywrightReport(raw).status).toBe('passed');
		raw.config.failOnFlakyTests = true;
		expect(parsePlaywrightReport(raw).status).toBe('failed');
	});

	it('reads onlyFailures from the config when a report states it', () => {
		const raw = tinyReport();
		raw.config.onlyFailures = true;
		expect(parsePlaywrightReport(raw).onlyFailures).toBe(true);
	});
});

describe('computeOutcome', () => {
	const cases: Array<[TestStatus, TestStatus[], string]> = [
		['passed', [], 'skipped'],
		['passed', ['passed'], 'expected'],
		['passed', ['failed', 'passed'], 'flaky'],
		['passed', ['timedOut', 'failed'], 'unexpected'],
		['passed', ['skipped'], 'skipped'],
		['skipped', ['skipped'], 'skipped'],
		['passed', ['interrupted'], 'skipped'],
		['passed', ['failed', 'interrupted'], 'unexpected'],
		['passed', ['passed', 'interrupted'], 'expected'],
		// test.fail(): failing is expected, passing is not
		['failed', ['failed'], 'expected'],
		['failed', ['passed', 'passed'], 'unexpected'],
		['failed', ['passed', 'failed'], 'flaky'],
		['failed', ['timedOut'], 'unexpected']
	];
	it.each(cases)('expected %s, attempts %j → %s', (expectedStatus, statuses, outcome) => {
		expect(computeOutcome(statuses.map((status) => ({ status })), expectedStatus)).toBe(outcome);
	});
});

describe('ReportFormatError', () => {
	it.each([null, undefined, 42, 'report', [], true])('rejects %j as a whole', (input) => {
		const error = formatErrorOf(() => parsePlaywrightReport(input));
		expect(error).toBeInstanceOf(Error);
		expect(error.name).toBe('ReportFormatError');
		expect(error.path).toEqual([]);
	});

	const mutations: Array<[string, (report: RawReport) => void, string]> = [
		['suites is not an array', (r) => Object.assign(r, { suites: {} }), 'suites'],
		['a suite is not an object', (r) => Object.assign(r, { suites: [r.suites[0], 'x'] }), 'suites[1]'],
		['specs has the wrong type', (r) => Object.assign(r.suites[0]!, { specs: 'none' }), 'suites[0].specs'],
		['tests is missing', (r) => delete (r.suites[0]!.specs[0] as Partial<RawSpec>).tests, 'suites[0].specs[0].tests'],
		['tests has the wrong type', (r) => Object.assign(r.suites[0]!.specs[0]!, { tests: {} }), 'suites[0].specs[0].tests'],
		['results has the wrong type', (r) => Object.assign(firstTest(r), { results: 'passed' }), 'suites[0].specs[0].tests[0].results'],
		['a status is unknown', (r) => Object.assign(firstTest(r).results[0]!, { status: 'ok' }), 'suites[0].specs[0].tests[0].results[0].status'],
		['a duration is a string', (r) => Object.assign(firstTest(r).results[0]!, { duration: '12' }), 'suites[0].specs[0].tests[0].results[0].duration'],
		['a start time is no date', (r) => Object.assign(firstTest(r).results[0]!, { startTime: 'yesterday' }), 'suites[0].specs[0].tests[0].results[0].startTime'],
		['an outcome is unknown', (r) => Object.assign(firstTest(r), { status: 'passed' }), 'suites[0].specs[0].tests[0].status'],
		['a project name is too long', (r) => Object.assign(firstTest(r), { projectName: 'p'.repeat(256) }), 'suites[0].specs[0].tests[0].projectName'],
		['a tag is too long', (r) => Object.assign(r.suites[0]!.specs[0]!, { tags: ['ok', 't'.repeat(256)] }), 'suites[0].specs[0].tags[1]'],
		['an error message is a number', (r) => Object.assign(firstTest(r).results[0]!, { errors: [{ message: 1 }] }), 'suites[0].specs[0].tests[0].results[0].errors[0].message'],
		['a describe title is too long', (r) => (r.suites[0]!.suites = [{ title: 'd'.repeat(2049), specs: [] }]), 'suites[0].suites[0].title'],
		['a start time is in the year 0', (r) => Object.assign(firstTest(r).results[0]!, { startTime: '0000-06-01T00:00:00Z' }), 'suites[0].specs[0].tests[0].results[0].startTime'],
		['a start time is past the year 9999', (r) => Object.assign(firstTest(r).results[0]!, { startTime: '+010000-01-01T00:00:00Z' }), 'suites[0].specs[0].tests[0].results[0].startTime'],
		['the shard overflows', (r) => (r.config.shard = { current: 1, total: 2 ** 31 }), 'config.shard.total'],
		['the shard is impossible', (r) => (r.config.shard = { current: 3, total: 2 }), 'config.shard'],
		['config is a string', (r) => Object.assign(r, { config: '1.65' }), 'config'],
		['no file is known', (r) => {
			r.suites[0]!.title = '';
			delete r.suites[0]!.file;
			delete r.suites[0]!.specs[0]!.file;
		}, 'suites[0].specs[0].file']
	];
	it('replaces lone surrogates and NUL with U+FFFD in every text it keeps', () => {
		const raw = tinyReport();
		raw.suites[0]!.specs[0]!.title = `a\u0000b${'😀'.slice(0, 1)}`;
		raw.config.version = '1.65\udc00';
		const parsed = parsePlaywrightReport(raw);
		expect(parsed.results[0]!.titlePath.at(-1)).toBe('a\uFFFDb\uFFFD');
		expect(parsed.playwrightVersion).toBe('1.65\uFFFD');
	});

	it.each(mutations)('names the field when %s', (_, mutate, expectedPath) => {
		const raw = tinyReport();
		mutate(raw);
		const error = formatErrorOf(() => parsePlaywrightReport(raw));
		expect(formatReportPath(error.path)).toBe(expectedPath);
		// The message says what is wrong; the path says where, once.
		expect(error.message.length).toBeGreaterThan(0);
		expect(error.message).not.toContain(expectedPath);
	});

	function nested(depth: number): RawReport {
		const raw = tinyReport();
		let suite = raw.suites[0]!;
		for (let level = 2; level <= depth; level++) {
			const child: RawSuite = { title: `level ${level}`, specs: [] };
			suite.suites = [child];
			suite = child;
		}
		suite.specs = [structuredClone(tinyReport().suites[0]!.specs[0]!)];
		raw.suites[0]!.specs = [];
		return raw;
	}

	it(`accepts suites nested ${MAX_SUITE_DEPTH} deep and rejects one more`, () => {
		expect(parsePlaywrightReport(nested(MAX_SUITE_DEPTH)).results[0]?.titlePath).toHaveLength(MAX_SUITE_DEPTH);
		const error = formatErrorOf(() => parsePlaywrightReport(nested(MAX_SUITE_DEPTH + 1)));
		expect(error.path).toEqual(['suites', 0, ...Array.from({ length: MAX_SUITE_DEPTH }, () => ['suites', 0]).flat()]);
		expect(error.message).toMatch(/nested more than 50 deep/);
	});

	it(`accepts ${MAX_TESTS} tests and rejects one more`, () => {
		const raw = tinyReport();
		const spec = raw.suites[0]!.specs[0]!;
		const template = firstTest(raw);
		spec.tests = Array.from({ length: MAX_TESTS }, (_, i) => ({ ...template, projectName: `p${i}` }));
		// How fast it parses is for the ingestion benchmark; here, only that the limit holds.
		expect(parsePlaywrightReport(raw).results).toHaveLength(MAX_TESTS);

		raw.suites.push({ title: 'b.spec.ts', specs: [{ title: 'one more', tests: [template] }] });
		const error = formatErrorOf(() => parsePlaywrightReport(raw));
		expect(formatReportPath(error.path)).toBe('suites[1].specs[0].tests');
	});
});
