import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestResultData } from 'flackyness-reporter/protocol';
import { runJunitSuite, type JunitRun } from '../../test/fixtures/junit/run-suite.js';
import { JunitFormatError, MAX_ATTRIBUTE, MAX_XML_DEPTH, isXmlContentType, looksLikeXml, parseJunitReport } from './junit.js';
import { MAX_TESTS, parsePlaywrightReport } from './playwright-json.js';
import type { ParsedReport } from './types.js';

const FIXTURES = new URL('../../test/fixtures/junit/', import.meta.url);
const fixture = (name: string) => parseJunitReport(readFileSync(new URL(name, FIXTURES)));
const xml = (text: string) => Buffer.from(text, 'utf8');
const key = (r: Pick<TestResultData, 'file' | 'titlePath' | 'projectName'>) => JSON.stringify([r.file, r.titlePath, r.projectName]);
const byKey = (parsed: ParsedReport) => new Map(parsed.results.map((r) => [key(r), r]));
const one = (parsed: ParsedReport, ...titlePath: string[]) => {
	const found = parsed.results.filter((r) => JSON.stringify(r.titlePath) === JSON.stringify(titlePath));
	expect(found, titlePath.join(' › ')).toHaveLength(1);
	return found[0]!;
};

interface RawResult {
	status: string;
	duration: number;
}
interface RawSuite {
	title: string;
	specs?: { title: string; tests: { projectName: string; results: RawResult[] }[] }[];
	suites?: RawSuite[];
}

/** The attempts of each test in the raw JSON report, by title path and project. */
function rawAttempts(report: unknown): Map<string, RawResult[]> {
	const out = new Map<string, RawResult[]>();
	const walk = (suite: RawSuite, titles: string[]) => {
		for (const spec of suite.specs ?? []) {
			for (const test of spec.tests) out.set(JSON.stringify([[...titles, spec.title], test.projectName]), test.results);
		}
		for (const child of suite.suites ?? []) walk(child, child.title ? [...titles, child.title] : titles);
	};
	for (const file of (report as { suites: RawSuite[] }).suites) walk(file, []);
	return out;
}

/**
 * What Playwright's junit reporter writes with includeRetries (junit.ts in playwright 1.65.1): a
 * test that ended ok shows its last attempt plus every earlier failed one; a failing test its first
 * attempt plus every later failed one. Passed and skipped attempts in between are left out.
 */
function writtenAttempts(results: RawResult[], ok: boolean): RawResult[] {
	if (results.length === 0) return [];
	const dropped = (r: RawResult) => r.status === 'passed' || r.status === 'skipped';
	return ok
		? [...results.slice(0, -1).filter((r) => !dropped(r)), results.at(-1)!]
		: [results[0]!, ...results.slice(1).filter((r) => !dropped(r))];
}

