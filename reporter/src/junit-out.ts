/**
 * The JUnit XML file of the `junitOutput` option (and the `junit` command), for GitLab's
 * `artifacts:reports:junit`: Playwright's own junit structure, with the server's verdict in front
 * of each failure — "[known flaky 7% (3–12%)] …", "[broken on main since abc12345] …",
 * "[quarantined: <reason>] …" or "[new] …" — so the merge request's test widget tells known flakes
 * from new failures where nobody gave GitLab a token. A test that passed on retry is a passed test
 * case with a note in its `<system-out>`. Without verdicts (no server, or it did not answer in
 * time) the file is written all the same, without prefixes.
 *
 * Structure (as Playwright 1.65's junit reporter, with `includeRetries`):
 * `<testsuites>` > one `<testsuite>` per project and file (`name` the file, `hostname` the
 * project) > `<testcase>` with `name` the title path joined by " › " and `classname` the file.
 * Failed attempts of a test that passed on retry are `<flakyFailure>` elements and the retries
 * of a failing test `<rerunFailure>` elements, which GitLab ignores and Flackyness' own JUnit
 * parser counts: uploaded back to the server, the file stores the same outcomes and attempts.
 * GitLab shows a failure's text, not its `message` attribute: both start with the verdict.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { JSONReport, JSONReportSuite } from '@playwright/test/reporter';
import { knownFlaky, type VerdictAnswer } from './fail-on.js';
import { clipText, MAX_VERDICT_TESTS, type TestResultInput, type TestVerdict } from './protocol.js';
import { serializeTest, validateResult, type SuiteLike, type TestLike } from './serialize.js';

export interface JunitEntry {
	result: TestResultInput;
	/** The server's verdict, when it gave one. */
	verdict?: TestVerdict;
}

export interface JunitRun {
	/** In the order to write them; grouped by project and file in the order first seen. */
	entries: readonly JunitEntry[];
	durationMs: number;
	/** The run's start: the `timestamp` of a suite whose tests carry none. */
	startedAt: string;
	/** CI_DEFAULT_BRANCH, for "broken on main"; unknown, it is "the default branch". */
	defaultBranch?: string;
}

/** Playwright's separator of a title path in `testcase@name`, which Flackyness' JUnit parser splits on. */
const TITLE_SEPARATOR = ' \u203A ';
/** A failure's `message` is its first line; GitLab and our parser read at most this much of an attribute. */
const MAX_MESSAGE = 4096;
const MAX_REASON = 200;

// Escaping by hand rather than with an XML builder (xmlbuilder2 and the like): the document is six
// kinds of element written in one pass, and the reporter, installed in every user's project,
// keeps its dependencies to undici and zod. What a builder would have to be told anyway is here:
// characters XML 1.0 forbids outright — C0 controls other than tab, LF and CR (ANSI escapes
// included), U+FFFE, U+FFFF and lone surrogates — become U+FFFD, as storableText does with NUL;
// `>` is always escaped, so no `]]>` survives; CR, and tab and LF in attributes, are written as
// character references, which parsers otherwise normalise to LF or spaces.
// eslint-disable-next-line no-control-regex -- control characters are what it matches
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const TEXT_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#13;' };
const ATTRIBUTE_ESCAPES: Record<string, string> = { ...TEXT_ESCAPES, '"': '&quot;', '\t': '&#9;', '\n': '&#10;' };

/** Character data: any string in, well-formed XML 1.0 content out. */
export function xmlText(s: string): string {
	return s.replace(NOT_XML, '\uFFFD').replace(/[&<>\r]/g, (c) => TEXT_ESCAPES[c]!);
}

