import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecretsKey } from '../../src/lib/secrets.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { ADMIN } from '../helpers/ingest.js';
import { ACCESS, FakeGitlab } from '../helpers/fake-gitlab.js';
import { apiClient, sha, streamJob, until, type JobSpec } from '../helpers/ci-history.js';

const TOKEN = 'glpat-reports-token-with-api-scope-0123';
const DASHBOARD = 'http://flackyness.test';
const DAY = 86_400_000;

describe('MR notes and commit statuses (a real server over HTTP on PostgreSQL, a fake GitLab)', () => {
	let gl: FakeGitlab;
	let t: TestApp;
	let url: string;
	let ingest: string;
	let projectId: string;
	const started = Date.now() - 4 * DAY;

	const api = apiClient(() => url, ADMIN);
	const job = (p: JobSpec) => streamJob(api, ingest, p);

	const analysed = () => until('the analysis queue to empty', async () => (await t.db.pool.query(`SELECT 1 FROM analysis_jobs`)).rowCount === 0);

	/** Until the pipeline's report is written (or given up): the analysis requests it once it has analysed the runs. */
	const reported = (pipeline: number) =>
		until(`pipeline ${pipeline} reported`, async () => {
			const { rows } = await t.db.pool.query(`SELECT 1 FROM gitlab_jobs WHERE pipeline_id = $1 AND state <> 'pending'`, [String(pipeline)]);
			return rows.length === 1;
		});

	beforeAll(async () => {
		gl = new FakeGitlab();
		gl.addProject({ id: 7, path: 'group/app', mergeRequests: [1, 2] });
		gl.addToken(TOKEN, { scopes: ['api'], access: { 7: ACCESS.developer } });
		await gl.start();
		t = await buildTestApp('postgres', {
			ADMIN_TOKEN: ADMIN,
			SECRETS_KEY: generateSecretsKey(),
			PUBLIC_URL: DASHBOARD,
			ANALYSIS_POLL_MS: '50',
			GITLAB_POLL_MS: '50',
			GITLAB_RETRY_BASE_MS: '100',
			GITLAB_TIMEOUT_MS: '1000',
			RATE_LIMIT_RUNS: '10000',
			RATE_LIMIT_READS: '10000',
			RATE_LIMIT_ADMIN: '10000'
		});
		url = await t.app.listen({ port: 0, host: '127.0.0.1' });
		const created = await api('POST', '/api/v1/admin/projects', { slug: 'shop' });
		ingest = created.body.token;
		projectId = created.body.project.id;
		expect((await api('PUT', '/api/v1/projects/shop/integrations/gitlab', { url: gl.url, token: TOKEN, mrNotes: true, commitStatus: true })).status).toBe(200);

		// The default branch's history: "checks out" flaky (passed on retry now and then), "searches" broken from c10 on.
		for (let i = 0; i < 20; i++) {
			await job({
				pipeline: 100 + i,
				commit: `c${i}`,
				branch: 'main',
				at: new Date(started + i * 3_600_000),
				results: [
					['lists products', 'pass'],
					['checks out', i % 3 === 1 ? 'retry' : 'pass'],
					['searches', i >= 12 ? 'fail' : 'pass']
				]
			});
		}
		for (let i = 0; i < 20; i++) await reported(100 + i);
	}, 120_000);

	afterAll(async () => {
		await t?.close();
		await gl?.close();
	});

	it('judged the default branch as the note will quote it', async () => {
		const { rows } = await t.db.pool.query<{ title: string; state: string }>(
			`SELECT t.title, h.state::text FROM tests t JOIN test_health h ON h.test_id = t.id ORDER BY t.title`
		);
		expect(Object.fromEntries(rows.map((r) => [r.title, r.state]))).toEqual({ 'checks out': 'flaky', 'lists products': 'healthy', searches: 'broken' });
		// Default-branch pipelines are not merge requests: only their commit status was written.
		expect(gl.notes).toHaveLength(0);
		expect(gl.statuses.filter((s) => s.name === 'flackyness')).toHaveLength(20);
		expect(gl.statuses.at(-1)).toMatchObject({ sha: sha('c19'), state: 'success' });
		expect(gl.statuses.at(-1)!.description).toMatch(/No new failures: 1 broken on main too/);
	});

	it('waits for every shard, then writes one note and a failed status naming the new failure', async () => {
		const at = new Date(started + 2 * DAY);
		const shard1 = await job({ pipeline: 200, commit: 'm1', branch: 'feature/x', mr: 1, shard: [1, 2], at, results: [['lists products', 'pass'], ['checks out', 'fail'], ['pays', 'fail']] });
		await analysed();
		// A report requested by mistake would be queued right after the analysis: give it that moment.
		await new Promise((r) => setTimeout(r, 300));
		expect((await t.db.pool.query(`SELECT 1 FROM gitlab_jobs WHERE pipeline_id = '200'`)).rowCount).toBe(0);
		expect(gl.notes).toHaveLength(0);
		await job({ pipeline: 200, commit: 'm1', branch: 'feature/x', mr: 1, shard: [2, 2], at, results: [['searches', 'fail'], ['refunds', 'retry']] });
		await reported(200);

		expect(gl.notes).toHaveLength(1);
		const note = gl.notes[0]!;
		expect(note).toMatchObject({ projectId: 7, mrIid: 1 });
		expect(note.body).toContain('Flackyness: 1 new failure');
		expect(note.body).toMatch(/5 tests\*\* · 1 passed · 1 passed only on retry · 3 failed/);
		const section = (title: string) => note.body.split(/\n(?=\*\*|<details>)/).find((s) => s.includes(title)) ?? '';
		expect(section('New: failing here')).toContain('shop › pays');
		expect(section('New: failing here')).toContain('Error: pays went wrong');
		expect(section('Known flaky')).toMatch(/shop › checks out`\]\(http:\/\/flackyness\.test\/tests\/[0-9a-f-]{36}\) — flaky: \d+(\.\d)?% per attempt \(\d+(\.\d)?%–\d+(\.\d)?%\), \[quarantine\?\]/);
		expect(section('Broken on main too')).toContain(`since \`${sha('c12').slice(0, 8)}\``);
		expect(section('Passed only on retry')).toMatch(/shop › refunds.*not known flaky before this pipeline/);
		expect(note.body).toContain(`${DASHBOARD}/runs/${shard1}`);
		expect(note.body).toContain('https://gitlab.example.com/group/app/-/jobs/2001');

		const status = gl.statuses.filter((s) => s.sha === sha('m1'));
		expect(status).toHaveLength(1);
		expect(status[0]).toMatchObject({ name: 'flackyness', state: 'failed', targetUrl: `${DASHBOARD}/runs/${shard1}` });
		expect(status[0]!.description).toMatch(/^1 new failure/);
		const posted = gl.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/statuses/' + sha('m1')));
		expect(posted[0]!.body).toMatchObject({ ref: 'feature/x', pipeline_id: 200 });
		expect(gl.requests.every((r) => r.token === TOKEN)).toBe(true);
	});

	it('updates the same note on the next pipeline, and writes it again after someone deleted it', async () => {
		const at = new Date(started + 2 * DAY + 3_600_000);
		await job({ pipeline: 201, commit: 'm2', branch: 'feature/x', mr: 1, at, results: [['lists products', 'pass'], ['checks out', 'fail'], ['pays', 'pass'], ['refunds', 'pass']] });
		await reported(201);
		expect(gl.notes).toHaveLength(1);
		const id = gl.notes[0]!.id;
		expect(gl.requests.some((r) => r.method === 'PUT' && r.path.endsWith(`/notes/${id}`))).toBe(true);
		expect(gl.notes[0]!.body).toContain('Flackyness: no new failures: 1 known flaky');
		expect(gl.statuses.find((s) => s.sha === sha('m2'))).toMatchObject({ state: 'success', description: 'No new failures: 1 known flaky' });

		gl.notes.splice(0, 1);
		await job({ pipeline: 202, commit: 'm3', branch: 'feature/x', mr: 1, at: new Date(at.getTime() + 3_600_000), results: [['lists products', 'pass'], ['pays', 'pass']] });
		await reported(202);
		expect(gl.notes).toHaveLength(1);
		expect(gl.notes[0]!.id).not.toBe(id);
		expect(gl.notes[0]!.body).toContain('Flackyness: all 2 tests passed');
		// A second merge request gets a note of its own.
		await job({ pipeline: 203, commit: 'n1', branch: 'feature/y', mr: 2, at: new Date(at.getTime() + 7_200_000), results: [['lists products', 'pass']] });
		await reported(203);
		expect(gl.notes.map((n) => n.mrIid).sort()).toEqual([1, 2]);
	});

	it('reports a pipeline whose missing shard never came, once it went quiet for the stale-run timeout', async () => {
		await job({ pipeline: 210, commit: 'q1', branch: 'feature/y', mr: 2, shard: [1, 3], at: new Date(started + 2 * DAY), results: [['lists products', 'pass'], ['pays', 'fail']] });
		await analysed();
		await t.app.sweepStaleRuns();
		expect((await t.db.pool.query(`SELECT 1 FROM gitlab_jobs WHERE pipeline_id = '210'`)).rowCount).toBe(0);
		await t.db.pool.query(`UPDATE runs SET last_activity_at = now() - interval '3 hours' WHERE pipeline_id = '210'`);
		await t.app.sweepStaleRuns();
		await reported(210);
		const note = gl.notes.find((n) => n.mrIid === 2)!;
		expect(note.body).toContain('Flackyness: 1 new failure');
		expect(note.body).toContain('shop › pays');
	});

	it('retries 429 (after Retry-After), 5xx and timeouts, and shows each failure', async () => {
		gl.fault({ status: 429, retryAfter: '1', path: /\/statuses\// });
		gl.fault({ status: 502, path: /\/notes/ });
		gl.fault({ hang: true, path: /\/notes/ });
		const before = gl.notes[0]!.body;
		const t0 = Date.now();
		await job({ pipeline: 204, commit: 'm4', branch: 'feature/x', mr: 1, at: new Date(started + 3 * DAY), results: [['lists products', 'pass'], ['pays', 'fail']] });
		await reported(204);
		expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
		const note = gl.notes.find((n) => n.mrIid === 1)!;
		expect(note.body).not.toBe(before);
		expect(note.body).toContain('Flackyness: 1 new failure');
		const row = await t.db.prisma.gitlabJob.findUnique({ where: { projectId_kind_pipelineId: { projectId, kind: 'pipeline', pipelineId: '204' } } });
		expect(row).toMatchObject({ state: 'done', attempts: 4 });
		const metrics = await (await fetch(`${url}/metrics`)).text();
		for (const outcome of ['rate_limited', 'server_error', 'timeout']) expect(metrics).toMatch(new RegExp(`flackyness_gitlab_calls_total\\{operation="[a-zA-Z]+",outcome="${outcome}"\\} [1-9]`));
		expect(metrics).toMatch(/flackyness_gitlab_reports_total\{outcome="retry"\} 3/);
	});

	it('gives up on a refused token and says so in settings, system health and /metrics', async () => {
		gl.fault({ status: 401, path: /\/statuses\// });
		await job({ pipeline: 205, commit: 'm5', branch: 'feature/x', mr: 1, at: new Date(started + 3 * DAY + 3_600_000), results: [['lists products', 'pass']] });
		await reported(205);
		const settings = await api('GET', '/api/v1/projects/shop/integrations/gitlab');
		expect(settings.body.reports).toMatchObject({ pending: 0, failed: 1, lastFailure: { pipelineId: '205', kind: 'bad_token' } });
		expect(settings.body.reports.lastFailure.message).toMatch(/refused the token/);
		expect(settings.body.reports.lastSuccess.pipelineId).toBe('204');
		const health = await api('GET', '/api/v1/admin/health');
		expect(health.body.gitlabReports).toMatchObject({ failed: 1, lastFailure: { kind: 'bad_token' } });
		const metrics = await (await fetch(`${url}/metrics`)).text();
		expect(metrics).toMatch(/flackyness_gitlab_report_queue\{state="failed"\} 1/);
		expect(metrics).toMatch(/flackyness_gitlab_reports_total\{outcome="failed"\} 1/);
		// The token is in no answer, no row in clear, no metric.
		const dump = await t.db.pool.query(`SELECT row_to_json(j)::text AS j FROM gitlab_jobs j UNION ALL SELECT row_to_json(i)::text FROM gitlab_integrations i`);
		for (const text of [JSON.stringify(settings.body), JSON.stringify(health.body), metrics, ...dump.rows.map((r) => r.j as string)]) expect(text).not.toContain(TOKEN);

		// Once the token is fixed, an admin sends it again.
		expect((await api('POST', '/api/v1/projects/shop/integrations/gitlab/reports/retry', undefined, ingest)).status).toBe(403);
		expect((await api('POST', '/api/v1/projects/shop/integrations/gitlab/reports/retry')).body).toEqual({ requeued: 1 });
		await reported(205);
		expect((await api('GET', '/api/v1/projects/shop/integrations/gitlab')).body.reports).toMatchObject({ failed: 0, lastSuccess: { pipelineId: '205' } });
		expect(gl.statuses.find((st) => st.sha === sha('m5'))).toMatchObject({ state: 'success' });
	});

	it('keeps ingesting and analysing while GitLab hangs', async () => {
		gl.fault({ hang: true, times: 1000 });
		const t0 = Date.now();
		const runId = await job({ pipeline: 206, commit: 'm6', branch: 'feature/x', mr: 1, at: new Date(started + 3 * DAY + 7_200_000), results: [['lists products', 'pass'], ['pays', 'fail']] });
		expect(Date.now() - t0).toBeLessThan(5_000);
		await analysed();
		expect((await api('GET', `/api/v1/runs/${runId}`)).status).toBe(200);
		const row = await until('a retried report', () => t.db.prisma.gitlabJob.findFirst({ where: { projectId, pipelineId: '206', lastErrorKind: 'timeout' } }));
		expect(row.state).toBe('pending');
	});
});
