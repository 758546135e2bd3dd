import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestResultInput } from 'flackyness-reporter/protocol';
import { drainAnalysisQueue, HISTORY_LIMIT, processAnalysisJobs, recompute } from '../../src/jobs/analysis.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { ADMIN, newProject } from '../helpers/ingest.js';

type Kind = 'stable' | 'flaky-then-fixed' | 'broken-for-good' | 'flaky';

function outcome(kind: Kind, i: number): Pick<TestResultInput, 'outcome' | 'status' | 'attempts' | 'failedAttempts' | 'error'> {
	const pass = { outcome: 'expected' as const, status: 'passed' as const, attempts: 1, failedAttempts: 0 };
	const flake = { outcome: 'flaky' as const, status: 'passed' as const, attempts: 2, failedAttempts: 1, error: { message: 'Timeout' } };
	const fail = { outcome: 'unexpected' as const, status: 'failed' as const, attempts: 2, failedAttempts: 2, error: { message: 'boom' } };
	if (kind === 'flaky-then-fixed') return i < 40 && i % 4 === 1 ? flake : pass;
	if (kind === 'flaky') return i % 6 === 2 ? flake : pass;
	if (kind === 'broken-for-good') return i >= 60 ? fail : pass;
	return pass;
}

/**
 * The fast paths of the incremental analysis (counters bumped without reading the history) must
 * land where a full recompute of the same history lands.
 */