describe('JUnit written by the Playwright runner (1.65) against its JSON report of the same run', () => {
	let outDir = '';
	let run: JunitRun;
	let json: ParsedReport;

	beforeAll(async () => {
		outDir = await mkdtemp(path.join(os.tmpdir(), 'flackyness-pw-junit-'));
		run = await runJunitSuite(outDir);
		json = parsePlaywrightReport(run.report);
		// One real run; generous because CI machines share their CPUs.
	}, 360_000);

	afterAll(async () => {
		if (outDir) await rm(outDir, { recursive: true, force: true });
	});

	it('covers every outcome, both projects and nested describes, so the comparisons below mean something', () => {
		const outcomes = new Set(json.results.map((r) => r.outcome));
		expect([...outcomes].sort()).toEqual(['expected', 'flaky', 'skipped', 'unexpected']);
		expect(new Set(json.results.map((r) => r.projectName))).toEqual(new Set(['alpha', 'beta']));
		expect(json.results.some((r) => r.titlePath.length === 3)).toBe(true);
		expect(json.results.some((r) => r.attempts > 1 && r.outcome === 'unexpected')).toBe(true);
	});

	it('with includeRetries: same tests, outcomes, statuses, attempts, tags, annotations and first errors', () => {
		const junit = parseJunitReport(run.junitWithRetries);
		const found = byKey(junit);
		const raw = rawAttempts(run.report);
		expect(junit.results).toHaveLength(json.results.length);
		expect(junit.status).toBe(json.status);
		expect(junit.durationMs).toBe(json.durationMs);
		for (const expected of json.results) {
			const name = `${expected.projectName} ${expected.titlePath.join(' › ')}`;
			const actual = found.get(key(expected));
			expect(actual, name).toBeDefined();
			expect(actual, name).toMatchObject({
				outcome: expected.outcome,
				expectedStatus: expected.expectedStatus,
				status: expected.status,
				tags: expected.tags,
				annotations: expected.annotations
			});
			const results = raw.get(JSON.stringify([expected.titlePath, expected.projectName]))!;
			const written = expected.outcome === 'skipped' ? [] : writtenAttempts(results, expected.outcome !== 'unexpected');
			if (expected.outcome !== 'skipped') {
				expect(actual!.attempts, name).toBe(written.length);
				expect(actual!.durationMs, name).toBe(written.reduce((sum, r) => sum + r.duration, 0));
			}
			if (written.length === results.length) expect(actual!.attempts, name).toBe(expected.attempts);
			expectSameError(expected, actual!, name);
		}
		// The suite has tests whose attempts all reach the JUnit file: for them the counts agree.
		expect(json.results.filter((r) => r.attempts > 1).every((r) => found.get(key(r))!.attempts === r.attempts)).toBe(true);
	});

	it('without includeRetries: same tests and outcomes, except that a flaky test reads as passed with one attempt', () => {
		const junit = parseJunitReport(run.junit);
		const found = byKey(junit);
		expect(junit.results).toHaveLength(json.results.length);
		expect(junit.status).toBe(json.status);
		for (const expected of json.results) {
			const name = `${expected.projectName} ${expected.titlePath.join(' › ')}`;
			const actual = found.get(key(expected));
			expect(actual, name).toBeDefined();
			expect(actual!.outcome, name).toBe(expected.outcome === 'flaky' ? 'expected' : expected.outcome);
			expect(actual!.attempts, name).toBe(1);
			expect(actual, name).toMatchObject({ expectedStatus: expected.expectedStatus, tags: expected.tags, annotations: expected.annotations });
			// All attempts' time is summed into the test case; skipped tests carry none.
			if (expected.outcome !== 'skipped') expect(actual!.durationMs, name).toBe(expected.durationMs);
			if (expected.outcome === 'unexpected') expectSameError(expected, actual!, name);
		}
	});

	it('starts every result at its suite timestamp, the run start', () => {
		const junit = parseJunitReport(run.junitWithRetries);
		const runStart = Date.parse(json.startedAt!);
		for (const r of junit.results) expect(Math.abs(Date.parse(r.startedAt) - runStart)).toBeLessThan(60_000);
	});

	/**
	 * The first failed attempt of a failing test is Playwright's formatted failure, which holds the
	 * JSON report's message (snippet and stack included); earlier attempts of a flaky test are only
	 * their stack trace, which is the message without the code snippet.
	 */
	function expectSameError(expected: TestResultData, actual: TestResultData, name: string) {
		if (!expected.error) {
			expect(actual.error, name).toBeUndefined();
			return;
		}
		expect(actual.error, name).toBeDefined();
		if (expected.outcome === 'unexpected') expect(actual.error!.message, name).toBe(expected.error.message);
		else expect(expected.error.message.startsWith(actual.error!.message), name).toBe(true);
		expect(actual.error!.location, name).toBe(expected.error.location);
	}
});

