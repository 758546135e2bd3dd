/**
 * Parser for JUnit XML: Playwright's `junit` reporter (with and without `includeRetries`) and the
 * dialects other runners write (Maven Surefire's flaky/rerun elements, jest-junit, pytest). It
 * produces the same `ParsedReport` as the JSON parser so both uploads feed one history.
 *
 * What JUnit cannot carry, and how it is mapped (Playwright 1.65 `junit` reporter):
 * - Identity: `testsuite@name` and `testcase@classname` are the file relative to the project's
 *   testDir (the JSON report's `file` is relative to `config.rootDir`: they agree when projects
 *   share the config's testDir), `testcase@name` is the title path joined with " › " (a title that
 *   itself contains " › " splits differently), `testsuite@hostname` is the project name.
 * - Without `includeRetries` a flaky test is written like a pass and failed retries are not
 *   written at all: it is stored as `expected` with one attempt. With `includeRetries` every failed
 *   attempt is an element (flakyFailure/rerunFailure), but passed or skipped retries of a failing
 *   test are left out, so they are not counted.
 * - Per-test start times are not written: every result starts at its suite's `timestamp` (the run
 *   start). Tags given with `{ tag }` are not written; only `@words` in titles are tags.
 * - `test.fail()` shows only as its `fail` annotation (a `<property>`), which gives the expected
 *   status; `skip`/`fixme` annotations likewise. A failed attempt's status is `timedOut` when its
 *   message is Playwright's timeout message, else `failed`; `interrupted` cannot be told apart.
 * - Errors: the element's text (Playwright's formatted failure, or the stack trace) is kept as the
 *   stack, its first message line as the message, the location from the first stack frame in the
 *   test's file (lines over 1 KB are not read). Run-level errors are not written.
 * Other runners: file is `testcase@file`, else `testsuite@file`, else the classname; the title path
 * is the test name, after the classname when that differs from the file; the project name is empty.
 */
import { SaxesParser, type SaxesAttributeNS, type SaxesTagPlain } from 'saxes';
import { testResultInputSchema, type Outcome, type TestError, type TestResultData, type TestStatus } from 'flackyness-reporter/protocol';
import { AnnotationList, cleanText, stripAnsi } from 'flackyness-reporter/playwright-data';
import { truncate } from './errors.js';
import {
	MAX_ATTEMPTS,
	MAX_DURATION_MS,
	MAX_TESTS,
	titleTags
} from './playwright-json.js';
import type { ParsedReport } from './types.js';

// saxes (the streaming parser jsdom uses) rather than a tree builder such as fast-xml-parser:
// it never expands entities beyond the five predefined ones and has no network or file access
// (no XXE), it reports the DOCTYPE as an event we refuse before anything after it is read, it
// checks well-formedness and XML's character ranges (NUL, lone surrogates), and its events let
// us bound depth, attribute size and test count while reading instead of after building a tree.

/** The input is not JUnit XML we can read; the message names the element or attribute. */
export class JunitFormatError extends Error {
	override name = 'JunitFormatError';
}

export const MAX_XML_DEPTH = 32;
/** Longer than any title or message we keep; a bigger attribute is an attack or a broken writer. */
export const MAX_ATTRIBUTE = 65_536;

const MAX_TEXT = 65_536;
/** Stack frames are short; a longer line is not read as one (nor made to cost matching time). */
const MAX_FRAME_LINE = 1024;
/** Playwright joins a test's title path with this in `testcase@name`. */
const TITLE_SEPARATOR = ' \u203A ';

type RetryKind = 'flaky' | 'rerun';

interface FailureElement {
	kind: 'failure' | RetryKind;
	message: string;
	type: string;
	text: string;
	durationMs: number;
}

interface Suite {
	name: string;
	file: string | undefined;
	hostname: string | undefined;
	timestamp: string | undefined;
	durationMs: number | undefined;
}

