import { describe, expect, it } from 'vitest';
import type { TestStatus } from './protocol.js';
import { inSerialGroup, isFinalAttempt, relativeFile, serializeTest, stripAnsi, titlePathOf, validateResult, type ResultLike, type SuiteLike, type TestLike } from './serialize.js';

const ROOT = '/repo/tests';

function suite(type: SuiteLike['type'], title: string, parent?: SuiteLike, projectName = 'chromium'): SuiteLike {
	return { type, title, ...(parent ? { parent } : {}), project: () => (type === 'root' ? undefined : { name: projectName }) };
}

const root = suite('root', '');
const project = suite('project', 'chromium', root);
const file = suite('file', 'auth/login.spec.ts', project);
const describeBlock = suite('describe', 'login', file);
const nested = suite('describe', 'with SSO', describeBlock);

function result(status: TestStatus, retry: number, extra: Partial<ResultLike> = {}): ResultLike {
	return { status, retry, duration: 100.4, startTime: new Date(Date.UTC(2026, 0, 1, 0, 0, retry)), errors: [], ...extra };
}

function fakeTest(results: ResultLike[], extra: Partial<TestLike> = {}, outcome: ReturnType<TestLike['outcome']> = 'expected'): TestLike {
	return {
		title: 'signs in',
		tags: ['@smoke', '@auth'],
		expectedStatus: 'passed',
		retries: 2,
		location: { file: '/repo/tests/auth/login.spec.ts', line: 3, column: 5 },
		outcome: () => outcome,
		annotations: [{ type: 'issue', description: 'https://example.com/1' }],
		results,
		parent: nested,
		...extra
	};
}

describe('isFinalAttempt', () => {
	const t = { expectedStatus: 'passed' as TestStatus, retries: 2 };
	it('is final when the attempt went as expected', () => {
		expect(isFinalAttempt(t, { status: 'passed', retry: 0 })).toBe(true);
	});
	it('is not final after a failure with retries left', () => {
		expect(isFinalAttempt(t, { status: 'failed', retry: 0 })).toBe(false);
		expect(isFinalAttempt(t, { status: 'timedOut', retry: 1 })).toBe(false);
	});
	it('is final on the last retry, whatever happened', () => {
		expect(isFinalAttempt(t, { status: 'failed', retry: 2 })).toBe(true);
	});
	it('is final when a test expected to fail fails', () => {
		expect(isFinalAttempt({ expectedStatus: 'failed', retries: 2 }, { status: 'failed', retry: 0 })).toBe(true);
	});
	it('is final for a skipped test', () => {
		expect(isFinalAttempt({ expectedStatus: 'skipped', retries: 2 }, { status: 'skipped', retry: 0 })).toBe(true);
	});
	it('is final without retries', () => {
		expect(isFinalAttempt({ expectedStatus: 'passed', retries: 0 }, { status: 'failed', retry: 0 })).toBe(true);
	});
});

describe('inSerialGroup', () => {
	it('finds a serial suite among the parents', () => {
		const serial = { ...suite('describe', 'serial', file), _parallelMode: 'serial' };
		expect(inSerialGroup({ parent: suite('describe', 'inner', serial) })).toBe(true);
		expect(inSerialGroup({ parent: nested })).toBe(false);
	});
});

describe('titlePathOf and relativeFile', () => {
	it('keeps describe titles and the test title, not root, project or file', () => {
		expect(titlePathOf({ title: 'signs in', parent: nested })).toEqual(['login', 'with SSO', 'signs in']);
		expect(titlePathOf({ title: 'top', parent: file })).toEqual(['top']);
	});
	it('makes paths relative with forward slashes', () => {
		expect(relativeFile('/repo/tests', '/repo/tests/a/b.spec.ts')).toBe('a/b.spec.ts');
	});
});

describe('serializeTest', () => {
	it('serialises a flaky test: attempts, failed attempts, summed duration, first start, first error', () => {
		const t = fakeTest(
			[
				result('failed', 0, {
					errors: [
						{ message: '\u001b[31mError: boom\u001b[39m', stack: 'Error: boom\n    at x', location: { file: '/repo/tests/auth/login.spec.ts', line: 9, column: 7 } },
						{ message: 'second error' }
					]
				}),
				result('timedOut', 1, { errors: [{ message: 'Test timeout of 30000ms exceeded.' }] }),
				result('passed', 2)
			],
			{},
			'flaky'
		);
		const s = serializeTest(t, ROOT, new Date(0));
		expect(s).toEqual({
			file: 'auth/login.spec.ts',
			titlePath: ['login', 'with SSO', 'signs in'],
			projectName: 'chromium',
			tags: ['smoke', 'auth'],
			outcome: 'flaky',
			expectedStatus: 'passed',
			status: 'passed',
			attempts: 3,
			failedAttempts: 2,
			durationMs: 300,
			startedAt: '2026-01-01T00:00:00.000Z',
			annotations: [{ type: 'issue', description: 'https://example.com/1' }],
			error: { message: 'Error: boom', stack: 'Error: boom\n    at x', location: 'auth/login.spec.ts:9:7' }
		});
		expect(validateResult(s)).toBeNull();
	});

	it('does not count the expected failure of test.fail() as a failed attempt', () => {
		const t = fakeTest([result('failed', 0, { errors: [{ message: 'expected' }] })], { expectedStatus: 'failed' });
		const s = serializeTest(t, ROOT, new Date(0));
		expect(s).toMatchObject({ failedAttempts: 0, status: 'failed', outcome: 'expected', error: { message: 'expected' } });
	});

	it('serialises a test that never ran as skipped, started with the run', () => {
		const s = serializeTest(fakeTest([]), ROOT, new Date(Date.UTC(2026, 1, 1)));
		expect(s).toMatchObject({ attempts: 0, failedAttempts: 0, status: 'skipped', durationMs: 0, startedAt: '2026-02-01T00:00:00.000Z' });
		expect(s.error).toBeUndefined();
		expect(validateResult(s)).toBeNull();
	});

	it('uses an empty project name for the unnamed project', () => {
		const unnamed = suite('file', 'a.spec.ts', suite('project', '', root, ''), '');
		expect(serializeTest(fakeTest([result('passed', 0)], { parent: unnamed }), ROOT, new Date(0)).projectName).toBe('');
	});

	it('clips what the protocol limits, so the server never rejects a result', () => {
		const t = fakeTest([result('failed', 0, { errors: [{ message: 'm'.repeat(100_000) }] })], {
			title: 't'.repeat(5000),
			tags: Array.from({ length: 150 }, (_, i) => `@tag${i}`),
			annotations: Array.from({ length: 150 }, () => ({ type: 'x'.repeat(300), description: 'd'.repeat(5000) }))
		});
		const s = serializeTest(t, ROOT, new Date(0));
		expect(validateResult(s)).toBeNull();
		expect(s.error?.message).toHaveLength(65_536);
		expect(s.tags).toHaveLength(100);
	});
});

describe('stripAnsi', () => {
	it('removes colour codes', () => {
		expect(stripAnsi('\u001b[2mexpect(\u001b[22m\u001b[31mreceived\u001b[39m')).toBe('expect(received');
	});
});