describe('JUnit dialects of other runners', () => {
	it('Surefire: flakyFailure/flakyError make a flaky test, rerunFailure/rerunError count attempts of a failing one', () => {
		const parsed = fixture('surefire.xml');
		expect(parsed.results).toHaveLength(6);
		expect(parsed.results.every((r) => r.file === 'com.example.CartTest' && r.projectName === '')).toBe(true);
		expect(one(parsed, 'addsItem')).toMatchObject({ outcome: 'expected', status: 'passed', attempts: 1, failedAttempts: 0, durationMs: 12 });
		expect(one(parsed, 'removesItem')).toMatchObject({
			outcome: 'flaky',
			attempts: 2,
			failedAttempts: 1,
			durationMs: 38,
			error: { message: 'expected: <1> but was: <0>', stack: expect.stringContaining('CartTest.java:42') }
		});
		expect(one(parsed, 'connects')).toMatchObject({ outcome: 'flaky', attempts: 3, failedAttempts: 2, error: { message: 'Connection refused' } });
		expect(one(parsed, 'checksOut')).toMatchObject({
			outcome: 'unexpected',
			status: 'failed',
			attempts: 3,
			failedAttempts: 3,
			durationMs: 1200,
			error: { message: 'total was 11' }
		});
		expect(one(parsed, 'pays')).toMatchObject({ outcome: 'unexpected', attempts: 2, failedAttempts: 2 });
		expect(one(parsed, 'emptiesCart')).toMatchObject({ outcome: 'skipped', expectedStatus: 'skipped', status: 'skipped' });
		// Suite-level properties (JVM settings) are not annotations of a test.
		expect(parsed.results.every((r) => r.annotations.length === 0)).toBe(true);
		expect(parsed.status).toBe('failed');
		expect(parsed.durationMs).toBe(1234);
	});

	it('jest-junit: the class name is the file unless a file attribute is written; a suite timestamp without offset is UTC', () => {
		const parsed = fixture('jest-junit.xml');
		expect(parsed.results.map((r) => [r.file, r.titlePath, r.outcome])).toEqual([
			['cart adds an item', ['cart adds an item'], 'expected'],
			['cart removes an item', ['cart removes an item'], 'unexpected'],
			['cart empties', ['cart empties'], 'skipped'],
			['src/checkout.test.js', ['checkout pays'], 'expected'],
			['src/checkout.test.js', ['checkout refunds'], 'expected']
		]);
		expect(one(parsed, 'cart removes an item').error).toMatchObject({
			message: 'Error: expect(received).toBe(expected) // Object.is equality',
			stack: expect.stringContaining('cart.test.js:12:20')
		});
		expect(one(parsed, 'cart adds an item').startedAt).toBe('2024-05-01T10:00:00.000Z');
		expect(parsed.startedAt).toBe('2024-05-01T10:00:00.000Z');
		expect(parsed.durationMs).toBe(1520);
	});

	it('pytest (xunit2): the machine in hostname is not a project; failures, errors and skips', () => {
		const parsed = fixture('pytest.xml');
		expect(parsed.results.every((r) => r.projectName === '')).toBe(true);
		expect(parsed.results.map((r) => [r.file, r.titlePath.join(' › '), r.outcome])).toEqual([
			['tests.test_cart', 'test_add', 'expected'],
			['tests.test_cart.TestCheckout', 'test_pay[visa]', 'unexpected'],
			['tests.test_cart.TestCheckout', 'test_pay[amex]', 'expected'],
			['tests.test_cart', 'test_skip', 'skipped'],
			['tests.test_cart', 'test_known_bug', 'skipped'],
			['tests.test_cart', 'test_setup', 'unexpected']
		]);
		expect(one(parsed, 'test_pay[visa]').error).toMatchObject({ message: 'assert 1 == 2', stack: expect.stringContaining('E       assert 1 == 2') });
		expect(one(parsed, 'test_setup').error?.message).toBe(`failed on setup with "fixture 'db' not found"`);
		expect(parsed.startedAt).toBe('2024-05-01T08:00:00.123Z');
	});

	it('pytest (xunit1): the file attribute is the file and the class name leads the title path', () => {
		const parsed = fixture('pytest-xunit1.xml');
		expect(parsed.results.map((r) => [r.file, r.titlePath])).toEqual([
			['tests/test_cart.py', ['tests.test_cart', 'test_add']],
			['tests/test_cart.py', ['tests.test_cart.TestCheckout', 'test_pay']]
		]);
		expect(parsed.startedAt).toBe('2024-05-01T10:00:00.500Z');
	});

	it("Playwright's includeProjectInTestName prefix and an unnamed project", () => {
		const parsed = parseJunitReport(
			xml(
				`<testsuites id="" name="" tests="2" failures="0" skipped="0" errors="0" time="1.5">` +
					`<testsuite name="a.spec.ts" timestamp="2024-05-01T10:00:00.000Z" hostname="chromium" tests="1" failures="0" skipped="0" time="0.5" errors="0">` +
					`<testcase name="[chromium] group › works @fast" classname="a.spec.ts" time="0.5"></testcase></testsuite>` +
					`<testsuite name="a.spec.ts" timestamp="2024-05-01T10:00:00.000Z" hostname="" tests="1" failures="0" skipped="0" time="1" errors="0">` +
					`<testcase name="group › works @fast" classname="a.spec.ts" time="1"></testcase></testsuite></testsuites>`
			)
		);
		expect(parsed.results.map((r) => [r.file, r.titlePath, r.projectName, r.tags])).toEqual([
			['a.spec.ts', ['group', 'works @fast'], 'chromium', ['fast']],
			['a.spec.ts', ['group', 'works @fast'], '', ['fast']]
		]);
		expect(parsed.durationMs).toBe(1500);
	});

	it('keeps one result per identity, the one with more attempts', () => {
		const parsed = parseJunitReport(
			xml(`<testsuite name="s"><testcase classname="c" name="t"><flakyFailure message="x"/></testcase><testcase classname="c" name="t"/></testsuite>`)
		);
		expect(parsed.results).toHaveLength(1);
		expect(parsed.results[0]).toMatchObject({ outcome: 'flaky', attempts: 2 });
	});
});

