import { describe, expect, it } from 'vitest';
import {
	MAX_ATTACHMENTS,
	artifactPathUnder,
	attachmentSchema,
	defaultProjectDir,
	failedAttemptAttachments,
	isArtifactPath,
	resultBatchSchema,
	type TestResultInput,
	type TestStatus
} from './protocol.js';
import { serializeTest, validateResult, type ResultLike, type SuiteLike, type TestLike } from './serialize.js';

describe('isArtifactPath', () => {
	it('takes relative paths with forward slashes', () => {
		expect(isArtifactPath('test-results/login-signs-in-chromium/trace.zip')).toBe(true);
		expect(isArtifactPath('e2e/test-results/a b/ü.png')).toBe(true);
		expect(isArtifactPath('x'.repeat(1024))).toBe(true);
	});
	it.each([
		['empty', ''],
		['absolute', '/builds/group/app/test-results/trace.zip'],
		['a drive letter', 'C:/repo/trace.zip'],
		['a drive-relative path', 'C:trace.zip'],
		['backslashes', 'test-results\\trace.zip'],
		['a .. segment', 'test-results/../../etc/passwd'],
		['a leading ..', '../secrets'],
		['a . segment', './test-results/trace.zip'],
		['an empty segment', 'test-results//trace.zip'],
		['a trailing slash', 'test-results/'],
		['NUL', 'test-results/trace\u0000.zip'],
		['a newline', 'test-results/trace\n.zip'],
		['more than 1024 characters', 'x'.repeat(1025)]
	])('refuses %s', (_, p) => {
		expect(isArtifactPath(p)).toBe(false);
	});
});

describe('attachmentSchema', () => {
	const ok = { name: 'trace', contentType: 'application/zip', path: 'test-results/a/trace.zip', attempt: 0 };
	it('accepts a trace of the first attempt', () => {
		expect(attachmentSchema.parse(ok)).toEqual(ok);
	});
	it('refuses hostile paths, with a message naming the rule', () => {
		for (const path of ['/etc/passwd', '../x', 'a/../../b', 'a\u0000b', 'x'.repeat(1025), 'a\\b']) {
			const parsed = attachmentSchema.safeParse({ ...ok, path });
			expect(parsed.success, path).toBe(false);
			expect(parsed.error?.issues[0]?.message).toMatch(/relative path/);
		}
	});
	it('refuses an attempt outside 0–99 and a missing name', () => {
		expect(attachmentSchema.safeParse({ ...ok, attempt: 100 }).success).toBe(false);
		expect(attachmentSchema.safeParse({ ...ok, attempt: -1 }).success).toBe(false);
		expect(attachmentSchema.safeParse({ ...ok, name: '' }).success).toBe(false);
	});
	it('makes a lone surrogate in the name storable', () => {
		expect(attachmentSchema.parse({ ...ok, name: 'shot \ud83d' }).name).toBe('shot \uFFFD');
	});
	it('allows at most MAX_ATTACHMENTS per result in a batch', () => {
		const base = {
			file: 'a.spec.ts',
			titlePath: ['t'],
			outcome: 'unexpected',
			expectedStatus: 'passed',
			status: 'failed',
			attempts: 1,
			failedAttempts: 1,
			durationMs: 1,
			startedAt: '2026-11-30T10:00:00Z'
		} as const;
		const list = (n: number) => Array.from({ length: n }, (_, i) => ({ ...ok, path: `test-results/${i}.png` }));
		expect(resultBatchSchema.safeParse({ results: [{ ...base, attachments: list(MAX_ATTACHMENTS) }] }).success).toBe(true);
		const over = resultBatchSchema.safeParse({ results: [{ ...base, attachments: list(MAX_ATTACHMENTS + 1) }] });
		expect(over.error?.issues[0]?.path).toEqual(['results', 0, 'attachments']);
	});
});

describe('artifactPathUnder', () => {
	it('makes a path inside the project directory relative', () => {
		expect(artifactPathUnder('/builds/g/app', '/builds/g/app/test-results/x/trace.zip')).toBe('test-results/x/trace.zip');
		expect(artifactPathUnder('/builds/g/app/', '/builds/g/app/e2e/shot.png')).toBe('e2e/shot.png');
	});
	it('reads Windows paths, whatever the slashes and the drive letter’s case', () => {
		expect(artifactPathUnder('C:/_repo/app', 'C:\\_repo\\app\\test-results\\trace.zip')).toBe('test-results/trace.zip');
		expect(artifactPathUnder('c:\\_repo\\app', 'C:\\_repo\\app\\shot.png')).toBe('shot.png');
	});
	it('leaves out what lies outside, or would climb out', () => {
		expect(artifactPathUnder('/builds/g/app', '/builds/g/application/trace.zip')).toBeUndefined();
		expect(artifactPathUnder('/builds/g/app', '/tmp/trace.zip')).toBeUndefined();
		expect(artifactPathUnder('/builds/g/app', '/builds/g/app/../../etc/passwd')).toBeUndefined();
		expect(artifactPathUnder('/builds/g/app', '/builds/g/app')).toBeUndefined();
		expect(artifactPathUnder('/builds/g/app', `/builds/g/app/${'x'.repeat(1025)}`)).toBeUndefined();
	});
});

