/** The real `playwright test`, with the reporter, against a server that works. */
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeServer, storedResults, type FakeServer } from './helpers/fake-server.js';
import { fromJsonReport, fromReceived } from './helpers/json-report.js';
import { runPlaywright, spoolFiles } from './helpers/playwright.js';

let server: FakeServer | undefined;
afterEach(async () => {
	await server?.close();
	server = undefined;
});

const SECRET = 'glcbt-64_SUPERSECRETJOBTOKEN';

/** A GitLab merge request pipeline, with the variables that hold credentials. */
const gitlab = {
	GITLAB_CI: 'true',
	CI: 'true',
	CI_SERVER_URL: 'https://gitlab.example.com',
	CI_PROJECT_PATH: 'group/app',
	CI_COMMIT_SHA: '0123456789abcdef0123456789abcdef01234567',
	CI_COMMIT_REF_NAME: 'feature/login',
	CI_COMMIT_TITLE: 'Make login faster',
	CI_PIPELINE_ID: '9001',
	CI_PIPELINE_IID: '17',
	CI_PIPELINE_SOURCE: 'merge_request_event',
	CI_PIPELINE_URL: 'https://gitlab.example.com/group/app/-/pipelines/9001',
	CI_JOB_ID: '123456',
	CI_JOB_NAME: 'e2e',
	CI_JOB_URL: 'https://gitlab.example.com/group/app/-/jobs/123456',
	CI_MERGE_REQUEST_IID: '42',
	CI_MERGE_REQUEST_SOURCE_BRANCH_NAME: 'feature/login',
	CI_MERGE_REQUEST_TARGET_BRANCH_NAME: 'main',
	CI_JOB_TOKEN: SECRET,
	CI_REPOSITORY_URL: `https://gitlab-ci-token:${SECRET}@gitlab.example.com/group/app.git`
};

describe('streaming to a working server', () => {
	it('sends what Playwright’s JSON reporter wrote, with the GitLab metadata and no credentials', async () => {
		server = await startFakeServer();
		const run = await runPlaywright('basic', { ...gitlab, FLACKYNESS_URL: server.url, FLACKYNESS_TOKEN: 'test-token', FLACKYNESS_BATCH_SIZE: '5' });

		// Failing tests fail the run, with or without the reporter.
		expect(run.code).toBe(1);
		expect(server.runs.size).toBe(1);
		const stored = [...server.runs.values()][0]!;
		expect(fromReceived(storedResults(server))).toEqual(fromJsonReport(run.report));
		expect(stored.duplicates).toBe(0);
		expect(stored.open.ci).toEqual({
			provider: 'gitlab',
			branch: 'feature/login',
			commitSha: '0123456789abcdef0123456789abcdef01234567',
			commitTitle: 'Make login faster',
			pipelineId: '9001',
			pipelineIid: '17',
			pipelineUrl: 'https://gitlab.example.com/group/app/-/pipelines/9001',
			pipelineSource: 'merge_request_event',
			jobId: '123456',
			jobName: 'e2e',
			jobUrl: 'https://gitlab.example.com/group/app/-/jobs/123456',
			mrIid: 42,
			mrSourceBranch: 'feature/login',
			mrTargetBranch: 'main',
			projectPath: 'group/app'
		});
		expect(stored.open.playwrightVersion).toBe(run.report.config.version);
		const { expected, unexpected, flaky, skipped } = run.report.stats;
		expect(stored.complete).toEqual({ status: 'failed', durationMs: expect.any(Number), stats: { expected, unexpected, flaky, skipped } });

		// Nothing the server received holds the job token or the repository URL.
		for (const req of server.requests) {
			expect(req.raw.toString('utf8')).not.toContain(SECRET);
			expect(JSON.stringify(req.headers)).not.toContain(SECRET);
			expect(req.raw.toString('utf8')).not.toContain('gitlab-ci-token');
		}
		expect(`${run.stdout}${run.stderr}`).not.toContain('test-token');

		// Batches of at most 5, each result sent once, and one summary line with the run's URL.
		const batches = server.requests.filter((r) => r.url.endsWith('/results')).map((r) => (r.body as { results: unknown[] }).results.length);
		expect(Math.max(...batches)).toBeLessThanOrEqual(5);
		expect(batches.reduce((a, b) => a + b, 0)).toBe(storedResults(server).length);
		expect(run.lines).toEqual([
			`[flackyness] 24 tests: ${expected} passed, ${unexpected} failed, ${flaky} flaky, ${skipped} skipped · ${server.url}/runs/${stored.runId}`
		]);
		expect(spoolFiles(run.suiteDir)).toEqual([]);
	});

	it('streams 1,000 tests in batches, each stored once', async () => {
		server = await startFakeServer();
		const run = await runPlaywright('many', { FLACKYNESS_URL: server.url, FLACKYNESS_TOKEN: 'test-token' });
		expect(run.code).toBe(0);
		expect(storedResults(server)).toHaveLength(1000);
		expect(fromReceived(storedResults(server))).toEqual(fromJsonReport(run.report));
		const batches = server.requests.filter((r) => r.url.endsWith('/results'));
		expect(batches.length).toBeGreaterThanOrEqual(10);
		expect([...server.runs.values()][0]!.duplicates).toBe(0);
		expect(run.lines).toHaveLength(1);
	});

	it('lets a run whose only failures are quarantined pass, when asked to', async () => {
		server = await startFakeServer();
		server.quarantine = [{ file: 'quarantined.spec.ts', titlePath: ['known flaky', 'fails'], projectName: '' }];
		const env = { FLACKYNESS_URL: server.url, FLACKYNESS_TOKEN: 'test-token' };

		const reported = await runPlaywright('quarantined', env);
		expect(reported.code).toBe(1);
		expect(reported.lines[0]).toContain('all 1 failure quarantined (FLACKYNESS_QUARANTINE=pass would let the run pass)');

		const passed = await runPlaywright('quarantined', { ...env, FLACKYNESS_QUARANTINE: 'pass' });
		expect(passed.code).toBe(0);
		expect(passed.lines[0]).toContain('all 1 failure quarantined: the run passes');
		// The failure is still reported as such.
		const last = [...server.runs.values()].at(-1)!;
		expect([...last.results.values()].filter((r) => r.outcome === 'unexpected')).toHaveLength(1);
		expect(last.complete?.status).toBe('failed');
	});

	it('says once that nothing is uploaded without a URL, and writes the output file when asked', async () => {
		const run = await runPlaywright('passing', { FLACKYNESS_OUTPUT_FILE: 'out/flackyness.json' });
		expect(run.code).toBe(0);
		expect(run.lines).toEqual([
			'[flackyness] 8 tests: 6 passed, 0 failed, 1 flaky, 1 skipped · not uploaded: FLACKYNESS_URL is not set; written to passing/out/flackyness.json'
		]);
	});

	it('does nothing at all when disabled', async () => {
		server = await startFakeServer();
		const run = await runPlaywright('passing', { FLACKYNESS_URL: server.url, FLACKYNESS_TOKEN: 'test-token', FLACKYNESS_DISABLED: 'true' });
		expect(run.code).toBe(0);
		expect(run.lines).toEqual([]);
		expect(server.requests).toEqual([]);
	});
});