interface RawCase {
	index: number;
	name: string;
	classname: string | undefined;
	file: string | undefined;
	suite: Suite;
	durationMs: number;
	skipped: boolean;
	// A test case may hold any number of failure elements: they are counted, and only the ones
	// judge() and firstError() read are kept.
	failedCount: number;
	retriedCount: number;
	retriedMs: number;
	/** The first `<failure>`/`<error>`, the first element of each retry kind, and the last retry. */
	firstFailed: FailureElement | undefined;
	firstFlaky: FailureElement | undefined;
	firstRerun: FailureElement | undefined;
	lastRetried: FailureElement | undefined;
	annotations: AnnotationList;
}

interface State {
	/** Names of the open elements, outermost first. */
	open: string[];
	root: { name: string; attributes: Record<string, string> } | undefined;
	suites: Suite[];
	allSuites: Suite[];
	cases: RawCase[];
	current: RawCase | undefined;
	/** The failure-like element being read (its `<stackTrace>` child included). */
	failure: FailureElement | undefined;
	/** Whether that element's text is kept: only the first of its kind can become the error. */
	failureText: boolean;
}

export interface JunitParseOptions {
	/** Start time when no suite has a `timestamp` (default: now). */
	now?: Date;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** `application/xml` or `text/xml`, with any parameters. */
export function isXmlContentType(contentType: string | undefined): boolean {
	const type = contentType?.split(';', 1)[0]?.trim().toLowerCase();
	return type === 'application/xml' || type === 'text/xml';
}

/** A report file that starts with '<' (after a BOM and white space) is XML; JSON starts with '{'. */
export function looksLikeXml(bytes: Uint8Array): boolean {
	let i = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
	while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0a || bytes[i] === 0x0d)) i++;
	return bytes[i] === 0x3c;
}

/** Parses JUnit XML bytes. Throws `JunitFormatError` naming what is wrong. */
export function parseJunitReport(bytes: Uint8Array, opts: JunitParseOptions = {}): ParsedReport {
	const state = readXml(decode(bytes));
	const playwright = isPlaywrightDialect(state);
	const fallbackStart = earliestTimestamp(state.allSuites) ?? (opts.now ?? new Date()).toISOString();
	const results = dedupe(state.cases.map((raw) => toResult(raw, playwright, fallbackStart)));
	const parsed: ParsedReport = {
		results,
		status: results.some((r) => r.outcome === 'unexpected') ? 'failed' : 'passed',
		errors: [],
		onlyFailures: false,
		shard: null,
		startedAt: fallbackStart
	};
	const durationMs = runDuration(state);
	if (durationMs !== undefined) parsed.durationMs = durationMs;
	return parsed;
}

function decode(bytes: Uint8Array): string {
	let text: string;
	try {
		text = utf8.decode(bytes);
	} catch {
		throw new JunitFormatError('the XML is not valid UTF-8');
	}
	const declared = /^\uFEFF?<\?xml[^>]*\bencoding\s*=\s*["']([^"']+)["']/.exec(text)?.[1];
	if (declared && !/^utf-?8$/i.test(declared)) {
		throw new JunitFormatError(`the XML declares encoding "${declared}"; only UTF-8 is accepted`);
	}
	if (text.trim() === '') throw new JunitFormatError('the body is empty; send the JUnit XML file');
	return text.replace(/^\uFEFF/, '');
}