describe('hostile or broken XML is refused with a message naming what is wrong', () => {
	const refused = (input: Buffer | string, message: RegExp) => {
		const bytes = typeof input === 'string' ? xml(input) : input;
		expect(() => parseJunitReport(bytes)).toThrow(JunitFormatError);
		expect(() => parseJunitReport(bytes)).toThrow(message);
	};

	it('entity expansion (billion laughs) and external entities (XXE): no DOCTYPE at all', () => {
		const laughs = ['<!ENTITY lol "lol">', ...Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ''};`.repeat(10)}">`)];
		refused(`<?xml version="1.0"?><!DOCTYPE testsuites [${laughs.join('')}]><testsuites><testsuite name="&lol9;"/></testsuites>`, /DOCTYPE/);
		refused(`<?xml version="1.0"?><!DOCTYPE testsuite [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><testsuite name="&xxe;"/>`, /DOCTYPE/);
		refused(`<!DOCTYPE testsuite SYSTEM "http://127.0.0.1:1/evil.dtd"><testsuite/>`, /DOCTYPE/);
		// Without a DOCTYPE an entity reference is simply undefined.
		refused(`<testsuite name="&xxe;"/>`, /not well-formed.*undefined entity/);
	});

	it('deep nesting', () => {
		const depth = MAX_XML_DEPTH + 1;
		refused(`<testsuites>${'<testsuite>'.repeat(depth)}${'</testsuite>'.repeat(depth)}</testsuites>`, /nested more than 32 deep/);
		expect(parseJunitReport(xml(`<testsuites>${'<testsuite>'.repeat(10)}${'</testsuite>'.repeat(10)}</testsuites>`)).results).toEqual([]);
	});

	it('huge attributes', () => {
		refused(`<testsuite><testcase name="${'a'.repeat(MAX_ATTRIBUTE + 1)}"/></testsuite>`, /attribute "name" is longer than 65536/);
	});

	it('invalid UTF-8, lone surrogates, NUL and other encodings', () => {
		refused(Buffer.concat([xml('<testsuite name="'), Buffer.from([0xc3, 0x28]), xml('"/>')]), /not valid UTF-8/);
		// UTF-8 encoded surrogate halves (CESU-8) are invalid UTF-8.
		refused(Buffer.concat([xml('<testsuite name="'), Buffer.from([0xed, 0xa0, 0x80]), xml('"/>')]), /not valid UTF-8/);
		refused('<testsuite name="&#xD800;"/>', /not well-formed/);
		refused('<testsuite name="&#0;"/>', /not well-formed/);
		refused(Buffer.concat([xml('<testsuite name="a'), Buffer.from([0]), xml('"/>')]), /not well-formed/);
		refused('<?xml version="1.0" encoding="ISO-8859-1"?><testsuite/>', /encoding "ISO-8859-1"/);
		refused(Buffer.from('\ufeff<testsuite/>', 'utf16le'), /not valid UTF-8/);
	});

	it('XML that is not JUnit, or not XML', () => {
		refused('<html><body>502 Bad Gateway</body></html>', /root element is <html>/);
		refused('<testsuite><testcase name="a">', /not well-formed/);
		refused('{"suites": []}', /not well-formed/);
		refused('   ', /empty/);
		refused('<testsuite><testcase classname="c"/></testsuite>', /testcase> #1 has no name/);
		refused('<testsuite><testcase name="a"><testcase name="b"/></testcase></testsuite>', /nested in another/);
		refused(`<testsuite><testcase name="${'t'.repeat(3000)}" classname="c"/></testsuite>`, /does not make a valid result \(titlePath/);
		refused('<testsuites><testsuite><testcase name="a"/></testsuite></testsuites>', /testcase "a" \(#1\) names no file/);
	});

	it('dates out of range and numbers that are not durations', () => {
		refused('<testsuite timestamp="0000-01-01T00:00:00"/>', /timestamp "0000-01-01T00:00:00"/);
		refused('<testsuite timestamp="+275760-09-13T00:00:00Z"/>', /timestamp/);
		refused('<testsuite timestamp="10000-01-01T00:00:00Z"/>', /timestamp/);
		refused('<testsuite timestamp="2024-13-45T00:00:00Z"/>', /timestamp/);
		// An offset can carry a four-digit year out of range.
		refused('<testsuite timestamp="0001-01-01T00:00:00+14:00"/>', /timestamp/);
		refused('<testsuite timestamp="9999-12-31T23:00:00-14:00"/>', /timestamp/);
		expect(parseJunitReport(xml('<testsuite name="s" timestamp="9999-12-31T23:59:59Z"/>')).startedAt).toBe('9999-12-31T23:59:59.000Z');
		refused('<testsuite name="s"><testcase name="a" time="-1"/></testsuite>', /time "-1" of testcase "a"/);
		refused('<testsuite name="s"><testcase name="a" time="NaN"/></testsuite>', /time "NaN"/);
		refused('<testsuite name="s"><testcase name="a"><failure time="Infinity"/></testcase></testsuite>', /time "Infinity" of <failure>/);
		const huge = parseJunitReport(xml('<testsuite name="s"><testcase name="a" time="1e300"/></testsuite>'));
		expect(huge.results[0]!.durationMs).toBe(2_147_483_647);
		expect(parseJunitReport(xml('<testsuite name="s"><testcase name="a" time="1,234.5"/></testsuite>')).results[0]!.durationMs).toBe(1_234_500);
	});

	it('more test cases than a report may hold', () => {
		const cases = '<testcase name="t"/>'.repeat(MAX_TESTS + 1);
		refused(`<testsuite>${cases}</testsuite>`, new RegExp(`more than ${MAX_TESTS} test cases`));
	});
});

describe('hostile content inside test cases costs bounded time and memory', () => {
	/** A Playwright-dialect report (so error locations and messages are read from the text) of these testcases. */
	const playwrightReport = (cases: string) =>
		xml(
			`<testsuites id="" name="" tests="1" failures="1" skipped="0" errors="0" time="1">` +
				`<testsuite name="a.spec.ts" timestamp="2024-05-01T10:00:00.000Z" hostname="chromium" tests="1" failures="1" skipped="0" time="1" errors="0">` +
				`${cases}</testsuite></testsuites>`
		);
	const escape = (text: string) => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;');

	it('64 KB failure lines that made the location and message patterns backtrack for seconds each', () => {
		// Each took the old patterns 1 to 20 s (a line of "(" or "(:1:1" after "at", blank lines
		// before no frame, a first line of "─" that does not end in it); dozens of them in one
		// upload would have held the event loop for minutes.
		const hostile = [
			`    at ${'('.repeat(65_000)}`,
			`    at ${'(:1:1'.repeat(13_000)}x`,
			`    at ${'(:1:1 '.repeat(10_800)}`,
			`${' \n'.repeat(32_000)}x`,
			`${'\u2500'.repeat(65_000)}x`
		];
		const cases = Array.from({ length: 40 }, (_, i) => {
			const text = `${hostile[i % hostile.length]!}\n    at /ci/project/tests/a.spec.ts:3:7`;
			return `<testcase name="t${i}" classname="a.spec.ts" time="1"><failure message="m" type="FAILURE">${escape(text)}</failure></testcase>`;
		});
		const started = performance.now();
		const parsed = parseJunitReport(playwrightReport(cases.join('')));
		const elapsed = performance.now() - started;
		expect(parsed.results).toHaveLength(40);
		// The frame below the hostile line is still found, though the text is cut at 64 KB for some.
		for (const result of parsed.results) expect(result.outcome).toBe('unexpected');
		expect(parsed.results.filter((r) => r.error?.location === 'a.spec.ts:3:7').length).toBeGreaterThan(0);
		// Generous for a loaded machine; the old patterns needed more than a second for any one case.
		expect(elapsed).toBeLessThan(2_000);
	});

	it('a testcase with 100,000 failure and property elements keeps counts and only what the protocol holds', () => {
		const properties = Array.from({ length: 100_000 }, (_, i) => `<property name="note" value="${i}"/>`).join('');
		const reruns = '<rerunFailure message="again" time="0.001"/>'.repeat(100_000);
		const failures = '<failure message="again"/>'.repeat(100_000);
		const body =
			`<testsuite name="s"><testcase classname="c" name="t" time="1"><properties>${properties}</properties>` +
			`<failure message="first failure">first stack</failure>${failures}${reruns}` +
			`<rerunFailure message="Test timeout of 5000ms exceeded." time="0.001"/></testcase></testsuite>`;
		const started = performance.now();
		const [result] = parseJunitReport(xml(body)).results;
		const elapsed = performance.now() - started;
		expect(result).toMatchObject({
			outcome: 'unexpected',
			status: 'timedOut',
			attempts: 100,
			failedAttempts: 100,
			// Every retry counts towards the duration, even past the attempt cap.
			durationMs: 1_000 + 100_001,
			error: { message: 'first failure', stack: 'first stack' }
		});
		expect(result!.annotations).toHaveLength(100);
		expect(result!.annotations.at(-1)).toEqual({ type: 'note', description: '99' });
		expect(elapsed).toBeLessThan(5_000);
	});
});

describe('choosing the parser', () => {
	it('XML content types, with or without parameters', () => {
		expect(isXmlContentType('application/xml')).toBe(true);
		expect(isXmlContentType('text/xml; charset=utf-8')).toBe(true);
		expect(isXmlContentType('application/json')).toBe(false);
		expect(isXmlContentType(undefined)).toBe(false);
	});

	it('a report file part is XML when it starts with "<" after a BOM and white space', () => {
		expect(looksLikeXml(xml('\ufeff \n<?xml version="1.0"?>'))).toBe(true);
		expect(looksLikeXml(xml('<testsuites/>'))).toBe(true);
		expect(looksLikeXml(xml(' {"suites": []}'))).toBe(false);
		expect(looksLikeXml(xml(''))).toBe(false);
	});
});