/** An attribute value, to be put between double quotes. */
export function xmlAttribute(s: string): string {
	return s.replace(NOT_XML, '\uFFFD').replace(/[&<>"\r\t\n]/g, (c) => ATTRIBUTE_ESCAPES[c]!);
}

function attributes(attrs: Record<string, string | number>): string {
	return Object.entries(attrs)
		.map(([name, value]) => ` ${name}="${xmlAttribute(String(value))}"`)
		.join('');
}

function element(name: string, attrs: Record<string, string | number>, text?: string): string {
	return text === undefined || text === '' ? `<${name}${attributes(attrs)}/>` : `<${name}${attributes(attrs)}>${xmlText(text)}</${name}>`;
}

/** One line, at most `max` UTF-16 units ("…" when cut). */
function oneLine(s: string, max: number): string {
	const line = s.replace(/\s+/g, ' ').trim();
	return line.length <= max ? line : `${clipText(line, max - 1)}…`;
}

function brokenOn(v: TestVerdict, defaultBranch: string | undefined): string {
	const branch = defaultBranch ? oneLine(defaultBranch, MAX_REASON) : 'the default branch';
	return v.brokenSince ? `broken on ${branch} since ${v.brokenSince.commitSha.slice(0, 8)}` : `broken on ${branch}`;
}

function quarantined(v: TestVerdict): string {
	const reason = v.quarantine?.reason ? oneLine(v.quarantine.reason, MAX_REASON) : '';
	return reason ? `quarantined: ${reason}` : 'quarantined';
}

/**
 * What a failure is, in brackets, to put before its message; '' without a verdict. New is
 * everything that is not known flaky, quarantined or broken: never seen, healthy until now, only
 * suspected, or fixed.
 */
export function failurePrefix(v: TestVerdict | undefined, defaultBranch?: string): string {
	if (!v) return '';
	switch (v.state) {
		case 'flaky':
			return `[${knownFlaky(v)}] `;
		case 'quarantined':
			return `[${quarantined(v)}] `;
		case 'broken':
			return `[${brokenOn(v, defaultBranch)}] `;
		default:
			return '[new] ';
	}
}

/** The `<system-out>` note of a test that passed on retry. */
export function retryNote(v: TestVerdict | undefined): string {
	if (!v) return 'Flackyness: passed on retry';
	if (v.state === 'flaky') return `Flackyness: passed on retry — ${knownFlaky(v)}`;
	if (v.state === 'quarantined') return `Flackyness: passed on retry — ${quarantined(v)}`;
	return 'Flackyness: passed on retry — not known flaky';
}

function seconds(ms: number): string {
	return (Math.max(0, ms) / 1000).toFixed(3);
}

function describeStatus(status: TestResultInput['status']): string {
	return status === 'timedOut' ? 'the test timed out' : status === 'interrupted' ? 'the test was interrupted' : `the test ${status}`;
}

function testCase(entry: JunitEntry, defaultBranch: string | undefined): { xml: string; failed: boolean; skipped: boolean } {
	const { result: r, verdict } = entry;
	const children: string[] = [];
	const annotations = r.annotations ?? [];
	if (annotations.length) {
		const props = annotations.map((a) => element('property', { name: a.type, value: a.description ?? '' }));
		children.push(`<properties>\n${props.join('\n')}\n</properties>`);
	}
	const text = r.error?.message ?? '';
	const firstLine = text.split('\n', 1)[0]!;
	const failed = r.outcome === 'unexpected';
	const skipped = r.outcome === 'skipped';
	if (failed) {
		const prefix = failurePrefix(verdict, defaultBranch);
		const message = firstLine.trim() ? firstLine : describeStatus(r.status);
		children.push(element('failure', { message: clipText(prefix + message, MAX_MESSAGE), type: 'FAILURE' }, text ? prefix + text : prefix.trim()));
		for (let i = 1; i < r.failedAttempts; i++) children.push(element('rerunFailure', { type: 'FAILURE' }));
	} else if (r.outcome === 'flaky') {
		for (let i = 0; i < r.failedAttempts; i++) {
			children.push(i === 0 && text ? element('flakyFailure', { message: clipText(firstLine, MAX_MESSAGE), type: 'FAILURE' }, text) : element('flakyFailure', { type: 'FAILURE' }));
		}
		children.push(element('system-out', {}, retryNote(verdict)));
	} else if (skipped) {
		children.push('<skipped/>');
	}
	const attrs = { name: r.titlePath.join(TITLE_SEPARATOR), classname: r.file, time: seconds(r.durationMs) };
	const xml = children.length ? `<testcase${attributes(attrs)}>\n${children.join('\n')}\n</testcase>` : element('testcase', attrs);
	return { xml, failed, skipped };
}

/** The whole document. */
export function junitXml(run: JunitRun): string {
	const suites = new Map<string, JunitEntry[]>();
	for (const entry of run.entries) {
		const key = JSON.stringify([entry.result.projectName ?? '', entry.result.file]);
		const list = suites.get(key);
		if (list) list.push(entry);
		else suites.set(key, [entry]);
	}
	const totals = { tests: 0, failures: 0, skipped: 0 };
	const out: string[] = [];
	for (const entries of suites.values()) {
		const cases = entries.map((e) => testCase(e, run.defaultBranch));
		const failures = cases.filter((c) => c.failed).length;
		const skipped = cases.filter((c) => c.skipped).length;
		const first = entries[0]!.result;
		const timestamp = entries.map((e) => e.result.startedAt).reduce((a, b) => (Date.parse(b) < Date.parse(a) ? b : a), run.startedAt);
		const suite = {
			name: first.file,
			timestamp,
			hostname: first.projectName ?? '',
			tests: cases.length,
			failures,
			skipped,
			time: seconds(entries.reduce((sum, e) => sum + e.result.durationMs, 0)),
			errors: 0
		};
		out.push(`<testsuite${attributes(suite)}>`, ...cases.map((c) => c.xml), '</testsuite>');
		totals.tests += cases.length;
		totals.failures += failures;
		totals.skipped += skipped;
	}
	const root = { id: '', name: '', ...totals, errors: 0, time: seconds(run.durationMs) };
	return ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites${attributes(root)}>`, ...out, '</testsuites>', ''].join('\n');
}

/** Writes the file, creating its directory; returns the absolute path. Throws on failure. */
export function writeJunitFile(file: string, run: JunitRun): string {
	const target = path.resolve(file);
	mkdirSync(path.dirname(target), { recursive: true });
	writeFileSync(target, junitXml(run));
	return target;
}

/** The results the server is asked about: failures first, then passes on retry, as many as one request holds. */
export function toAsk<T>(items: readonly T[], outcome: (item: T) => TestResultInput['outcome']): T[] {
	const failed = items.filter((i) => outcome(i) === 'unexpected');
	return [...failed, ...items.filter((i) => outcome(i) === 'flaky')].slice(0, MAX_VERDICT_TESTS);
}

/** The verdict of each item asked, when the server answered. */
export function verdictsOf<T>(asked: readonly T[], answer: VerdictAnswer | undefined): Map<T, TestVerdict> {
	return new Map(answer && !('error' in answer) ? asked.map((item, i) => [item, answer.verdicts[i]!] as const) : []);
}

function validDate(iso: string | undefined): Date | undefined {
	const date = new Date(iso ?? '');
	return Number.isNaN(date.getTime()) ? undefined : date;
}

/**
 * The results of a Playwright JSON report as the reporter would have sent them (the `junit`
 * command): each test is handed to serializeTest in the shape of a TestCase.
 */
export function resultsFromJsonReport(report: JSONReport): TestResultInput[] {
	const rootDir = report.config.rootDir;
	const runStart = validDate(report.stats.startTime) ?? new Date();
	const out: TestResultInput[] = [];
	const walk = (suite: JSONReportSuite, parent: SuiteLike | undefined) => {
		// The report's top suites are files; those inside them are describe blocks.
		const here: SuiteLike = { title: suite.title, type: parent ? 'describe' : 'file', ...(parent ? { parent } : {}), project: () => undefined };
		for (const spec of suite.specs) {
			for (const test of spec.tests) {
				const like: TestLike = {
					title: spec.title,
					tags: spec.tags,
					expectedStatus: test.expectedStatus,
					retries: 0,
					location: { file: path.join(rootDir, spec.file), line: spec.line, column: spec.column },
					outcome: () => test.status,
					annotations: test.annotations,
					results: test.results.map((r) => ({ ...r, status: r.status ?? 'skipped', startTime: validDate(r.startTime) ?? runStart })),
					parent: { ...here, project: () => ({ name: test.projectName }) }
				};
				const result = serializeTest(like, rootDir, runStart);
				if (validateResult(result) === null) out.push(result);
			}
		}
		for (const child of suite.suites ?? []) walk(child, here);
	};
	for (const suite of report.suites) walk(suite, undefined);
	return out;
}