function readXml(text: string): State {
	const state: State = {
		open: [],
		root: undefined,
		suites: [],
		allSuites: [],
		cases: [],
		current: undefined,
		failure: undefined,
		failureText: false
	};
	const parser = new SaxesParser({ xmlns: false, position: true });
	parser.on('doctype', () => {
		throw new JunitFormatError('DOCTYPE declarations are not accepted (entities and external references are refused)');
	});
	parser.on('opentagstart', (tag) => {
		if (state.open.push(tag.name) > MAX_XML_DEPTH) throw new JunitFormatError(`elements are nested more than ${MAX_XML_DEPTH} deep`);
		if (state.open.length === 1 && tag.name !== 'testsuites' && tag.name !== 'testsuite') {
			throw new JunitFormatError(`the root element is <${tag.name}>, not <testsuites> or <testsuite>: not a JUnit report`);
		}
	});
	parser.on('attribute', (attr: SaxesAttributeNS | { name: string; value: string }) => {
		if (attr.value.length > MAX_ATTRIBUTE) {
			throw new JunitFormatError(`attribute "${attr.name}" is longer than ${MAX_ATTRIBUTE} characters`);
		}
	});
	parser.on('opentag', (tag) => openElement(tag, state));
	parser.on('closetag', (tag) => closeElement(tag, state));
	parser.on('text', (text) => appendText(text, state));
	parser.on('cdata', (text) => appendText(text, state));
	try {
		parser.write(text).close();
	} catch (err) {
		if (err instanceof JunitFormatError) throw err;
		// saxes errors read "file:line:column: message", e.g. an undefined entity or a bad character.
		throw new JunitFormatError(`the XML is not well-formed: ${(err as Error).message}`);
	}
	return state;
}

function openElement(tag: SaxesTagPlain, state: State): void {
	const attrs = tag.attributes;
	if (state.open.length === 1) state.root = { name: tag.name, attributes: attrs };
	if (tag.name === 'testsuite') {
		const suite = readSuite(attrs, state.suites.at(-1));
		state.suites.push(suite);
		state.allSuites.push(suite);
	} else if (tag.name === 'testcase') {
		openCase(attrs, state);
	} else if (state.current) {
		openCaseChild(tag.name, attrs, state.current, state);
	}
}

function closeElement(tag: SaxesTagPlain, state: State): void {
	state.open.pop();
	if (tag.name === 'testsuite') state.suites.pop();
	else if (tag.name === 'testcase') state.current = undefined;
	else if (state.failure && isFailureElement(tag.name)) state.failure = undefined;
}

function readSuite(attrs: Record<string, string>, parent: Suite | undefined): Suite {
	return {
		name: attrs.name ?? parent?.name ?? '',
		file: nonEmpty(attrs.file) ?? parent?.file,
		hostname: attrs.hostname ?? parent?.hostname,
		timestamp: attrs.timestamp ? timestamp(attrs.timestamp, 'testsuite') : parent?.timestamp,
		durationMs: attrs.time === undefined ? undefined : seconds(attrs.time, 'testsuite')
	};
}

function openCase(attrs: Record<string, string>, state: State): void {
	if (state.current) throw new JunitFormatError(`<testcase> #${state.cases.length} is nested in another <testcase>`);
	const index = state.cases.length;
	if (index >= MAX_TESTS) throw new JunitFormatError(`the report holds more than ${MAX_TESTS} test cases`);
	if (attrs.name === undefined) throw new JunitFormatError(`<testcase> #${index + 1} has no name attribute`);
	const suite = state.suites.at(-1) ?? { name: '', file: undefined, hostname: undefined, timestamp: undefined, durationMs: undefined };
	state.current = {
		index,
		name: attrs.name,
		classname: nonEmpty(attrs.classname),
		file: nonEmpty(attrs.file),
		suite,
		durationMs: attrs.time === undefined ? 0 : seconds(attrs.time, `testcase "${attrs.name}"`),
		skipped: false,
		failedCount: 0,
		retriedCount: 0,
		retriedMs: 0,
		firstFailed: undefined,
		firstFlaky: undefined,
		firstRerun: undefined,
		lastRetried: undefined,
		annotations: new AnnotationList()
	};
	state.cases.push(state.current);
}

const RETRY_ELEMENTS: Record<string, RetryKind> = {
	flakyFailure: 'flaky',
	flakyError: 'flaky',
	rerunFailure: 'rerun',
	rerunError: 'rerun'
};

function isFailureElement(name: string): boolean {
	return name === 'failure' || name === 'error' || name in RETRY_ELEMENTS;
}

