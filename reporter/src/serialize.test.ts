import { describe, expect, it } from 'vitest';
import { ownerName, ownersFromTest, type TestStatus } from './protocol.js';
import {
	formatError,
	inSerialGroup,
	isFinalAttempt,
	relativeFile,
	serializeTest,
	testOwners,
	titlePathOf,
	validateResult,
	type ResultLike,
	type SuiteLike,
	type TestLike
} from './serialize.js';

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
	it('leaves out anonymous describe blocks, as Playwright’s JSON report does', () => {
		const anonymous = suite('describe', '', describeBlock);
		expect(titlePathOf({ title: 'inside', parent: suite('describe', '', anonymous) })).toEqual(['login', 'inside']);
	});
	it('makes paths relative with forward slashes', () => {
		expect(relativeFile('/repo/tests', '/repo/tests/a/b.spec.ts')).toBe('a/b.spec.ts');
	});
});

describe('serializeTest', () => {
	it('sends U+FFFD for lone surrogates and NUL in every text, so the server can store the batch', () => {
		const cut = '😀'.slice(0, 1);
		const t = fakeTest([result('failed', 0, { errors: [{ message: `Error: ${cut}`, stack: `Error: ${cut}\n    at x` }] })], {
			title: `cut ${cut} and nul\u0000`,
			tags: [`@odd${cut}`],
			annotations: [{ type: `t${cut}`, description: `d\udc00` }],
			location: { file: `/repo/tests/${cut}.spec.ts`, line: 1, column: 1 },
			parent: suite('describe', `block ${cut}`, suite('file', 'x.spec.ts', suite('project', 'p', root, `proj${cut}`), `proj${cut}`), `proj${cut}`)
		}, 'unexpected');
		const s = serializeTest(t, ROOT, new Date(0));
		expect(s).toMatchObject({
			file: '\uFFFD.spec.ts',
			titlePath: ['block \uFFFD', 'cut \uFFFD and nul\uFFFD'],
			projectName: 'proj\uFFFD',
			tags: ['odd\uFFFD'],
			annotations: [{ type: 't\uFFFD', description: 'd\uFFFD' }],
			error: { message: 'Error: \uFFFD\n    at x', stack: 'Error: \uFFFD\n    at x' }
		});
		expect(JSON.stringify(s)).not.toMatch(/\\u(d[89a-f]|0000)/i);
		expect(validateResult(s)).toBeNull();
	});

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
			// 3 × 100.4 ms, rounded once as the server rounds the durations of a JSON report.
			durationMs: 301,
			startedAt: '2026-01-01T00:00:00.000Z',
			annotations: [{ type: 'issue', description: 'https://example.com/1' }],
			error: { message: 'Error: boom\n    at x', stack: 'Error: boom\n    at x', location: 'auth/login.spec.ts:9:7' }
		});
		expect(validateResult(s)).toBeNull();
	});

	it('does not count the expected failure of test.fail() as a failed attempt, nor its error as the test’s', () => {
		const t = fakeTest([result('failed', 0, { errors: [{ message: 'expected' }] })], { expectedStatus: 'failed' });
		const s = serializeTest(t, ROOT, new Date(0));
		expect(s).toMatchObject({ failedAttempts: 0, status: 'failed', outcome: 'expected' });
		expect(s.error).toBeUndefined();
	});

	it('says a test.fail() that passed was expected to fail, as Playwright’s terminal reporters do', () => {
		const t = fakeTest([result('passed', 0)], { expectedStatus: 'failed', retries: 0 }, 'unexpected');
		expect(serializeTest(t, ROOT, new Date(0))).toMatchObject({ failedAttempts: 1, error: { message: 'Expected to fail, but passed.' } });
	});

	it('takes the error of the first failed attempt only: none when no failed attempt has one', () => {
		const interrupted = result('interrupted', 1, { errors: [{ message: 'interrupted' }] });
		const t = fakeTest([result('passed', 0), interrupted]);
		expect(serializeTest(t, ROOT, new Date(0)).error).toBeUndefined();
		const later = fakeTest([result('failed', 0), result('failed', 1, { errors: [{ message: 'second attempt' }] })], {}, 'unexpected');
		expect(serializeTest(later, ROOT, new Date(0)).error).toEqual({ message: 'second attempt' });
	});

	it('keeps annotations added while running, once each', () => {
		const t = fakeTest([result('passed', 0, { annotations: [{ type: 'issue', description: 'https://example.com/1' }, { type: 'slow' }] })]);
		expect(serializeTest(t, ROOT, new Date(0)).annotations).toEqual([{ type: 'issue', description: 'https://example.com/1' }, { type: 'slow' }]);
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

describe('formatError', () => {
	it('writes what Playwright’s JSON reporter writes: message from the stack, snippet, frames, cause', () => {
		const formatted = formatError({
			message: 'Error: \u001b[31mboom\u001b[39m',
			stack: 'Error: boom\n  second line\n    at fn (/repo/node_modules/lib/x.js:1:2)\n    at /repo/tests/a.spec.ts:4:5',
			snippet: '\u001b[2m> 4 |\u001b[22m   boom();',
			cause: { message: 'inner' }
		});
		expect(formatted).toEqual({
			message: 'Error: boom\n  second line\n\n> 4 |   boom();\n    at fn (/repo/node_modules/lib/x.js:1:2)\n    at /repo/tests/a.spec.ts:4:5\n[cause]: inner',
			location: { file: '/repo/tests/a.spec.ts', line: 4, column: 5 }
		});
	});
	it('keeps a bare message as it is', () => {
		expect(formatError({ value: 'thrown string' })).toEqual({ message: 'thrown string' });
	});
	it('locates errors outside the root directory by their absolute path', () => {
		const t = fakeTest([result('failed', 0, { errors: [{ message: 'x', location: { file: '/elsewhere/helper.ts', line: 1, column: 2 } }] })], {}, 'unexpected');
		expect(serializeTest(t, ROOT, new Date(0)).error?.location).toBe('/elsewhere/helper.ts:1:2');
	});
});

describe('owners of a test', () => {
	it('names owners from owner annotations and @owner: tags only, written as CODEOWNERS writes them', () => {
		const annotations = [
			{ type: 'owner', description: '@checkout' },
			{ type: 'OWNERS', description: 'payments,  jane@example.com\t@web/ui' },
			{ type: 'issue', description: '@not-an-owner' },
			{ type: 'owner' }
		];
		expect(ownersFromTest(annotations, ['owner:search', '@owner:@qa', 'team-x', 'owners:nope'])).toEqual([
			'@checkout',
			'@payments',
			'jane@example.com',
			'@web/ui',
			'@search',
			'@qa'
		]);
		expect(ownerName('  ')).toBeUndefined();
		expect(ownerName('@')).toBeUndefined();
		expect(ownerName('x'.repeat(255))).toBeUndefined();
	});

	it('joins the test’s own owners and its file’s CODEOWNERS owners, once each, at most 20', () => {
		const test = { annotations: [{ type: 'owner', description: '@mine' }], tags: [] };
		expect(testOwners(test, ['@team', '@mine'])).toEqual(['@mine', '@team']);
		expect(testOwners({ annotations: [], tags: [] }, undefined)).toBeUndefined();
		// A CODEOWNERS was read and gives the file nobody: an answer, not silence.
		expect(testOwners({ annotations: [], tags: [] }, [])).toEqual([]);
		const many = Array.from({ length: 30 }, (_, i) => `@t${i}`);
		expect(testOwners(test, many)).toHaveLength(20);
		expect(testOwners(test, many)![0]).toBe('@mine');
	});

	it('sends them with the serialized result', () => {
		const started = new Date(Date.UTC(2026, 0, 1));
		const r = serializeTest(fakeTest([result('passed', 0)], { annotations: [{ type: 'owner', description: '@mine' }] }), ROOT, started, undefined, ['@file-owner']);
		expect(r.owners).toEqual(['@mine', '@file-owner']);
		expect(validateResult(r)).toBeNull();
		expect(serializeTest(fakeTest([result('passed', 0)]), ROOT, started).owners).toBeUndefined();
	});
});
