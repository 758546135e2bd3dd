/**
 * Parser for Playwright's JSON report (`--reporter=json`), from 1.37 to 1.65: one
 * `TestResultData` per test (file + title path + project), with Playwright's own outcome semantics.
 */
import { z } from 'zod';
import {
	ciMetadataSchema,
	defaultProjectDir,
	failedAttemptAttachments,
	isStorableTime,
	outcomeSchema,
	ownersFromTest,
	storableText,
	storedString,
	testResultInputSchema,
	testStatusSchema,
	type Outcome,
	type TestError,
	type TestResultData,
	type TestStatus
} from 'flackyness-reporter/protocol';
import { AnnotationList } from 'flackyness-reporter/playwright-data';
import { toTestError } from './errors.js';
import type { ParsedReport } from './types.js';

export type ReportPath = (string | number)[];

/** The input is not a Playwright JSON report, or a field we use has the wrong type or size. */
export class ReportFormatError extends Error {
	override name = 'ReportFormatError';
	/** The first bad field, e.g. `['suites', 0, 'specs', 3, 'tests', 0, 'results']`. */
	readonly path: ReportPath;

	/** `message` says what is wrong; callers name the field with `formatReportPath(path)`. */
	constructor(message: string, path: ReportPath) {
		super(message);
		this.path = path;
	}
}

/** `['suites', 0, 'specs', 3]` → `suites[0].specs[3]`. */
export function formatReportPath(path: ReportPath): string {
	return path.reduce<string>((out, key) => {
		if (typeof key === 'number') return `${out}[${key}]`;
		return out ? `${out}.${key}` : key;
	}, '');
}

export interface ParseOptions {
	/** Start time for tests that never ran in a report without `stats` (default: now). */
	now?: Date;
	/**
	 * The directory attachment paths are made relative to (GitLab's CI_PROJECT_DIR, sent as
	 * metadata). Default: the deepest directory holding both the config file and the test directory.
	 */
	projectDir?: string | undefined;
}

export const MAX_SUITE_DEPTH = 50;
export const MAX_TESTS = 200_000;

export const MAX_ATTEMPTS = testResultInputSchema.shape.attempts.maxValue ?? 100;
export const MAX_DURATION_MS = testResultInputSchema.shape.durationMs.maxValue ?? 2_147_483_647;
const MAX_TITLE = testResultInputSchema.shape.titlePath.element.maxLength ?? 2048;
const MAX_FILE = testResultInputSchema.shape.file.maxLength ?? 1024;
const MAX_PROJECT = testResultInputSchema.shape.projectName.unwrap().maxLength ?? 255;
const tagLimits = testResultInputSchema.shape.tags.unwrap();
const MAX_TAG = tagLimits.element.maxLength ?? 255;
// zod arrays do not expose their limits: this repeats `tags` in protocol.ts.
const MAX_TAGS = 100;
const MAX_SHARDS = ciMetadataSchema.shape.shardTotal.unwrap().maxValue ?? 10_000;

// Schemas describe one level of the tree each: children are walked by hand so that depth and
// test count are checked before anything below them is read, and every error carries its path.
// Objects are loose because newer Playwright versions add fields; `null` counts as absent.

// What PostgreSQL cannot store (NUL, half a surrogate pair) becomes U+FFFD, as in the protocol.
const text = (max: number) => storedString().max(max);

const dateString = z
	.string()
	.refine((s) => Number.isFinite(Date.parse(s)), 'Invalid date')
	.refine((s) => isStorableTime(Date.parse(s)), 'must be a date between the years 1 and 9999');

const locationSchema = z.looseObject({ file: z.string(), line: z.number(), column: z.number() });

const errorSchema = z.looseObject({
	message: z.string().nullish(),
	stack: z.string().nullish(),
	value: z.string().nullish(),
	location: locationSchema.nullish()
});

const annotationSchema = z.looseObject({ type: z.string(), description: z.string().nullish() });

const tagsSchema = z.array(z.string()).nullish();

const attachmentSchema = z.looseObject({ name: z.string().nullish(), contentType: z.string().nullish(), path: z.string().nullish() });

