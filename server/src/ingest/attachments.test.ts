import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { testResultInputSchema } from 'flackyness-reporter/protocol';
import { collectMetadata } from './metadata.js';
import { parsePlaywrightReport } from './playwright-json.js';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/playwright-json', import.meta.url));
const fixture = async (name: string) => JSON.parse(await readFile(`${FIXTURES}/${name}`, 'utf8')) as unknown;

const attachmentsOf = (report: ReturnType<typeof parsePlaywrightReport>) =>
	report.results
		.filter((r) => r.attachments)
		.map((r) => ({ test: `${r.projectName} ${r.titlePath.join(' › ')}`, outcome: r.outcome, attachments: r.attachments }));

/** A one-test report written on a runner at /builds/group/app. */
function report(results: unknown[], config: Record<string, unknown> = {}) {
	return {
		config: { rootDir: '/builds/group/app/tests', configFile: '/builds/group/app/playwright.config.ts', ...config },
		suites: [
			{
				title: 'a.spec.ts',
				file: 'a.spec.ts',
				specs: [{ title: 'works', file: 'a.spec.ts', tests: [{ projectName: 'chromium', expectedStatus: 'passed', results }] }]
			}
		]
	};
}
const failed = (retry: number, attachments: unknown[]) => ({ status: 'failed', retry, duration: 10, startTime: '2026-11-30T10:00:00Z', attachments });

describe('attachments from a Playwright JSON report', () => {
	it('reads real reports: the traces of failed attempts, relative to the config file and test directory’s common directory', async () => {
		const parsed = parsePlaywrightReport(await fixture('pw1.37-report-valid.json'));
		expect(attachmentsOf(parsed)).toEqual([
			{
				test: 'chromium add › adds',
				outcome: 'unexpected',
				attachments: [{ name: 'trace', contentType: 'application/zip', path: 'results/add-add-adds-chromium-retry1/trace.zip', attempt: 1 }]
			},
			{
				test: 'firefox add › adds',
				outcome: 'unexpected',
				attachments: [{ name: 'trace', contentType: 'application/zip', path: 'results/add-add-adds-firefox-retry1/trace.zip', attempt: 1 }]
			},
			{
				test: 'chromium multiply › multiplies',
				outcome: 'flaky',
				attachments: [{ name: 'trace', contentType: 'application/zip', path: 'results/multiply-multiply-multiplies-chromium-retry1/trace.zip', attempt: 1 }]
			}
		]);
	});

	it('makes paths relative to the projectDir given as metadata (GitLab’s CI_PROJECT_DIR)', async () => {
		const parsed = parsePlaywrightReport(await fixture('pw1.37-report-valid.json'), { projectDir: '/project' });
		expect(attachmentsOf(parsed).map((t) => t.attachments?.[0]?.path)).toEqual([
			'tests/results/add-add-adds-chromium-retry1/trace.zip',
			'tests/results/add-add-adds-firefox-retry1/trace.zip',
			'tests/results/multiply-multiply-multiplies-chromium-retry1/trace.zip'
		]);
	});

	it('reads a report written on Windows, and keeps no file of a passing attempt', async () => {
		const parsed = parsePlaywrightReport(await fixture('pw1.40-slack-valid.json'));
		const all = parsed.results.flatMap((r) => r.attachments ?? []);
		expect(all.length).toBeGreaterThan(0);
		for (const a of all) expect(a.path).toMatch(/^test-results\/[^\\]+\/trace\.zip$/);
		// The report holds traces of passed attempts too (trace: 'on'); only failed attempts' count.
		for (const r of parsed.results) if (r.failedAttempts === 0) expect(r.attachments).toBeUndefined();
	});

	it('drops hostile and unusable paths instead of refusing the report', () => {
		const long = `/builds/group/app/test-results/${'x'.repeat(1100)}.png`;
		const parsed = parsePlaywrightReport(
			report([
				failed(0, [
					{ name: 'trace', contentType: 'application/zip', path: '/builds/group/app/test-results/a/trace.zip' },
					{ name: 'outside', contentType: 'text/plain', path: '/etc/passwd' },
					{ name: 'climbs', contentType: 'text/plain', path: '/builds/group/app/../../../etc/shadow' },
					{ name: 'relative', contentType: 'text/plain', path: 'test-results/a/relative.txt' },
					{ name: 'nul', contentType: 'text/plain', path: '/builds/group/app/a\u0000b.txt' },
					{ name: 'long', contentType: 'image/png', path: long },
					{ name: 'stdout', contentType: 'text/plain', body: 'aGVsbG8=' },
					{ name: 'nameless-path', contentType: 'text/plain', path: null }
				]),
				failed(1, [{ name: 'scr\u0000een', contentType: 'image/png', path: '/builds/group/app/test-results/a-retry1/test-failed-1.png' }])
			])
		);
		expect(parsed.results[0]!.attachments).toEqual([
			{ name: 'trace', contentType: 'application/zip', path: 'test-results/a/trace.zip', attempt: 0 },
			{ name: 'scr\uFFFDeen', contentType: 'image/png', path: 'test-results/a-retry1/test-failed-1.png', attempt: 1 }
		]);
		expect(testResultInputSchema.safeParse(parsed.results[0]).success).toBe(true);
	});

	it('keeps at most 20, and counts attempts by position when a report has no retry', () => {
		const many = Array.from({ length: 25 }, (_, i) => ({ name: 'screenshot', contentType: 'image/png', path: `/builds/group/app/s/${i}.png` }));
		const noRetry = ({ retry: _r, ...rest }: ReturnType<typeof failed>) => rest;
		const parsed = parsePlaywrightReport(report([noRetry(failed(0, many.slice(0, 2))), noRetry(failed(1, many.slice(2)))]));
		const kept = parsed.results[0]!.attachments!;
		expect(kept).toHaveLength(20);
		expect(kept.map((a) => a.attempt)).toEqual([0, 0, ...Array(18).fill(1)]);
	});

	it('keeps nothing when no project directory can be told (config and tests in unrelated trees)', () => {
		const parsed = parsePlaywrightReport(
			report([failed(0, [{ name: 'trace', contentType: 'application/zip', path: '/b/test-results/trace.zip' }])], {
				rootDir: '/b/tests',
				configFile: '/a/playwright.config.ts'
			})
		);
		expect(parsed.results[0]!.attachments).toBeUndefined();
	});
});

describe('projectDir metadata', () => {
	it('is read from a header, the query string or a form field, and not stored with the CI fields', () => {
		expect(collectMetadata({ headers: { 'x-flackyness-project-dir': '/builds/group/app' } })).toEqual({ ci: {}, projectDir: '/builds/group/app' });
		expect(collectMetadata({ query: { projectDir: 'C:\\GitLab-Runner\\builds\\app' } }).projectDir).toBe('C:\\GitLab-Runner\\builds\\app');
		expect(collectMetadata({ fields: { project_dir: '/builds/x' } }).projectDir).toBe('/builds/x');
	});
	it('must be an absolute path of at most 1024 characters', () => {
		for (const bad of ['builds/app', '../x', `/${'x'.repeat(1024)}`, 'C:relative']) {
			expect(() => collectMetadata({ query: { projectDir: bad } }), bad).toThrow(/metadata\.projectDir: must be an absolute path/);
		}
	});
});