function openCaseChild(name: string, attrs: Record<string, string>, test: RawCase, state: State): void {
	if (name === 'skipped') test.skipped = true;
	// Playwright writes one property per annotation, with "" for no description.
	else if (name === 'property' && attrs.name !== undefined) test.annotations.add(attrs.name, attrs.value || undefined);
	else if (isFailureElement(name) && !state.failure) {
		const where = `<${name}> of testcase "${test.name}"`;
		const failure: FailureElement = {
			kind: RETRY_ELEMENTS[name] ?? 'failure',
			message: attrs.message ?? '',
			type: attrs.type ?? '',
			text: '',
			durationMs: attrs.time === undefined ? 0 : seconds(attrs.time, where)
		};
		state.failure = failure;
		state.failureText = countFailure(test, failure);
	}
}

/** Counts the element and keeps it where it is read later; true when it is the first of its kind. */
function countFailure(test: RawCase, failure: FailureElement): boolean {
	if (failure.kind === 'failure') {
		test.failedCount++;
		test.firstFailed ??= failure;
		return test.firstFailed === failure;
	}
	test.retriedCount++;
	test.retriedMs = Math.min(test.retriedMs + failure.durationMs, MAX_DURATION_MS);
	test.lastRetried = failure;
	if (failure.kind === 'flaky') {
		test.firstFlaky ??= failure;
		return test.firstFlaky === failure;
	}
	test.firstRerun ??= failure;
	return test.firstRerun === failure;
}

function appendText(text: string, state: State): void {
	const failure = state.failure;
	// Only failure text (Surefire nests it in <stackTrace>) is kept, and only as much as a stored
	// stack holds: system-out is not read.
	const element = state.open.at(-1) ?? '';
	if (!failure || !state.failureText || !(element === 'stackTrace' || isFailureElement(element)) || failure.text.length > MAX_TEXT) return;
	failure.text += text.slice(0, MAX_TEXT + 1 - failure.text.length);
}

/** JUnit `time` is seconds as a decimal; we keep whole milliseconds, bounded like JSON durations. */
function seconds(value: string, where: string): number {
	const trimmed = value.trim();
	if (trimmed === '') return 0;
	// Some writers group thousands ("1,234.5").
	const normalised = trimmed.replace(/,(?=\d{3}(?:\D|$))/g, '');
	if (!/^\d+(?:\.\d+)?(?:[eE][-+]?\d+)?$/.test(normalised)) {
		throw new JunitFormatError(`time "${truncate(value, 40)}" of ${where} is not a non-negative number of seconds`);
	}
	return Math.min(Math.round(Number(normalised) * 1000), MAX_DURATION_MS);
}

// PostgreSQL reads no year 0 and JavaScript writes years past 9999 with a sign: both are refused.
const EARLIEST = Date.parse('0001-01-01T00:00:00Z');
const LATEST = Date.parse('9999-12-31T23:59:59.999Z');

/** ISO 8601 as the writers produce it; without an offset it is UTC (pytest and jest-junit write none). */
function timestamp(value: string, where: string): string {
	const trimmed = value.trim();
	const match = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(trimmed);
	const time = match ? Date.parse(match[1] ? trimmed : `${trimmed}Z`) : NaN;
	if (!(time >= EARLIEST && time <= LATEST)) {
		throw new JunitFormatError(`timestamp "${truncate(value, 40)}" of ${where} is not an ISO 8601 date between years 1 and 9999`);
	}
	return new Date(time).toISOString();
}

/**
 * Playwright writes `<testsuites id name …>` around one `<testsuite>` per project and file with
 * `hostname` (the project) and `timestamp`, whose test cases all carry the suite name as
 * classname. Other runners' `hostname` is a machine name and must not become a project.
 */
function isPlaywrightDialect(state: State): boolean {
	const root = state.root;
	if (root?.name !== 'testsuites' || root.attributes.id === undefined || root.attributes.name === undefined) return false;
	if (state.allSuites.some((suite) => suite.hostname === undefined || suite.timestamp === undefined)) return false;
	return state.cases.every((test) => test.classname === test.suite.name && test.file === undefined);
}