const resultSchema = z.looseObject({
	status: testStatusSchema,
	retry: z.number().nullish(),
	attachments: z.array(attachmentSchema).nullish(),
	duration: z.number().nullish(),
	startTime: dateString.nullish(),
	error: errorSchema.nullish(),
	errors: z.array(errorSchema).nullish(),
	annotations: z.array(annotationSchema).nullish()
});
type RawResult = z.infer<typeof resultSchema>;

const testSchema = z.looseObject({
	projectName: text(MAX_PROJECT).nullish(),
	expectedStatus: testStatusSchema.nullish(),
	status: outcomeSchema.nullish(),
	annotations: z.array(annotationSchema).nullish(),
	tags: tagsSchema,
	results: z.array(resultSchema)
});
type RawTest = z.infer<typeof testSchema>;

const specSchema = z.looseObject({
	title: text(MAX_TITLE),
	file: text(MAX_FILE).nullish(),
	tags: tagsSchema,
	tests: z.array(z.unknown())
});

const suiteSchema = z.looseObject({
	title: text(MAX_TITLE),
	file: text(MAX_FILE).nullish(),
	specs: z.array(z.unknown()).nullish(),
	suites: z.array(z.unknown()).nullish()
});

const reportSchema = z.looseObject({
	config: z
		.looseObject({
			version: text(32).nullish(),
			rootDir: z.string().nullish(),
			configFile: z.string().nullish(),
			shard: z
				.looseObject({ current: z.number().int().min(1).max(MAX_SHARDS), total: z.number().int().min(1).max(MAX_SHARDS) })
				.refine((s) => s.current <= s.total, 'shard.current must not exceed shard.total')
				.nullish(),
			onlyFailures: z.boolean().nullish(),
			failOnFlakyTests: z.boolean().nullish(),
			reporter: z.unknown().optional()
		})
		.nullish(),
	suites: z.array(z.unknown()),
	errors: z.array(errorSchema).nullish(),
	stats: z.looseObject({ startTime: dateString.nullish(), duration: z.number().min(0).nullish() }).nullish()
});
type RawReport = z.infer<typeof reportSchema>;

function validate<T extends z.ZodType>(schema: T, value: unknown, path: ReportPath): z.infer<T> {
	const parsed = schema.safeParse(value);
	if (parsed.success) return parsed.data;
	const issue = parsed.error.issues[0];
	const issuePath = (issue?.path ?? []).map((key) => (typeof key === 'symbol' ? String(key) : key));
	throw new ReportFormatError(issue?.message ?? 'Invalid value', [...path, ...issuePath]);
}

/** What a test inherits from the suites above it. */
interface SuiteContext {
	/** Describe titles, outermost first; the file suite's title (the file name) is not one. */
	titles: string[];
	/** The nearest suite `file`: reports before specs carried their own `file` only had this. */
	file: string | undefined;
	depth: number;
}

/** State of one parse: report-wide settings and what the walk has collected so far. */
interface ParseState {
	rootDir: string | undefined;
	/** What attachment paths are relative to; undefined when nothing sensible is known. */
	projectDir: string | undefined;
	/** Until 1.41 spec tags came only from the test's own title, so describe titles are read too. */
	tagsFromTitles: boolean;
	testCount: number;
	tests: ParsedTest[];
}

interface ParsedTest {
	result: Omit<TestResultData, 'startedAt'> & { startedAt: string | undefined };
	anyInterrupted: boolean;
	path: ReportPath;
}

/**
 * Parses a Playwright JSON report. Throws `ReportFormatError` (with the path of the first bad
 * field) for anything that is not a report or has a field of the wrong type or size.
 */
