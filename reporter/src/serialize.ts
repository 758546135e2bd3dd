/**
 * Playwright's TestCase and its results → the protocol's TestResultInput. Pure functions over the
 * few fields they read, so tests can pass minimal fakes.
 */
import path from 'node:path';
import type { TestCase, TestResult, TestError as PlaywrightError, Location } from '@playwright/test/reporter';
import { testResultInputSchema, type TestError, type TestResultInput, type TestStatus } from './protocol.js';

export type ResultLike = Pick<TestResult, 'status' | 'retry' | 'duration' | 'startTime' | 'errors'>;

export interface SuiteLike {
	title: string;
	type: 'root' | 'project' | 'file' | 'describe';
	parent?: SuiteLike;
	project(): { name: string } | undefined;
}

export interface TestLike extends Pick<TestCase, 'title' | 'tags' | 'expectedStatus' | 'retries' | 'location' | 'outcome'> {
	annotations: ReadonlyArray<{ type: string; description?: string }>;
	results: ReadonlyArray<ResultLike>;
	parent: SuiteLike;
}

const MAX_TEXT = 65_536;
const MAX_INT = 2_147_483_647;

/**
 * Whether this attempt is the test's last: it went as expected, or no retry is left. An attempt
 * that failed with retries left is not — `test.outcome()` is not final until the retry is known.
 * Other cases (an interrupted attempt) are settled at the end of the run.
 */
export function isFinalAttempt(test: Pick<TestLike, 'expectedStatus' | 'retries'>, result: Pick<ResultLike, 'status' | 'retry'>): boolean {
	return result.status === test.expectedStatus || result.retry >= test.retries;
}

/**
 * Whether the test is in a serial group (`test.describe.serial`, `mode: 'serial'`). When one test
 * of such a group fails, the whole group is retried, passed tests included: their last attempt is
 * known only at the end of the run. Playwright keeps the mode in a private field; without it, this
 * says false and tests are sent as usual.
 */
export function inSerialGroup(test: { parent?: SuiteLike }): boolean {
	for (let suite = test.parent; suite; suite = suite.parent) {
		if ((suite as { _parallelMode?: unknown })._parallelMode === 'serial') return true;
	}
	return false;
}

/**
 * An attempt that did not go as expected and would be retried: failed, timed out, or passed when
 * expected to fail. Skipped and interrupted attempts are not failures of the test.
 */
export function isFailedAttempt(result: Pick<ResultLike, 'status'>, expectedStatus: TestStatus): boolean {
	return result.status !== expectedStatus && result.status !== 'skipped' && result.status !== 'interrupted';
}

/** Path relative to `rootDir`, with forward slashes. */
export function relativeFile(rootDir: string, file: string): string {
	const rel = path.relative(rootDir, file) || path.basename(file);
	return rel.split(path.sep).join('/');
}

/** Titles of the enclosing describe blocks and of the test: no root, project or file suite. */
export function titlePathOf(test: Pick<TestLike, 'title' | 'parent'>): string[] {
	const titles = [test.title];
	for (let suite: SuiteLike | undefined = test.parent; suite; suite = suite.parent) {
		if (suite.type === 'describe') titles.unshift(suite.title);
	}
	return titles;
}

export function projectNameOf(test: Pick<TestLike, 'parent'>): string {
	return test.parent.project()?.name ?? '';
}

// eslint-disable-next-line no-control-regex
const ANSI = /[\u001b\u009b][[\]()#;?]*(?:(?:(?:;[-a-zA-Z\d/#&.:=?%@~_]*)*)?\u0007|(?:\d{1,4}(?:;\d{0,4})*)?[\dA-ORZcf-nqry=><])/g;

export function stripAnsi(s: string): string {
	return s.replace(ANSI, '');
}

function clip(s: string, max: number): string {
	return s.length > max ? s.slice(0, max) : s;
}

export function serializeLocation(rootDir: string, location: Location | undefined): string | undefined {
	if (!location?.file) return undefined;
	return clip(`${relativeFile(rootDir, location.file)}:${location.line}:${location.column}`, 1024);
}

export function serializeError(rootDir: string, error: PlaywrightError): TestError {
	const out: TestError = {
		message: clip(stripAnsi(error.message ?? error.value ?? 'Unknown error'), MAX_TEXT)
	};
	if (error.stack) out.stack = clip(stripAnsi(error.stack), MAX_TEXT);
	const location = serializeLocation(rootDir, error.location);
	if (location) out.location = location;
	return out;
}

/** First error of the first failed attempt; else the first error of any attempt. */
export function firstError(test: Pick<TestLike, 'results' | 'expectedStatus'>): PlaywrightError | undefined {
	const failed = test.results.find((r) => isFailedAttempt(r, test.expectedStatus) && r.errors.length > 0);
	return (failed ?? test.results.find((r) => r.errors.length > 0))?.errors[0];
}

/**
 * One test after its last attempt. `runStartedAt` stands in for the start of a test that never
 * ran (interrupted run, `maxFailures`).
 */
export function serializeTest(test: TestLike, rootDir: string, runStartedAt: Date): TestResultInput {
	const results = test.results;
	const last = results[results.length - 1];
	const durationMs = results.reduce((sum, r) => sum + Math.max(0, Math.round(r.duration)), 0);
	const titles = titlePathOf(test).map((t) => clip(t, 2048));
	const serialized: TestResultInput = {
		file: clip(relativeFile(rootDir, test.location.file), 1024),
		titlePath: titles.length > 64 ? titles.slice(-64) : titles,
		projectName: clip(projectNameOf(test), 255),
		tags: [...new Set(test.tags.map((t) => clip(t.replace(/^@/, ''), 255)))].slice(0, 100),
		outcome: test.outcome(),
		expectedStatus: test.expectedStatus,
		status: last?.status ?? 'skipped',
		attempts: Math.min(results.length, 100),
		failedAttempts: Math.min(results.filter((r) => isFailedAttempt(r, test.expectedStatus)).length, 100),
		durationMs: Math.min(durationMs, MAX_INT),
		startedAt: (results[0]?.startTime ?? runStartedAt).toISOString(),
		annotations: test.annotations.slice(0, 100).map((a) => {
			const annotation: { type: string; description?: string } = { type: clip(String(a.type), 255) };
			if (a.description !== undefined) annotation.description = clip(String(a.description), 4096);
			return annotation;
		})
	};
	const error = firstError(test);
	if (error) serialized.error = serializeError(rootDir, error);
	return serialized;
}

/** Null when the result would be rejected by the server anyway; the reason goes to the debug log. */
export function validateResult(result: TestResultInput): string | null {
	const parsed = testResultInputSchema.safeParse(result);
	return parsed.success ? null : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
}
