import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase, type TestDatabase } from '../helpers/db.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';

const run = promisify(execFile);
const EXAMPLE = new URL('../../../examples/.gitlab-ci.yml', import.meta.url);
const FIXTURE = new URL('../fixtures/playwright-json/pw1.40-slack-valid.json', import.meta.url);
const ADMIN = 'examples-admin-token-0123456789abcdef';

/** What GitLab sets for a merge-request pipeline job (values as GitLab formats them). */
function gitlabEnv(jobId: string): Record<string, string> {
	return {
		CI: 'true',
		GITLAB_CI: 'true',
		CI_COMMIT_REF_NAME: 'feature/login',
		CI_COMMIT_BRANCH: 'feature/login',
		CI_DEFAULT_BRANCH: 'main',
		CI_COMMIT_SHA: '4f2c1a9be0d7c35a11e2f5b8c0d9e7a6b5c4d3e2',
		CI_COMMIT_TITLE: 'Fix “quotes” and ünïcode — don\'t break $HOME',
		CI_COMMIT_AUTHOR: 'Ada Lovelace <ada@example.com>',
		CI_COMMIT_TIMESTAMP: '2026-11-20T09:15:00+01:00',
		CI_PIPELINE_ID: '123456',
		CI_PIPELINE_IID: '42',
		CI_PIPELINE_URL: 'https://gitlab.example.com/group/app/-/pipelines/123456',
		CI_PIPELINE_SOURCE: 'merge_request_event',
		CI_JOB_ID: jobId,
		CI_JOB_NAME: 'e2e-curl',
		CI_JOB_URL: `https://gitlab.example.com/group/app/-/jobs/${jobId}`,
		CI_MERGE_REQUEST_IID: '17',
		CI_MERGE_REQUEST_SOURCE_BRANCH_NAME: 'feature/login',
		CI_MERGE_REQUEST_TARGET_BRANCH_NAME: 'main',
		CI_JOB_TOKEN: 'glcbt-secret-job-token',
		CI_REPOSITORY_URL: 'https://gitlab-ci-token:glcbt-secret-job-token@gitlab.example.com/group/app.git'
	};
}

describe('examples/.gitlab-ci.yml curl jobs', () => {
	let db: TestDatabase;
	let server: ServerProcess;
	let token: string;
	let jobs: Record<string, { after_script: string[] }>;
	beforeAll(async () => {
		jobs = parse(await readFile(EXAMPLE, 'utf8'));
		db = await createPostgresDatabase();
		// The fixture is a real report from 2023: a retention wide enough to take it.
		server = await startServer({ DATABASE_URL: db.url, ADMIN_TOKEN: ADMIN, DEMO: 'false', RETENTION_DAYS: '36500' });
		const res = await fetch(`${server.url}/api/v1/admin/projects`, {
			method: 'POST',
			headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
			body: JSON.stringify({ slug: 'app' })
		});
		token = ((await res.json()) as { token: string }).token;
	});
	afterAll(async () => {
		await server?.stop();
		await db?.destroy();
	});

	it.each([
		['e2e-curl-json', '9001'],
		['e2e-curl-multipart', '9002']
	])('%s uploads the report with GitLab metadata, and only that', async (job, jobId) => {
		const dir = await mkdtemp(path.join(tmpdir(), 'fk-example-'));
		try {
			await copyFile(FIXTURE, path.join(dir, 'results.json'));
			const script = jobs[job]!.after_script.join('\n');
			const { stdout, stderr } = await run('bash', ['-eo', 'pipefail', '-c', script], {
				cwd: dir,
				env: { PATH: process.env.PATH, ...gitlabEnv(jobId), FLACKYNESS_URL: server.url, FLACKYNESS_TOKEN: token }
			});
			expect(stdout + stderr).not.toContain('upload failed');
			const receipt = JSON.parse(stdout);
			expect(receipt).toMatchObject({ created: true, counts: { total: expect.any(Number) } });

			const client = new pg.Client({ connectionString: db.url });
			await client.connect();
			const { rows } = await client.query('SELECT * FROM runs WHERE id = $1', [receipt.runId]);
			const all = await client.query(`SELECT row_to_json(r)::text AS j FROM runs r`);
			await client.end();
			expect(rows[0]).toMatchObject({
				ci_provider: 'gitlab',
				branch: 'feature/login',
				is_default_branch: false,
				commit_sha: '4f2c1a9be0d7c35a11e2f5b8c0d9e7a6b5c4d3e2',
				pipeline_id: '123456',
				pipeline_url: 'https://gitlab.example.com/group/app/-/pipelines/123456',
				job_id: jobId,
				mr_iid: 17,
				mr_target_branch: 'main',
				source: 'json_upload'
			});
			if (job === 'e2e-curl-multipart') {
				expect(rows[0].commit_title).toBe('Fix “quotes” and ünïcode — don\'t break $HOME');
				expect(rows[0].commit_author).toBe('Ada Lovelace <ada@example.com>');
			}
			for (const r of all.rows) expect(r.j).not.toContain('glcbt-secret-job-token');
		} finally {
			await rm(dir, { recursive: true, force: true });
		}
	});
});