export function parsePlaywrightReport(input: unknown, opts: ParseOptions = {}): ParsedReport {
	if (typeof input !== 'object' || input === null || Array.isArray(input)) {
		throw new ReportFormatError('A Playwright JSON report must be a JSON object', []);
	}
	const report = validate(reportSchema, input, []);
	const config = report.config ?? undefined;
	const playwrightVersion = config?.version ?? undefined;
	const state: ParseState = {
		rootDir: config?.rootDir ?? undefined,
		projectDir: opts.projectDir ?? defaultProjectDir(config?.configFile, config?.rootDir),
		tagsFromTitles: !isAtLeast(playwrightVersion, 1, 42),
		testCount: 0,
		tests: []
	};
	report.suites.forEach((suite, index) => {
		serializeSuite(suite, ['suites', index], { titles: [], file: undefined, depth: 1 }, state);
	});

	const startedAt = reportStartedAt(report, state.tests);
	const fallbackStart = startedAt ?? (opts.now ?? new Date()).toISOString();
	const results = dedupe(state.tests).map(({ result, path }) =>
		finalizeResult({ ...result, startedAt: result.startedAt ?? fallbackStart }, path)
	);

	const parsed: ParsedReport = {
		results,
		status: runStatus(report, state.tests),
		errors: (report.errors ?? []).map((error) => toTestError(error, { rootDir: state.rootDir }).message),
		onlyFailures: writtenWithOnlyFailures(config),
		shard: config?.shard ? { current: config.shard.current, total: config.shard.total } : null
	};
	if (playwrightVersion !== undefined) parsed.playwrightVersion = playwrightVersion;
	if (startedAt !== undefined) parsed.startedAt = startedAt;
	if (typeof report.stats?.duration === 'number') {
		parsed.durationMs = Math.min(Math.round(report.stats.duration), MAX_DURATION_MS);
	}
	return parsed;
}

function serializeSuite(raw: unknown, path: ReportPath, parent: SuiteContext, state: ParseState): void {
	if (parent.depth > MAX_SUITE_DEPTH) {
		throw new ReportFormatError(`suites are nested more than ${MAX_SUITE_DEPTH} deep`, path);
	}
	const suite = validate(suiteSchema, raw, path);
	const isFileSuite = parent.depth === 1;
	const context: SuiteContext = {
		// Anonymous describes (`test.describe(() => …)`) have an empty title and name nothing.
		titles: isFileSuite || suite.title === '' ? parent.titles : [...parent.titles, suite.title],
		file: nonEmpty(suite.file) ?? parent.file ?? (isFileSuite ? nonEmpty(suite.title) : undefined),
		depth: parent.depth + 1
	};
	(suite.specs ?? []).forEach((spec, index) => serializeSpec(spec, [...path, 'specs', index], context, state));
	(suite.suites ?? []).forEach((child, index) => serializeSuite(child, [...path, 'suites', index], context, state));
}

function serializeSpec(raw: unknown, path: ReportPath, suite: SuiteContext, state: ParseState): void {
	const spec = validate(specSchema, raw, path);
	state.testCount += spec.tests.length;
	if (state.testCount > MAX_TESTS) {
		throw new ReportFormatError(`the report holds more than ${MAX_TESTS} tests`, [...path, 'tests']);
	}
	const file = nonEmpty(spec.file) ?? suite.file;
	if (file === undefined) throw new ReportFormatError('no file is known for this spec', [...path, 'file']);
	const specTags = fieldTags(spec.tags, [...path, 'tags']);
	spec.tests.forEach((raw, index) => {
		const testPath = [...path, 'tests', index];
		const test = validate(testSchema, raw, testPath);
		const tags = [...specTags, ...fieldTags(test.tags, [...testPath, 'tags'])];
		if (state.tagsFromTitles || (spec.tags == null && test.tags == null)) {
			tags.push(...titleTags([...suite.titles, spec.title]));
		}
		const unique = [...new Set(tags)];
		if (unique.length > MAX_TAGS) throw new ReportFormatError(`more than ${MAX_TAGS} tags`, [...testPath, 'tags']);
		state.tests.push(serializeTest(test, testPath, { title: spec.title, file, tags: unique }, suite, state));
	});
}

