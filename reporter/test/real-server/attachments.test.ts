/**
 * The real `playwright test` on a Chromium suite whose failures leave traces and screenshots,
 * streamed to the real server: the stored attachment paths name the files on disk, relative to the
 * project directory (GitLab's CI_PROJECT_DIR when set), the JSON upload of the same run stores the
 * same, and the read API answers them. Paths that could climb out of a job's artifacts are refused.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProject, runPlaywright, spoolFiles, type PlaywrightRun } from '../helpers/playwright.js';
import { ADMIN_TOKEN, startRealServer, type Project, type RealServer } from './helpers/server.js';
import { storedResults, storedRuns, uploadJsonReport, type StoredResult } from './helpers/stored.js';

let server: RealServer;
let streamed: Project;
let uploaded: Project;
beforeAll(async () => {
	server = await startRealServer();
	streamed = await server.createProject('attach-streamed');
	uploaded = await server.createProject('attach-uploaded');
}, 300_000);
afterAll(async () => {
	await server?.destroy();
});

const JOB_URL = 'https://gitlab.example.com/group/app/-/jobs/4242';

function gitlab(projectDir: string): Record<string, string> {
	return {
		GITLAB_CI: 'true',
		CI: 'true',
		CI_PROJECT_DIR: projectDir,
		CI_PROJECT_PATH: 'group/app',
		CI_PIPELINE_ID: '777',
		CI_JOB_ID: '4242',
		CI_JOB_NAME: 'e2e',
		CI_JOB_URL: JOB_URL,
		CI_COMMIT_SHA: 'abcdef0123456789abcdef0123456789abcdef01',
		CI_COMMIT_REF_NAME: 'main',
		CI_COMMIT_BRANCH: 'main'
	};
}

const title = (r: StoredResult) => r.titlePath.at(-1);

/** The attachments of a run's tests, by title; every path names a file the run left in `base`. */
function checkOnDisk(results: StoredResult[], base: string): Record<string, StoredResult['attachments']> {
	const byTitle: Record<string, StoredResult['attachments']> = Object.fromEntries(results.map((r) => [title(r), r.attachments]));
	for (const a of results.flatMap((r) => r.attachments ?? [])) {
		expect(existsSync(path.join(base, a.path)), a.path).toBe(true);
	}
	return byTitle;
}

async function runOf(project: Project): Promise<string> {
	const runs = await storedRuns(server, project);
	return runs.at(-1)!.id;
}

async function uploadWithProjectDir(run: PlaywrightRun, projectDir: string) {
	const res = await fetch(`${server.url}/api/v1/reports`, {
		method: 'POST',
		headers: {
			authorization: `Bearer ${uploaded.token}`,
			'content-type': 'application/json',
			'x-flackyness-project-dir': projectDir,
			'x-flackyness-job-url': JOB_URL
		},
		body: readFileSync(path.join(run.suiteDir, 'report.json'))
	});
	expect(res.status).toBe(201);
	return ((await res.json()) as { runId: string }).runId;
}