function toResult(raw: RawCase, playwright: boolean, fallbackStart: string): TestResultData {
	const identity = playwright ? playwrightIdentity(raw) : genericIdentity(raw);
	const annotations = raw.annotations.list;
	const types = new Set(annotations.map((a) => a.type));
	const judged = judge(raw, types);
	const result: TestResultData = {
		...identity,
		tags: [...new Set(titleTags(identity.titlePath))],
		...judged,
		durationMs: totalDuration(raw),
		startedAt: raw.suite.timestamp ?? fallbackStart,
		annotations
	};
	const error = firstError(raw, judged.expectedStatus, playwright);
	if (error) result.error = error;
	const checked = testResultInputSchema.safeParse(result);
	if (checked.success) return checked.data;
	const issue = checked.error.issues[0];
	throw new JunitFormatError(
		`testcase "${truncate(raw.name, 200)}" (#${raw.index + 1}) does not make a valid result (${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'})`
	);
}

/** The test case's own time plus that of the retries written inside it (Playwright, Surefire). */
function totalDuration(raw: RawCase): number {
	return Math.min(raw.durationMs + raw.retriedMs, MAX_DURATION_MS);
}

type Identity = Pick<TestResultData, 'file' | 'titlePath' | 'projectName'>;

function playwrightIdentity(raw: RawCase): Identity {
	const project = raw.suite.hostname ?? '';
	// `includeProjectInTestName` prefixes the name with "[project] ".
	const prefix = project ? `[${project}] ` : '';
	const name = prefix && raw.name.startsWith(prefix) ? raw.name.slice(prefix.length) : raw.name;
	return { file: normaliseFile(raw.suite.name), titlePath: name.split(TITLE_SEPARATOR), projectName: project };
}

function genericIdentity(raw: RawCase): Identity {
	const file = raw.file ?? raw.suite.file ?? raw.classname ?? nonEmpty(raw.suite.name);
	if (file === undefined) {
		throw new JunitFormatError(`testcase "${truncate(raw.name, 200)}" (#${raw.index + 1}) names no file: it needs a classname or file attribute, or a named <testsuite>`);
	}
	const titlePath = raw.classname && raw.classname !== file && raw.classname !== raw.name ? [raw.classname, raw.name] : [raw.name];
	return { file: normaliseFile(file), titlePath, projectName: '' };
}

type Judged = Pick<TestResultData, 'outcome' | 'expectedStatus' | 'status' | 'attempts' | 'failedAttempts'>;

function judge(raw: RawCase, annotationTypes: Set<string>): Judged {
	const skipped = raw.skipped && raw.failedCount + raw.retriedCount === 0;
	const expectedStatus: TestStatus =
		annotationTypes.has('skip') || annotationTypes.has('fixme') || skipped
			? 'skipped'
			: annotationTypes.has('fail')
				? 'failed'
				: 'passed';
	if (skipped) return { outcome: 'skipped', expectedStatus, status: 'skipped', attempts: 1, failedAttempts: 0 };
	const attempts = Math.min(1 + raw.retriedCount, MAX_ATTEMPTS);
	const failedAttempts = Math.min(raw.failedCount + raw.retriedCount, MAX_ATTEMPTS);
	const outcome: Outcome = raw.failedCount > 0 ? 'unexpected' : raw.retriedCount > 0 ? 'flaky' : 'expected';
	const passing: TestStatus = expectedStatus === 'failed' ? 'failed' : 'passed';
	const last = outcome === 'unexpected' ? (raw.lastRetried ?? raw.firstFailed) : undefined;
	const status: TestStatus = last === undefined ? passing : failedStatus(last, expectedStatus);
	return { outcome, expectedStatus, status, attempts, failedAttempts };
}

function failedStatus(failure: FailureElement, expectedStatus: TestStatus): TestStatus {
	if (/^Test timeout of \d+ms exceeded/.test(failure.message)) return 'timedOut';
	// A test.fail() that failed is not an unexpected failure: it passed when it should not have.
	return expectedStatus === 'failed' ? 'passed' : 'failed';
}