function serializeTest(
	test: RawTest,
	path: ReportPath,
	spec: { title: string; file: string; tags: string[] },
	suite: SuiteContext,
	state: ParseState
): ParsedTest {
	// Playwright always writes it; its own report reader (TeleTestCase) defaults to 'passed' too.
	const expectedStatus: TestStatus = test.expectedStatus ?? 'passed';
	const results = test.results;
	const last = results.at(-1);
	const error = firstFailureError(results, expectedStatus, state.rootDir);
	const result: ParsedTest['result'] = {
		file: normaliseFile(spec.file),
		titlePath: [...suite.titles, spec.title],
		projectName: test.projectName ?? '',
		tags: spec.tags,
		outcome: test.status ?? computeOutcome(results, expectedStatus),
		expectedStatus,
		status: last?.status ?? 'skipped',
		// More than the protocol's maximum of retries is absurd but not wrong: keep the test.
		attempts: Math.min(results.length, MAX_ATTEMPTS),
		failedAttempts: Math.min(results.filter((r) => isFailedAttempt(r, expectedStatus)).length, MAX_ATTEMPTS),
		durationMs: Math.min(
			Math.round(results.reduce((sum, r) => sum + Math.max(0, r.duration ?? 0), 0)),
			MAX_DURATION_MS
		),
		startedAt: results[0]?.startTime ? new Date(results[0].startTime).toISOString() : undefined,
		annotations: AnnotationList.of(test.annotations, ...test.results.map((r) => r.annotations))
	};
	if (error) result.error = error;
	const attachments = failedAttemptAttachments(
		results.flatMap((r, index) => (isFailedAttempt(r, expectedStatus) ? [{ retry: r.retry ?? index, attachments: r.attachments }] : [])),
		state.projectDir
	);
	if (attachments.length > 0) result.attachments = attachments;
	// The server has no CODEOWNERS: a report names owners only through owner annotations and
	// `@owner:` tags. Without any, the test's stored owners (perhaps from the reporter) stay.
	const owners = ownersFromTest(result.annotations, spec.tags);
	if (owners.length > 0) result.owners = owners;
	return { result, anyInterrupted: results.some((r) => r.status === 'interrupted'), path };
}

/**
 * Playwright's `TestCase.outcome()` (`computeTestCaseOutcome` in playwright 1.65.1), for reports
 * whose tests carry no `status`. Interrupted attempts count neither way, and a skipped attempt of
 * a test that was not meant to be skipped did not run.
 */
export function computeOutcome(results: ReadonlyArray<{ status: TestStatus }>, expectedStatus: TestStatus): Outcome {
	let skipped = 0;
	let expected = 0;
	let unexpected = 0;
	for (const { status } of results) {
		if (status === 'interrupted') continue;
		if (status === 'skipped') {
			if (expectedStatus === 'skipped') ++skipped;
		} else if (status === expectedStatus) ++expected;
		else ++unexpected;
	}
	if (expected === 0 && unexpected === 0) return 'skipped';
	if (unexpected === 0) return 'expected';
	if (expected === 0 && skipped === 0) return 'unexpected';
	return 'flaky';
}

/**
 * An attempt that counts against the test: it did not end as expected, and it was neither
 * skipped nor interrupted (an interrupted attempt was stopped by the run, not failed by the
 * test, and Playwright's outcome ignores it too).
 */
function isFailedAttempt(result: RawResult, expectedStatus: TestStatus): boolean {
	return result.status !== expectedStatus && result.status !== 'skipped' && result.status !== 'interrupted';
}

function firstFailureError(results: RawResult[], expectedStatus: TestStatus, rootDir: string | undefined): TestError | undefined {
	for (const result of results) {
		if (!isFailedAttempt(result, expectedStatus)) continue;
		const raw = result.errors?.[0] ?? result.error;
		if (raw) {
			const error = toTestError(raw, { rootDir });
			// `errors[]` entries hold message, snippet and frames but no stack; `error` is the same
			// first error with its stack.
			if (error.stack === undefined && result.error?.stack) {
				const stack = toTestError(result.error).stack;
				if (stack !== undefined) error.stack = stack;
			}
			return error;
		}
		// Playwright's terminal reporters say this for a test.fail() that passed; the report has no error.
		if (result.status === 'passed' && expectedStatus === 'failed') return { message: 'Expected to fail, but passed.' };
	}
	return undefined;
}

/** Tags recorded by Playwright (since 1.42 with the '@' removed; we accept both spellings). */
function fieldTags(tags: string[] | null | undefined, path: ReportPath): string[] {
	return (tags ?? []).flatMap((raw, index) => {
		const tag = storableText(raw.replace(/^@/, ''));
		if (tag.length > MAX_TAG) throw new ReportFormatError(`tag longer than ${MAX_TAG} characters`, [...path, index]);
		return tag === '' ? [] : [tag];
	});
}

/**
 * Tags written in titles, by Playwright's own rule (every word starting with '@' in the joined
 * titles). Until 1.41 reports took them from the test's own title only, or not at all.
 */
export function titleTags(titles: string[]): string[] {
	const words = titles.join(' ').match(/@\S+/g) ?? [];
	// An over-long word is prose that happens to contain '@', not a tag worth rejecting for.
	return words.map((word) => storableText(word.slice(1))).filter((tag) => tag !== '' && tag.length <= MAX_TAG);
}

