/**
 * Playwright's TestCase and its results → the protocol's TestResultInput. Pure functions over the
 * few fields they read, so tests can pass minimal fakes.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestCase, TestResult, TestError as PlaywrightError, Location } from '@playwright/test/reporter';
import {
	clipStorable,
	failedAttemptAttachments,
	mergeOwners,
	ownersFromTest,
	testResultInputSchema,
	type Attachment,
	type TestError,
	type TestResultInput,
	type TestStatus
} from './protocol.js';
import { AnnotationList, stripAnsi, storedError } from './playwright-data.js';

export type ResultLike = Pick<TestResult, 'status' | 'retry' | 'duration' | 'startTime' | 'errors'> & {
	/** Annotations added while the attempt ran (Playwright 1.52+). */
	annotations?: ReadonlyArray<{ type: string; description?: string }>;
	/** Files and bodies attached to the attempt (trace, screenshot, video, `testInfo.attach`). */
	attachments?: ReadonlyArray<{ name: string; contentType: string; path?: string | undefined }>;
};

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

/**
 * Titles of the enclosing describe blocks and of the test: no root, project or file suite, and
 * no anonymous describe (`test.describe(() => …)` has the title ''), as in Playwright's JSON
 * report.
 */
export function titlePathOf(test: Pick<TestLike, 'title' | 'parent'>): string[] {
	const titles = [test.title];
	for (let suite: SuiteLike | undefined = test.parent; suite; suite = suite.parent) {
		if (suite.type === 'describe' && suite.title !== '') titles.unshift(suite.title);
	}
	return titles;
}

export function projectNameOf(test: Pick<TestLike, 'parent'>): string {
	return test.parent.project()?.name ?? '';
}

/** Playwright's `parseErrorStack`: the message is everything before the first `    at ` line. */
function splitStack(stack: string): { message: string; frames: string[] } {
	const lines = stack.split('\n');
	let first = lines.findIndex((line) => line.startsWith('    at '));
	if (first === -1) first = lines.length;
	return { message: lines.slice(0, first).join('\n'), frames: lines.slice(first) };
}

/** The first stack frame outside node_modules, as Playwright locates an error without a location. */
function stackLocation(frames: string[]): Location | undefined {
	for (const frame of frames) {
		const m = frame.match(/^\s*at (?:.*? \()?(.+?):(\d+):(\d+)\)?$/);
		if (!m) continue;
		let file = m[1]!;
		if (file.startsWith('file://')) {
			try {
				file = fileURLToPath(file);
			} catch {
				continue;
			}
		}
		if (file.includes(`${path.sep}node_modules${path.sep}`)) continue;
		return { file, line: Number(m[2]), column: Number(m[3]) };
	}
	return undefined;
}

/**
 * What Playwright's JSON reporter writes for an error (its `formatError` without colours): the
 * message as the stack states it, the code snippet, the stack frames and the cause. The server
 * stores this text whether a run is streamed or uploaded as a JSON report, so both read the same.
 */
export function formatError(error: PlaywrightError): { message: string; location?: Location } {
	const message = error.message || error.value || '';
	if (!error.stack && !error.location) return { message };
	const parsed = error.stack ? splitStack(error.stack) : undefined;
	const tokens = [parsed?.message || message];
	if (error.snippet) tokens.push('', stripAnsi(error.snippet));
	if (parsed && parsed.frames.length) tokens.push(parsed.frames.join('\n'));
	if (error.cause) tokens.push(`[cause]: ${formatError(error.cause).message}`);
	const location = error.location ?? (parsed ? stackLocation(parsed.frames) : undefined);
	return location ? { message: tokens.join('\n'), location } : { message: tokens.join('\n') };
}

export function serializeError(rootDir: string, error: PlaywrightError): TestError {
	const formatted = formatError(error);
	return storedError({ message: formatted.message, stack: error.stack, location: formatted.location }, rootDir);
}

/** Playwright's terminal reporters say this for a `test.fail()` that passed; such an attempt has no error. */
export const EXPECTED_TO_FAIL = 'Expected to fail, but passed.';