describe('incremental analysis', () => {
	let t: TestApp;
	let project: { id: string; token: string };
	beforeAll(async () => {
		t = await buildTestApp('postgres', { ADMIN_TOKEN: ADMIN, ANALYSIS_WORKER: 'false', RATE_LIMIT_RUNS: '10000' });
		project = await newProject(t, 'incremental');
	});
	afterAll(async () => t.close());

	it('reaches the verdicts of a full recompute, run after run', async () => {
		const kinds: Kind[] = ['stable', 'flaky-then-fixed', 'broken-for-good', 'flaky'];
		const start = Date.now() - 200 * 3600_000;
		const h = { authorization: `Bearer ${project.token}` };
		for (let i = 0; i < 180; i++) {
			const at = new Date(start + i * 3600_000).toISOString();
			const ci = { branch: 'main', defaultBranch: 'main', commitSha: (0x1000000 + i).toString(16), pipelineId: `${i}`, jobId: `${i}` };
			const runId = (await t.app.inject({ method: 'POST', url: '/api/v1/runs', headers: h, payload: { ci, startedAt: at } })).json().runId;
			const results = kinds.map((k) => ({
				file: 'a.spec.ts',
				titlePath: [k],
				projectName: '',
				tags: [],
				expectedStatus: 'passed' as const,
				durationMs: 500,
				startedAt: at,
				annotations: [],
				...outcome(k, i)
			}));
			await t.app.inject({ method: 'POST', url: `/api/v1/runs/${runId}/results`, headers: h, payload: { results } });
			await t.app.inject({ method: 'POST', url: `/api/v1/runs/${runId}/complete`, headers: h, payload: { status: 'passed' } });
			await drainAnalysisQueue(t.db.pool);
		}
		const states = async () =>
			Object.fromEntries(
				(
					await t.db.pool.query<{ title: string; state: string; runs: number }>(
						`SELECT t.title, h.state, h.runs FROM tests t JOIN test_health h ON h.test_id = t.id ORDER BY 1`
					)
				).rows.map((r) => [r.title, { state: r.state, runs: r.runs }])
			);
		const incremental = await states();
		expect(incremental).toMatchObject({
			stable: { state: 'healthy', runs: 180 },
			'broken-for-good': { state: 'broken', runs: 180 },
			flaky: { state: 'flaky', runs: 180 }
		});
		await recompute(t.db.pool, project.id);
		expect(await states()).toEqual(incremental);
	});

	it('takes the queue in batches bounded by jobs and by results, oldest first, at least one job each', async () => {
		const q = await newProject(t, 'batches');
		const h = { authorization: `Bearer ${q.token}` };
		const sizes = [30, 30, 30, 500, 30];
		for (const [i, size] of sizes.entries()) {
			const ci = { branch: 'main', defaultBranch: 'main', commitSha: (0x3000000 + i).toString(16), pipelineId: `b${i}`, jobId: `b${i}` };
			const runId = (await t.app.inject({ method: 'POST', url: '/api/v1/runs', headers: h, payload: { ci } })).json().runId;
			const results = Array.from({ length: size }, (_, k) => ({
				file: 'batch.spec.ts',
				titlePath: [`t${k}`],
				projectName: '',
				tags: [],
				expectedStatus: 'passed' as const,
				durationMs: 10,
				startedAt: new Date().toISOString(),
				annotations: [],
				...outcome('stable', k)
			}));
			const sent = await t.app.inject({ method: 'POST', url: `/api/v1/runs/${runId}/results`, headers: h, payload: { results } });
			expect(sent.statusCode).toBeLessThan(300);
			await t.app.inject({ method: 'POST', url: `/api/v1/runs/${runId}/complete`, headers: h, payload: { status: 'passed' } });
		}
		const queued = async () => Number((await t.db.pool.query(`SELECT count(*) FROM analysis_jobs WHERE project_id = $1`, [q.id])).rows[0].count);
		expect(await queued()).toBe(5);
		// 100 results: the first three runs (90), not the fourth (500 more).
		expect(await processAnalysisJobs(t.db.pool, 200, 100)).toMatchObject({ jobs: 3, tests: 30 });
		// A run larger than the budget still goes, alone.
		expect(await processAnalysisJobs(t.db.pool, 200, 100)).toMatchObject({ jobs: 1 });
		expect(await processAnalysisJobs(t.db.pool, 1, 100_000)).toMatchObject({ jobs: 1 });
		expect(await queued()).toBe(0);
		const health = await t.db.pool.query(`SELECT count(*)::int AS n, min(runs) AS least FROM test_health WHERE project_id = $1`, [q.id]);
		expect(health.rows[0]).toEqual({ n: 500, least: 1 });
	});

	it('finds where a regression began when it is older than the history it reads by default', async () => {
		const other = await newProject(t, 'long-regression');
		const passing = 300;
		const failing = HISTORY_LIMIT + 200;
		const sha = (i: number) => (0x2000000 + i).toString(16).padStart(40, '0');
		await t.db.pool.query(
			`INSERT INTO tests (id, project_id, key, file, title_path, title, project_name, tags)
			 VALUES (gen_random_uuid(), $1, 'long', 'long.spec.ts', '{long}', 'long', '', '{}')`,
			[other.id]
		);
		// One run per commit on the default branch, an hour apart: `passing` green, then red for good.
		await t.db.pool.query(
			`INSERT INTO runs (id, project_id, idempotency_key, source, status, branch, is_default_branch, commit_sha, pipeline_id, job_id, started_at, total)
			 SELECT gen_random_uuid(), $1, 'long-' || i, 'reporter', CASE WHEN i < $2 THEN 'passed' ELSE 'failed' END::run_status, 'main', true,
			        lpad(to_hex(33554432 + i), 40, '0'), i::text, i::text, now() - make_interval(hours => $3 - i), 1
			 FROM generate_series(0, $3 - 1) AS i`,
			[other.id, passing, passing + failing]
		);
		await t.db.pool.query(
			`INSERT INTO test_results (project_id, run_id, test_id, outcome, expected_status, status, attempts, failed_attempts, duration_ms, started_at, error_message, error_fingerprint)
			 SELECT r.project_id, r.id, x.id,
			        CASE WHEN r.status = 'passed' THEN 'expected' ELSE 'unexpected' END::outcome, 'passed',
			        CASE WHEN r.status = 'passed' THEN 'passed' ELSE 'failed' END,
			        CASE WHEN r.status = 'passed' THEN 1 ELSE 2 END, CASE WHEN r.status = 'passed' THEN 0 ELSE 2 END, 100, r.started_at,
			        CASE WHEN r.status = 'passed' THEN NULL ELSE 'Error: expected 200, got 500' END,
			        CASE WHEN r.status = 'passed' THEN NULL ELSE 'fp-long' END
			 FROM runs r JOIN tests x ON x.project_id = r.project_id WHERE r.project_id = $1`,
			[other.id]
		);
		await recompute(t.db.pool, other.id);
		const { rows } = await t.db.pool.query<{ state: string; change_point_sha: string; failures: number }>(
			`SELECT h.state, h.change_point_sha, h.failures FROM test_health h JOIN tests x ON x.id = h.test_id WHERE x.project_id = $1`,
			[other.id]
		);
		expect(rows).toEqual([{ state: 'broken', change_point_sha: sha(passing), failures: failing }]);
	});
});
