/**
 * The real `playwright test` streaming to the real server: what the server stored equals what
 * Playwright's own JSON reporter wrote in the same run, and equals what the server stores when it
 * is sent that JSON report instead (`POST /api/v1/reports`, under another project).
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromJsonReport } from '../helpers/json-report.js';
import { runPlaywright, spoolFiles, type PlaywrightRun, type Suite } from '../helpers/playwright.js';
import { startRealServer, type Project, type RealServer } from './helpers/server.js';
import { asComparable, dumpIngestedText, storedResults, storedRuns, uploadJsonReport, type StoredRun } from './helpers/stored.js';

let server: RealServer;
let streamed: Project;
let uploaded: Project;
beforeAll(async () => {
	server = await startRealServer();
	streamed = await server.createProject('streamed');
	uploaded = await server.createProject('uploaded');
}, 300_000);
afterAll(async () => {
	await server?.destroy();
});

const SECRET = 'glcbt-64_REPORTER_E2E_SECRET_JOB_TOKEN';

/** A GitLab merge request pipeline job, with the two variables that hold credentials. */
function gitlab(jobId: string): Record<string, string> {
	return {
		GITLAB_CI: 'true',
		CI: 'true',
		CI_SERVER_URL: 'https://gitlab.example.com',
		CI_PROJECT_PATH: 'group/app',
		CI_PROJECT_ID: '77',
		CI_DEFAULT_BRANCH: 'main',
		CI_COMMIT_SHA: '0123456789abcdef0123456789abcdef01234567',
		CI_COMMIT_REF_NAME: 'feature/login',
		CI_COMMIT_TITLE: 'Make login faster — “quoted” ünïcode',
		CI_COMMIT_AUTHOR: 'Ada Lovelace <ada@example.com>',
		CI_COMMIT_TIMESTAMP: '2026-11-20T09:15:00+01:00',
		CI_PIPELINE_ID: '9001',
		CI_PIPELINE_IID: '17',
		CI_PIPELINE_SOURCE: 'merge_request_event',
		CI_PIPELINE_URL: 'https://gitlab.example.com/group/app/-/pipelines/9001',
		CI_JOB_ID: jobId,
		CI_JOB_NAME: 'e2e',
		CI_JOB_URL: `https://gitlab.example.com/group/app/-/jobs/${jobId}`,
		CI_MERGE_REQUEST_IID: '42',
		CI_MERGE_REQUEST_SOURCE_BRANCH_NAME: 'feature/login',
		CI_MERGE_REQUEST_TARGET_BRANCH_NAME: 'main',
		CI_JOB_TOKEN: SECRET,
		CI_REPOSITORY_URL: `https://gitlab-ci-token:${SECRET}@gitlab.example.com/group/app.git`
	};
}

async function newRun(before: StoredRun[]): Promise<StoredRun> {
	const runs = await storedRuns(server, streamed);
	const added = runs.filter((r) => !before.some((b) => b.id === r.id));
	expect(added).toHaveLength(1);
	return added[0]!;
}

/**
 * Runs a suite with the reporter and checks, for that run: one run stored, completed with the
 * counts of Playwright's JSON report; per test, what Playwright's JSON reporter wrote; and per test,
 * every stored column equal to what the server stores from the JSON report itself.
 */
async function streamAndCompare(suite: Suite, env: Record<string, string>, args: string[] = []): Promise<{ run: PlaywrightRun; stored: StoredRun }> {
	const before = await storedRuns(server, streamed);
	const run = await runPlaywright(suite, { FLACKYNESS_URL: server.url, FLACKYNESS_TOKEN: streamed.token, ...env }, args);
	const stored = await newRun(before);
	const { expected, unexpected, flaky, skipped } = run.report.stats;

	expect(spoolFiles(run.suiteDir), run.lines.join("\n")).toEqual([]);
	expect(run.lines).toHaveLength(1);
	expect(run.lines[0]).toContain(`${server.url}/runs/${stored.id}`);
	expect(stored).toMatchObject({
		source: 'reporter',
		status: unexpected > 0 ? 'failed' : 'passed',
		total: expected + unexpected + flaky + skipped,
		expected,
		unexpected,
		flaky,
		skipped,
		playwright_version: run.report.config.version
	});

	const results = await storedResults(server, [stored.id]);
	expect(asComparable(results)).toEqual(fromJsonReport(run.report));

	const receipt = await uploadJsonReport(server, uploaded, path.join(run.suiteDir, 'report.json'));
	expect(receipt.created).toBe(true);
	const fromReport = await storedResults(server, [receipt.runId]);
	expect(results).toEqual(fromReport);
	const [mirror] = await server.query<StoredRun>(`SELECT * FROM runs WHERE id = $1`, [receipt.runId]);
	expect(mirror).toMatchObject({ source: 'json_upload', status: stored.status, total: stored.total, expected, unexpected, flaky, skipped });
	return { run, stored };
}