/**
 * One result per identity. The same file + title path + project appears twice when shard reports
 * that overlap are merged, or with `--repeat-each`. We keep the entry with more attempts (its
 * retries are evidence: a pass after a failure is what makes a test flaky), and among equals the
 * one that started last (the newest execution); on a full tie the later one in the report.
 */
function dedupe(tests: ParsedTest[]): ParsedTest[] {
	const byIdentity = new Map<string, ParsedTest>();
	for (const test of tests) {
		const { file, titlePath, projectName } = test.result;
		const key = JSON.stringify([file, titlePath, projectName]);
		const kept = byIdentity.get(key);
		// Map.set on an existing key keeps its position: results stay in report order.
		if (!kept || prefer(test, kept)) byIdentity.set(key, test);
	}
	return [...byIdentity.values()];
}

function prefer(candidate: ParsedTest, kept: ParsedTest): boolean {
	if (candidate.result.attempts !== kept.result.attempts) return candidate.result.attempts > kept.result.attempts;
	const a = candidate.result.startedAt ?? '';
	const b = kept.result.startedAt ?? '';
	return a >= b;
}

/** Last line of defence: what we send on must be a valid `TestResultData`. */
function finalizeResult(result: TestResultData, path: ReportPath): TestResultData {
	const parsed = testResultInputSchema.safeParse(result);
	if (parsed.success) return parsed.data;
	const issue = parsed.error.issues[0];
	const field = formatReportPath((issue?.path ?? []).map((key) => (typeof key === 'symbol' ? String(key) : key)));
	throw new ReportFormatError(`does not make a valid result (${field}: ${issue?.message ?? 'invalid'})`, path);
}

function reportStartedAt(report: RawReport, tests: ParsedTest[]): string | undefined {
	if (report.stats?.startTime) return new Date(report.stats.startTime).toISOString();
	let earliest: string | undefined;
	for (const { result } of tests) {
		if (result.startedAt !== undefined && (earliest === undefined || result.startedAt < earliest)) earliest = result.startedAt;
	}
	return earliest;
}

/**
 * Playwright's run verdict as far as the report shows it: a failed test or a report-level error
 * (a file that did not load, the global timeout) fails the run; otherwise an interrupted attempt
 * marks it interrupted. Every test in the report counts, duplicates included.
 */
function runStatus(report: RawReport, tests: ParsedTest[]): ParsedReport['status'] {
	const failOnFlaky = report.config?.failOnFlakyTests === true;
	const failed = tests.some(
		({ result }) => result.outcome === 'unexpected' || (failOnFlaky && result.outcome === 'flaky')
	);
	if (failed || (report.errors?.length ?? 0) > 0) return 'failed';
	if (tests.some((test) => test.anyInterrupted)) return 'interrupted';
	return 'passed';
}

/**
 * Playwright 1.65 records `onlyFailures` nowhere in the report itself. We honour an explicit
 * `config.onlyFailures`, and the JSON reporter's option when it was set in the config file (it
 * then shows in `config.reporter`). Set only by PLAYWRIGHT_JSON_ONLY_FAILURES it cannot be seen.
 */
function writtenWithOnlyFailures(config: RawReport['config']): boolean {
	if (config?.onlyFailures != null) return config.onlyFailures;
	if (!Array.isArray(config?.reporter)) return false;
	return config.reporter.some(
		(entry: unknown) =>
			Array.isArray(entry) &&
			entry[0] === 'json' &&
			typeof entry[1] === 'object' &&
			entry[1] !== null &&
			(entry[1] as { onlyFailures?: unknown }).onlyFailures === true
	);
}

function normaliseFile(file: string): string {
	return file.replace(/\\/g, '/').replace(/^(?:\.\/)+/, '');
}

function nonEmpty(value: string | null | undefined): string | undefined {
	return value ? value : undefined;
}

function isAtLeast(version: string | undefined, major: number, minor: number): boolean {
	const match = version?.match(/^(\d+)\.(\d+)/);
	if (!match) return false;
	const [actualMajor, actualMinor] = [Number(match[1]), Number(match[2])];
	return actualMajor > major || (actualMajor === major && actualMinor >= minor);
}
