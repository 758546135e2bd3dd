/** `flackyness-reporter upload` with Playwright JSON reports, and its failures. */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeServer, type FakeServer } from './helpers/fake-server.js';
import { makeProject, runCli, runPlaywright, type PlaywrightRun } from './helpers/playwright.js';

let server: FakeServer | undefined;
afterEach(async () => {
	await server?.close();
	server = undefined;
});

let run: PlaywrightRun;
let reportFile: string;
beforeAll(async () => {
	// A run without the reporter's server: only the JSON report is written.
	run = await runPlaywright('passing', {}, [], makeProject());
	reportFile = path.join(run.suiteDir, 'report.json');
});

const SECRET = 'glcbt-64_SUPERSECRETJOBTOKEN';

describe('upload of a Playwright JSON report', () => {
	it('sends the report gzipped, with the CI metadata of the environment as headers', async () => {
		server = await startFakeServer();
		const cli = await runCli(['upload', reportFile], run.project, {
			FLACKYNESS_URL: server.url,
			FLACKYNESS_TOKEN: 'test-token',
			GITLAB_CI: 'true',
			CI_PROJECT_PATH: 'group/app',
			CI_PIPELINE_ID: '9001',
			CI_COMMIT_SHA: '0123456789abcdef0123456789abcdef01234567',
			CI_COMMIT_BRANCH: 'main',
			CI_COMMIT_TITLE: 'Réparer le cache',
			CI_JOB_NAME: 'e2e 2/2',
			CI_NODE_INDEX: '2',
			CI_NODE_TOTAL: '2',
			CI_JOB_TOKEN: SECRET,
			CI_REPOSITORY_URL: `https://gitlab-ci-token:${SECRET}@gitlab.example.com/group/app.git`
		});
		expect(cli.code).toBe(0);
		expect(cli.lines).toEqual([`[flackyness] ${reportFile}: report with 8 tests uploaded · ${server.url}/runs/${[...server.runs.keys()][0]}`]);
		const [req] = server.reports;
		expect(req!.headers['content-encoding']).toBe('gzip');
		expect(req!.headers['content-type']).toBe('application/json');
		expect(req!.headers.authorization).toBe('Bearer test-token');
		expect(req!.raw.equals(readFileSync(reportFile))).toBe(true);
		expect(req!.headers).toMatchObject({
			'x-flackyness-provider': 'gitlab',
			'x-flackyness-branch': 'main',
			'x-flackyness-commit-sha': '0123456789abcdef0123456789abcdef01234567',
			'x-flackyness-commit-title': encodeURIComponent('Réparer le cache'),
			'x-flackyness-pipeline-id': '9001',
			'x-flackyness-job-name': 'e2e 2/2',
			'x-flackyness-shard-index': '2',
			'x-flackyness-shard-total': '2',
			'x-flackyness-project-path': 'group/app',
			'x-flackyness-idempotency-key': expect.stringMatching(/^[0-9a-f]{40}$/)
		});
		expect(JSON.stringify(req!.headers)).not.toContain(SECRET);
	});

	it('fails with a clear message and a non-zero exit code', async () => {
		server = await startFakeServer();
		const env = { FLACKYNESS_URL: server.url, FLACKYNESS_TOKEN: 'test-token' };

		const badToken = await runCli(['upload', reportFile], run.project, { ...env, FLACKYNESS_TOKEN: 'nope' });
		expect(badToken.code).toBe(1);
		expect(badToken.lines).toEqual([`[flackyness] ${reportFile}: not uploaded to ${server.url}: token rejected (HTTP 401: invalid token)`]);

		const noToken = await runCli(['upload', reportFile], run.project, { FLACKYNESS_URL: server.url });
		expect(noToken.code).toBe(2);
		expect(noToken.lines).toEqual(['[flackyness] FLACKYNESS_TOKEN is not set']);

		const missing = await runCli(['upload', 'nothing-here.json'], run.project, env);
		expect(missing.code).toBe(1);
		expect(missing.lines).toEqual([`[flackyness] nothing-here.json: not uploaded to ${server.url}: file not found`]);

		const other = path.join(run.project, 'other.json');
		writeFileSync(other, '{"hello":"world"}');
		const notReport = await runCli(['upload', other], run.project, env);
		expect(notReport.code).toBe(1);
		expect(notReport.lines[0]).toContain('neither a spool file nor a Playwright JSON report');

		const usage = await runCli([], run.project, env);
		expect(usage.code).toBe(2);
		expect(usage.stderr).toContain('Usage: flackyness-reporter upload');
		expect(server.reports).toEqual([]);
	});
});