// Real processes on a shared CI machine: minutes, not the default two.
describe('streaming to the real server', { timeout: 300_000 }, () => {
	it('stores what Playwright’s JSON reporter wrote: passing, failing, flaky, skipped, test.fail(), timeouts, two projects', async () => {
		const { run, stored } = await streamAndCompare('basic', { ...gitlab('123456'), FLACKYNESS_BATCH_SIZE: '5' });
		expect(run.code).toBe(1);

		// Every outcome of the suite is there, in both projects.
		const results = await storedResults(server, [stored.id]);
		expect(new Set(results.map((r) => r.projectName))).toEqual(new Set(['alpha', 'beta']));
		const byTitle = (project: string, title: string) => results.find((r) => r.projectName === project && r.titlePath.at(-1) === title)!;
		expect(byTitle('alpha', 'passes')).toMatchObject({ outcome: 'expected', attempts: 1, tags: ['smoke'], errorMessage: null });
		expect(byTitle('alpha', 'fails every time')).toMatchObject({ outcome: 'unexpected', status: 'failed', attempts: 2, failedAttempts: 2 });
		expect(byTitle('alpha', 'fails every time').errorMessage).toMatch(/^Error: expect\(received\)\.toBe\(expected\)/);
		expect(byTitle('beta', 'fails once, then passes @flaky')).toMatchObject({ outcome: 'flaky', status: 'passed', attempts: 2, failedAttempts: 1 });
		expect(byTitle('beta', 'is skipped')).toMatchObject({ outcome: 'skipped', status: 'skipped', expectedStatus: 'skipped' });
		expect(byTitle('beta', 'is expected to fail')).toMatchObject({ outcome: 'expected', status: 'failed', expectedStatus: 'failed', failedAttempts: 0, errorMessage: null });
		expect(byTitle('alpha', 'times out')).toMatchObject({ outcome: 'unexpected', status: 'timedOut', attempts: 2 });
		expect(byTitle('alpha', 'times out').errorMessage).toMatch(/^Test timeout of 300ms exceeded/);
		expect(byTitle('alpha', 'passes too').titlePath).toEqual(['outcomes', 'nested', 'passes too']);

		// The GitLab merge request pipeline, as the server stored it.
		expect(stored).toMatchObject({
			ci_provider: 'gitlab',
			branch: 'feature/login',
			is_default_branch: false,
			commit_sha: '0123456789abcdef0123456789abcdef01234567',
			commit_title: 'Make login faster — “quoted” ünïcode',
			pipeline_id: '9001',
			pipeline_iid: '17',
			pipeline_url: 'https://gitlab.example.com/group/app/-/pipelines/9001',
			pipeline_source: 'merge_request_event',
			job_id: '123456',
			job_name: 'e2e',
			job_url: 'https://gitlab.example.com/group/app/-/jobs/123456',
			mr_iid: 42,
			mr_source_branch: 'feature/login',
			mr_target_branch: 'main',
			shard_index: null,
			group_key: 'gitlab:9001:e2e'
		});

		// The job token and the repository URL reached nothing the server keeps.
		const text = await dumpIngestedText(server);
		expect(text).toContain('feature/login');
		expect(text).not.toContain(SECRET);
		expect(text).not.toContain('gitlab-ci-token');
		expect(`${run.stdout}${run.stderr}`).not.toContain(streamed.token);
	});

	it('stores the cases where a reporter and the JSON report could disagree exactly as the JSON report does', async () => {
		const { run, stored } = await streamAndCompare('edge', { FLACKYNESS_BATCH_SIZE: '3' });
		expect(run.code).toBe(1);
		const results = await storedResults(server, [stored.id]);
		const byTitle = (title: string) => results.find((r) => r.titlePath.at(-1) === title)!;
		expect(byTitle('in an anonymous describe')).toMatchObject({ titlePath: ['in an anonymous describe'], projectName: '' });
		expect(byTitle('deeper').titlePath).toEqual(['named inside anonymous', 'deeper']);
		expect(byTitle('inherits tags @own').tags.sort()).toEqual(['extra', 'own', 'slow', 'suite']);
		expect(byTitle('expected to fail, but passes')).toMatchObject({ outcome: 'unexpected', errorMessage: 'Expected to fail, but passed.' });
		expect(byTitle('fails with a cause').errorMessage).toContain('[cause]: Error: inner cause');
		expect(byTitle('a different error on each attempt').errorMessage).toContain('"attempt 0"');
		expect(byTitle('adds an annotation while running').annotations).toEqual([{ type: 'runtime', description: 'added at run time' }]);
		expect(byTitle('ünïcode “quotes” and emoji 🎭').outcome).toBe('expected');
		expect(byTitle('to be fixed')).toMatchObject({ outcome: 'skipped', annotations: [{ type: 'fixme' }] });
		for (const r of results) expect(r.errorMessage ?? '').not.toContain('\u001b');
	});

	it('stores a run of 1,000 tests, each once', async () => {
		const { run, stored } = await streamAndCompare('many', {});
		expect(run.code).toBe(0);
		expect(stored.total).toBe(1000);
		const [{ n }] = (await server.query<{ n: number }>(`SELECT count(DISTINCT test_id)::int AS n FROM test_results WHERE run_id = $1`, [stored.id])) as [
			{ n: number }
		];
		expect(n).toBe(1000);
	});
});