describe('attachments of failed attempts', { timeout: 300_000 }, () => {
	it('stores the traces and screenshots of failed attempts, relative to the config directory, as the JSON upload does', async () => {
		const run = await runPlaywright('artifacts', { FLACKYNESS_URL: server.url, FLACKYNESS_TOKEN: streamed.token });
		expect(run.code).toBe(1);
		expect(spoolFiles(run.suiteDir), run.lines.join('\n')).toEqual([]);
		const results = await storedResults(server, [await runOf(streamed)]);
		const byTitle = checkOnDisk(results, run.suiteDir);

		// Two failed attempts, each with its trace and screenshot (and whatever else Playwright adds).
		const failed = byTitle['shows the total']!;
		for (const attempt of [0, 1]) {
			const dir = attempt === 0 ? 'test-results/page-shows-the-total/' : 'test-results/page-shows-the-total-retry1/';
			expect(failed.filter((a) => a.attempt === attempt)).toEqual(
				expect.arrayContaining([
					{ name: 'screenshot', contentType: 'image/png', path: `${dir}test-failed-1.png`, attempt },
					{ name: 'trace', contentType: 'application/zip', path: `${dir}trace.zip`, attempt }
				])
			);
		}
		// The flaky test: the failed first attempt's files only; a passing test has none.
		expect(byTitle['passes on retry']!.map((a) => a.attempt)).toEqual(expect.arrayContaining([0]));
		expect(byTitle['passes on retry']!.every((a) => a.attempt === 0)).toBe(true);
		expect(byTitle['passes']).toBeNull();

		const receipt = await uploadJsonReport(server, uploaded, path.join(run.suiteDir, 'report.json'));
		expect(await storedResults(server, [receipt.runId])).toEqual(results);
	});

	it('counts from CI_PROJECT_DIR in GitLab, and the read API answers the paths with the job URL', async () => {
		// CI_PROJECT_DIR is the project the suite ran in: paths start with the suite's folder.
		const project = makeProject();
		const again = await runPlaywright('artifacts', { FLACKYNESS_URL: server.url, FLACKYNESS_TOKEN: streamed.token, ...gitlab(project) }, [], project);
		expect(again.code).toBe(1);
		const runId = await runOf(streamed);
		const results = await storedResults(server, [runId]);
		const byTitle = checkOnDisk(results, again.project);
		expect(byTitle['shows the total']).toEqual(
			expect.arrayContaining([
				{ name: 'trace', contentType: 'application/zip', path: 'artifacts/test-results/page-shows-the-total/trace.zip', attempt: 0 },
				{ name: 'screenshot', contentType: 'image/png', path: 'artifacts/test-results/page-shows-the-total/test-failed-1.png', attempt: 0 }
			])
		);
		expect(byTitle['passes']).toBeNull();

		const uploadedRun = await uploadWithProjectDir(again, again.project);
		expect(await storedResults(server, [uploadedRun])).toEqual(results);

		const detail = (await (await fetch(`${server.url}/api/v1/runs/${runId}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()) as {
			jobUrl: string;
			notable: { title: string; testId: string; attachments: StoredResult['attachments'] }[];
		};
		expect(detail.jobUrl).toBe(JOB_URL);
		const notable = detail.notable.find((n) => n.title === 'shows the total')!;
		expect(notable.attachments).toEqual(byTitle['shows the total']);

		const history = (await (
			await fetch(`${server.url}/api/v1/tests/${notable.testId}/history`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
		).json()) as { items: { runId: string; jobUrl: string | null; attachments: StoredResult['attachments'] }[] };
		const item = history.items.find((i) => i.runId === runId)!;
		expect(item).toMatchObject({ jobUrl: JOB_URL, attachments: byTitle['shows the total'] });
	});

	it('refuses a batch whose attachment paths could climb out of the artifacts, with a clear 400', async () => {
		const open = await fetch(`${server.url}/api/v1/runs`, {
			method: 'POST',
			headers: { authorization: `Bearer ${streamed.token}`, 'content-type': 'application/json' },
			body: JSON.stringify({ idempotencyKey: 'hostile-attachments-1' })
		});
		const { runId } = (await open.json()) as { runId: string };
		const result = (p: string) => ({
			file: 'a.spec.ts',
			titlePath: ['hostile'],
			outcome: 'unexpected',
			expectedStatus: 'passed',
			status: 'failed',
			attempts: 1,
			failedAttempts: 1,
			durationMs: 1,
			startedAt: new Date().toISOString(),
			attachments: [{ name: 'trace', contentType: 'application/zip', path: p, attempt: 0 }]
		});
		for (const p of ['/etc/passwd', '../../etc/passwd', 'test-results/../../x', 'a\u0000b', 'x'.repeat(1025), 'C:\\x\\trace.zip']) {
			const res = await fetch(`${server.url}/api/v1/runs/${runId}/results`, {
				method: 'POST',
				headers: { authorization: `Bearer ${streamed.token}`, 'content-type': 'application/json' },
				body: JSON.stringify({ results: [result(p)] })
			});
			expect(res.status, p).toBe(400);
			expect(((await res.json()) as { message: string }).message, p).toMatch(/attachments.*relative path/);
		}
		const ok = await fetch(`${server.url}/api/v1/runs/${runId}/results`, {
			method: 'POST',
			headers: { authorization: `Bearer ${streamed.token}`, 'content-type': 'application/json' },
			body: JSON.stringify({ results: [result('test-results/a/trace.zip')] })
		});
		expect(ok.status).toBe(200);
	});
});