describe('defaultProjectDir', () => {
	it('is the config file’s directory when the tests lie below it', () => {
		expect(defaultProjectDir('/repo/playwright.config.ts', '/repo/tests')).toBe('/repo');
	});
	it('is the directory holding both when they are side by side', () => {
		expect(defaultProjectDir('/project/tests/config/playwright.config.ts', '/project/tests/functional')).toBe('/project/tests');
		expect(defaultProjectDir('C:\\_repo\\app\\playwright.config.ts', 'C:/_repo/app/tests')).toBe('C:/_repo/app');
	});
	it('is the test directory without a config file, and nothing at the file system’s root', () => {
		expect(defaultProjectDir(undefined, '/project')).toBe('/project');
		expect(defaultProjectDir('/a/playwright.config.ts', '/b/tests')).toBeUndefined();
		expect(defaultProjectDir('C:/a/playwright.config.ts', 'C:/b')).toBeUndefined();
		expect(defaultProjectDir(null, null)).toBeUndefined();
	});
});

describe('failedAttemptAttachments', () => {
	const trace = (dir: string) => ({ name: 'trace', contentType: 'application/zip', path: `/repo/test-results/${dir}/trace.zip` });
	it('keeps files in attempt order, drops bodies, outsiders and repeats', () => {
		const got = failedAttemptAttachments(
			[
				{ retry: 0, attachments: [trace('a'), { name: 'stdout', contentType: 'text/plain' }, trace('a'), { name: 'x', contentType: 'text/plain', path: '/etc/passwd' }] },
				{ retry: 1, attachments: [trace('a-retry1'), { name: 'screenshot', contentType: 'image/png', path: '/repo/test-results/a-retry1/test-failed-1.png' }] }
			],
			'/repo'
		);
		expect(got).toEqual([
			{ name: 'trace', contentType: 'application/zip', path: 'test-results/a/trace.zip', attempt: 0 },
			{ name: 'trace', contentType: 'application/zip', path: 'test-results/a-retry1/trace.zip', attempt: 1 },
			{ name: 'screenshot', contentType: 'image/png', path: 'test-results/a-retry1/test-failed-1.png', attempt: 1 }
		]);
	});
	it('stops at MAX_ATTACHMENTS, cuts long names, and names nameless files', () => {
		const many = Array.from({ length: 30 }, (_, i) => ({ name: i === 0 ? '' : 'n'.repeat(300), contentType: 'image/png', path: `/repo/s/${i}.png` }));
		const got = failedAttemptAttachments([{ retry: 0, attachments: many }], '/repo');
		expect(got).toHaveLength(MAX_ATTACHMENTS);
		expect(got[0]!.name).toBe('attachment');
		expect(got[1]!.name).toHaveLength(255);
		expect(got.every((a) => attachmentSchema.safeParse(a).success)).toBe(true);
	});
	it('sends nothing without a project directory', () => {
		expect(failedAttemptAttachments([{ retry: 0, attachments: [trace('a')] }], undefined)).toEqual([]);
	});
});

describe('serializeTest with attachments', () => {
	const root: SuiteLike = { type: 'root', title: '', project: () => undefined };
	const file: SuiteLike = { type: 'file', title: 'a.spec.ts', parent: root, project: () => ({ name: '' }) };
	const attempt = (status: TestStatus, retry: number, attachments: ResultLike['attachments']): ResultLike => ({
		status,
		retry,
		duration: 10,
		startTime: new Date('2026-11-30T10:00:00Z'),
		errors: [],
		attachments
	});
	const test = (results: ResultLike[], expectedStatus: TestStatus = 'passed'): TestLike => ({
		title: 't',
		tags: [],
		expectedStatus,
		retries: 2,
		location: { file: '/repo/tests/a.spec.ts', line: 1, column: 1 },
		outcome: () => 'flaky',
		annotations: [],
		results,
		parent: file
	});
	const shot = (retry: number) => [
		{ name: 'screenshot', contentType: 'image/png', path: `/repo/test-results/a${retry}/test-failed-1.png` },
		{ name: 'evil', contentType: 'text/plain', path: `/repo/test-results/../../../etc/passwd` },
		{ name: 'far', contentType: 'text/plain', path: `/elsewhere/file.txt` }
	];

	it('sends the failed attempts’ files of a flaky test, not the passing attempt’s', () => {
		const out = serializeTest(test([attempt('failed', 0, shot(0)), attempt('passed', 1, shot(1))]), '/repo/tests', new Date(), '/repo');
		expect(out.attachments).toEqual([{ name: 'screenshot', contentType: 'image/png', path: 'test-results/a0/test-failed-1.png', attempt: 0 }]);
		expect(validateResult(out)).toBeNull();
	});
	it('sends no field for a test that passed, or for test.fail() failing as expected', () => {
		const passed: TestResultInput = serializeTest(test([attempt('passed', 0, shot(0))]), '/repo/tests', new Date(), '/repo');
		expect('attachments' in passed).toBe(false);
		const expectedFailure = serializeTest(test([attempt('failed', 0, shot(0))], 'failed'), '/repo/tests', new Date(), '/repo');
		expect('attachments' in expectedFailure).toBe(false);
	});
	it('sends none without a project directory', () => {
		expect(serializeTest(test([attempt('failed', 0, shot(0))]), '/repo/tests', new Date()).attachments).toBeUndefined();
	});
});