function firstError(raw: RawCase, expectedStatus: TestStatus, playwright: boolean): TestError | undefined {
	// Attempt order: flaky attempts came before the pass; Playwright writes the first attempt of a
	// failing test as <failure>/<error> after its reruns, Surefire before them.
	const failure = raw.firstFlaky ?? raw.firstFailed ?? raw.firstRerun;
	if (!failure) return undefined;
	const text = cleanText(failure.text).trim();
	if (playwright && expectedStatus === 'failed' && failure.type === 'FAILURE') return { message: 'Expected to fail, but passed.' };
	const fromText = playwright ? playwrightMessage(text) : '';
	const message = fromText || stripAnsi(failure.message).trim() || text.split('\n', 1)[0] || failure.type || 'failed';
	const error: TestError = { message: truncate(message, MAX_TEXT) };
	if (text) error.stack = truncate(text, MAX_TEXT);
	const location = playwright ? errorLocation(text, raw.suite.name) : undefined;
	if (location) error.location = location;
	return error;
}

/**
 * The JSON report's error location is relative to the config's root; JUnit names only the spec
 * file relative to testDir. A stack frame in that file gives the same "file:line:column".
 */
function errorLocation(text: string, file: string): string | undefined {
	const suffix = `/${normaliseFile(file)}:`;
	// Line by line, without parentheses inside the groups: on a long line of "(" a pattern free to
	// match them backtracks quadratically (seconds for 64 KB), as `\s` spanning blank lines does.
	for (const line of text.split(/\r\n|\r|\n/)) {
		if (line.length > MAX_FRAME_LINE) continue;
		const match = /^\s+at (?:[^()]*\()?([^()]+?):(\d+):(\d+)\)?$/.exec(line);
		const path = `/${normaliseFile(match?.[1] ?? '')}:`;
		if (match && path.endsWith(suffix)) return truncate(`${normaliseFile(file)}:${match[2]}:${match[3]}`, 1024);
	}
	return undefined;
}

/**
 * The error message inside Playwright's text as its JSON report has it (message, code snippet and
 * stack): the formatted failure's first attempt without its header line and indent.
 * Retry elements hold the bare stack trace instead, which is the message without the snippet.
 */
function playwrightMessage(text: string): string {
	const lines = text.split('\n');
	// Not /\u2500{3,}\s*$/: on a long line of "─" that does not end in it, that takes seconds.
	const formatted = (lines[0] ?? '').trimEnd().endsWith('\u2500\u2500\u2500');
	if (formatted) lines.shift();
	const end = formatted ? /^\s*(?:Retry #\d+ \u2500|Error Context: )/ : /^\s+at /;
	const message: string[] = [];
	for (const line of lines) {
		if (end.test(line)) break;
		message.push(formatted ? line.replace(/^ {1,4}/, '') : line);
	}
	return message.join('\n').trim();
}

/** One result per identity, as in the JSON parser: more attempts win, then the later element. */
function dedupe(results: TestResultData[]): TestResultData[] {
	const byIdentity = new Map<string, TestResultData>();
	for (const result of results) {
		const key = JSON.stringify([result.file, result.titlePath, result.projectName]);
		const kept = byIdentity.get(key);
		if (!kept || result.attempts >= kept.attempts) byIdentity.set(key, result);
	}
	return [...byIdentity.values()];
}

function earliestTimestamp(suites: Suite[]): string | undefined {
	const times = suites.flatMap((s) => (s.timestamp ? [s.timestamp] : [])).sort();
	return times[0];
}

function runDuration(state: State): number | undefined {
	const rootTime = state.root?.attributes.time;
	if (rootTime !== undefined && state.root?.name === 'testsuites') return seconds(rootTime, '<testsuites>');
	const times = state.allSuites.flatMap((s) => (s.durationMs === undefined ? [] : [s.durationMs]));
	return times.length ? Math.min(times.reduce((a, b) => a + b, 0), MAX_DURATION_MS) : undefined;
}

function normaliseFile(file: string): string {
	return file.replace(/\\/g, '/').replace(/^(?:\.\/)+/, '');
}

function nonEmpty(value: string | undefined): string | undefined {
	return value ? value : undefined;
}