/**
 * The first error of the first failed attempt that has one (a `test.fail()` that passed has none:
 * it gets `EXPECTED_TO_FAIL`). Errors of attempts that did not fail — a skipped or interrupted
 * attempt, or the expected failure of `test.fail()` — are not the test's error.
 */
export function firstError(rootDir: string, test: Pick<TestLike, 'results' | 'expectedStatus'>): TestError | undefined {
	for (const result of test.results) {
		if (!isFailedAttempt(result, test.expectedStatus)) continue;
		const error = result.errors[0];
		if (error) return serializeError(rootDir, error);
		if (result.status === 'passed' && test.expectedStatus === 'failed') return { message: EXPECTED_TO_FAIL };
	}
	return undefined;
}

/** The files the failed attempts left behind, relative to `projectDir`, as the server's JSON report parser reads them. */
export function collectAttachments(test: Pick<TestLike, 'results' | 'expectedStatus'>, projectDir: string | undefined): Attachment[] {
	return failedAttemptAttachments(
		test.results.filter((r) => isFailedAttempt(r, test.expectedStatus)),
		projectDir
	);
}

/**
 * One test after its last attempt, as the server's JSON report parser reads the same test from
 * Playwright's JSON report. `runStartedAt` stands in for the start of a test that never ran
 * (interrupted run, `maxFailures`). Attachment paths are made relative to `projectDir`; without
 * it none are sent. `fileOwners` are the CODEOWNERS owners of the test's file, undefined when the
 * repository has no CODEOWNERS.
 */
export function serializeTest(test: TestLike, rootDir: string, runStartedAt: Date, projectDir?: string, fileOwners?: readonly string[]): TestResultInput {
	const results = test.results;
	const last = results[results.length - 1];
	const durationMs = Math.round(results.reduce((sum, r) => sum + Math.max(0, r.duration), 0));
	const titles = titlePathOf(test).map((t) => clipStorable(t, 2048));
	const tags = test.tags.map((t) => clipStorable(t.replace(/^@/, ''), 255)).filter((t) => t !== '');
	const serialized: TestResultInput = {
		file: clipStorable(relativeFile(rootDir, test.location.file), 1024),
		titlePath: titles.length > 64 ? titles.slice(-64) : titles,
		projectName: clipStorable(projectNameOf(test), 255),
		tags: [...new Set(tags)].slice(0, 100),
		outcome: test.outcome(),
		expectedStatus: test.expectedStatus,
		status: last?.status ?? 'skipped',
		attempts: Math.min(results.length, 100),
		failedAttempts: Math.min(results.filter((r) => isFailedAttempt(r, test.expectedStatus)).length, 100),
		durationMs: Math.min(durationMs, MAX_INT),
		startedAt: (results[0]?.startTime ?? runStartedAt).toISOString(),
		annotations: AnnotationList.of(test.annotations, ...test.results.map((r) => r.annotations))
	};
	const error = firstError(rootDir, test);
	if (error) serialized.error = error;
	const attachments = collectAttachments(test, projectDir);
	if (attachments.length > 0) serialized.attachments = attachments;
	const owners = testOwners(serialized, fileOwners);
	if (owners) serialized.owners = owners;
	return serialized;
}

/**
 * The test's owners: those it names itself (owner annotations, `@owner:` tags) and those
 * CODEOWNERS gives its file, both. Undefined when neither source says anything, so that the server
 * keeps what it knew; `[]` when a CODEOWNERS was read and gives the file no owner.
 */
export function testOwners(test: Pick<TestResultInput, 'annotations' | 'tags'>, fileOwners: readonly string[] | undefined): string[] | undefined {
	const own = ownersFromTest(test.annotations ?? [], test.tags ?? []);
	if (fileOwners === undefined && own.length === 0) return undefined;
	return mergeOwners(own, fileOwners ?? []);
}

/** Null when the result would be rejected by the server anyway; the reason goes to the debug log. */
export function validateResult(result: TestResultInput): string | null {
	const parsed = testResultInputSchema.safeParse(result);
	return parsed.success ? null : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
}
