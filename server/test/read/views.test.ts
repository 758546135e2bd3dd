import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { BACKENDS } from '../helpers/db.js';
import { ADMIN, newProject } from '../helpers/ingest.js';
import { rng } from '../helpers/report-factory.js';

const HOUR = 3600_000;
const GITLAB = 'https://gitlab.example.com/shop/web';

interface Sent {
	title: string;
	branch: string;
	startedAt: number;
	durationMs: number;
	outcome: 'expected' | 'unexpected' | 'flaky';
}

function result(title: string, at: number, durationMs: number, outcome: Sent['outcome'] = 'expected') {
	return {
		file: `${title.split(' ')[0]}.spec.ts`,
		titlePath: [title],
		projectName: 'chromium',
		tags: [],
		outcome,
		expectedStatus: 'passed',
		status: outcome === 'unexpected' ? 'failed' : 'passed',
		attempts: outcome === 'expected' ? 1 : 2,
		failedAttempts: outcome === 'expected' ? 0 : outcome === 'flaky' ? 1 : 2,
		durationMs,
		startedAt: new Date(at).toISOString(),
		annotations: []
	};
}

/** percentile_cont: linear interpolation between the closest ranks. */
function percentile(values: number[], p: number): number {
	const s = [...values].sort((a, b) => a - b);
	const x = p * (s.length - 1);
	const lo = Math.floor(x);
	const hi = Math.ceil(x);
	return s[lo]! + (s[hi]! - s[lo]!) * (x - lo);
}

describe.each(BACKENDS)('pipelines and durations over HTTP on %s', (backend) => {
	let t: TestApp;
	let base = '';
	let ci: { id: string; token: string };
	let perf: { id: string; token: string };
	const sent: Sent[] = [];

	const call = async (token: string, method: string, path: string, body?: unknown) => {
		const res = await fetch(`${base}/api/v1${path}`, {
			method,
			headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
			body: body === undefined ? undefined : JSON.stringify(body)
		});
		return { status: res.status, body: (await res.json()) as Record<string, unknown> };
	};
	const get = async <T = Record<string, unknown>>(path: string) => {
		const res = await call(ADMIN, 'GET', path);
		expect(res.status, `${path}: ${JSON.stringify(res.body)}`).toBe(200);
		return res.body as T;
	};

	/** One job run through the streaming protocol; `complete: false` leaves it running. */
	async function job(
		token: string,
		c: Record<string, unknown>,
		at: number,
		results: ReturnType<typeof result>[],
		done: { status: string; durationMs: number } | null
	): Promise<string> {
		const opened = await call(token, 'POST', '/runs', { ci: { provider: 'gitlab', defaultBranch: 'main', ...c }, startedAt: new Date(at).toISOString() });
		expect(opened.status, JSON.stringify(opened.body)).toBe(201);
		const runId = opened.body.runId as string;
		if (results.length) expect((await call(token, 'POST', `/runs/${runId}/results`, { results })).status).toBe(200);
		if (done) expect((await call(token, 'POST', `/runs/${runId}/complete`, done)).status).toBe(200);
		return runId;
	}

	beforeAll(async () => {
		t = await buildTestApp(backend, { ADMIN_TOKEN: ADMIN, ANALYSIS_WORKER: 'false', RATE_LIMIT_RUNS: '10000' });
		base = await t.app.listen({ host: '127.0.0.1', port: 0 });
		ci = await newProject(t, 'ci');
		perf = await newProject(t, 'perf');
		// The GitLab connection's address: pipelines whose runs sent no link get one from it.
		await t.db.pool.query(`INSERT INTO gitlab_integrations (project_id, url, token_sealed, updated_at) VALUES ($1, 'https://gitlab.example.com', 'sealed', now())`, [ci.id]);

		const t0 = Date.now() - 10 * HOUR;
		const ok = (n: number, at: number) => Array.from({ length: n }, (_, i) => result(`test ${i}`, at, 1000));
		const shard = (pipelineId: string, i: number, jobId: string, extra: Record<string, unknown> = {}) => ({
			branch: 'main',
			commitSha: `abcdef${pipelineId}`,
			pipelineId,
			jobId,
			jobName: `e2e ${i}/3`,
			shardIndex: i,
			shardTotal: 3,
			...extra
		});
		// 100: three shards, one test passed on retry → flaky; it sent its pipeline URL.
		for (let i = 1; i <= 3; i++) {
			const results = i === 2 ? [...ok(2, t0), result('login works', t0, 3000, 'flaky')] : ok(3, t0);
			await job(ci.token, shard('100', i, `10${i}`, { pipelineUrl: `${GITLAB}/-/pipelines/100` }), t0 + i * 1000, results, { status: 'passed', durationMs: 60_000 + i * 10_000 });
		}
		// 101: shard 3 failed, its job was retried and passed → flaky, one retried job; link from a job URL.
		const t1 = t0 + 2 * HOUR;
		for (let i = 1; i <= 2; i++) await job(ci.token, shard('101', i, `11${i}`, { jobUrl: `${GITLAB}/-/jobs/11${i}` }), t1, ok(3, t1), { status: 'passed', durationMs: 50_000 });
		await job(ci.token, shard('101', 3, '113'), t1, [...ok(2, t1), result('cart total', t1, 5000, 'unexpected')], { status: 'failed', durationMs: 40_000 });
		await job(ci.token, shard('101', 3, '114'), t1 + 5 * 60_000, ok(3, t1 + 5 * 60_000), { status: 'passed', durationMs: 45_000 });
		// 102: a merge request pipeline with shard 3 missing → incomplete; link from the connection and the project path.
		const t2 = t0 + 4 * HOUR;
		for (let i = 1; i <= 2; i++) {
			await job(ci.token, shard('102', i, `12${i}`, { branch: 'feature/x', mrIid: 7, projectPath: 'shop/web' }), t2, ok(3, t2), { status: 'passed', durationMs: 30_000 });
		}
		// 103: a test failed every attempt in the only run that counts → failed.
		const t3 = t0 + 6 * HOUR;
		await job(ci.token, { branch: 'main', commitSha: 'abcdef103', pipelineId: '103', jobId: '131', jobName: 'e2e' }, t3, [...ok(2, t3), result('cart total', t3, 5000, 'unexpected')], { status: 'failed', durationMs: 20_000 });
		// 104: a job still running → running; the other provider has no GitLab link.
		const t4 = t0 + 8 * HOUR;
		await job(ci.token, { provider: 'github', branch: 'main', commitSha: 'abcdef104', pipelineId: '104', jobId: '141', jobName: 'e2e' }, t4, ok(1, t4), null);

		// perf: 42 pipelines over the last 14 days on main, and slower runs on a feature branch.
		const random = rng(7);
		for (let i = 41; i >= 0; i--) {
			const at = Date.now() - (i + 0.5) * 8 * HOUR;
			const durations: Record<string, number> = {
				'checkout pays': 2000 + Math.round(random() * 3000),
				// Twice as slow in the last 7 days (168 h; runs are 4 h either side of it).
				'search finds': (i * 8 + 4 < 168 ? 2000 : 1000) + Math.round(random() * 100),
				'home shows': 300 + Math.round(random() * 50)
			};
			const outcomes: Record<string, Sent['outcome']> = { 'checkout pays': i % 9 === 0 ? 'flaky' : i % 13 === 0 ? 'unexpected' : 'expected', 'search finds': 'expected', 'home shows': 'expected' };
			const results = Object.entries(durations).map(([title, ms]) => {
				sent.push({ title, branch: 'main', startedAt: at, durationMs: ms, outcome: outcomes[title]! });
				return result(title, at, ms, outcomes[title]);
			});
			await job(perf.token, { branch: 'main', commitSha: `abcdef${1000 + i}`, pipelineId: `${500 + 41 - i}`, jobId: `${9000 + i}`, jobName: 'e2e' }, at, results, { status: 'passed', durationMs: 30_000 });
		}
		for (let i = 0; i < 5; i++) {
			const at = Date.now() - (i + 1) * HOUR;
			sent.push({ title: 'home shows', branch: 'feature/y', startedAt: at, durationMs: 9000, outcome: 'expected' });
			await job(perf.token, { branch: 'feature/y', commitSha: `fedcba${1000 + i}`, pipelineId: `${700 + i}`, jobId: `${9500 + i}`, jobName: 'e2e' }, at, [result('home shows', at, 9000)], { status: 'passed', durationMs: 10_000 });
		}
		// The latest pipeline of main: two shards, the second the longer one.
		const last = Date.now() - 30 * 60_000;
		const slow = (title: string, ms: number) => {
			sent.push({ title, branch: 'main', startedAt: last, durationMs: ms, outcome: 'expected' });
			return result(title, last, ms);
		};
		await job(perf.token, { branch: 'main', commitSha: 'abcdef9999', pipelineId: '600', jobId: '9601', jobName: 'e2e 1/2', shardIndex: 1, shardTotal: 2 }, last, [slow('report a', 10_000), slow('report b', 20_000), slow('report c', 25_000)], { status: 'passed', durationMs: 60_000 });
		await job(perf.token, { branch: 'main', commitSha: 'abcdef9999', pipelineId: '600', jobId: '9602', jobName: 'e2e 2/2', shardIndex: 2, shardTotal: 2 }, last, [slow('report d', 40_000), slow('report e', 30_000), slow('report f', 35_000)], { status: 'passed', durationMs: 90_000 });
	}, 240_000);
	afterAll(async () => t?.close());

	type Pipeline = {
		pipelineId: string;
		outcome: string;
		branch: string;
		mrIid: number | null;
		tests: number;
		failed: number;
		flaky: number;
		retriedJobs: number;
		durationMs: number | null;
		gitlabUrl: string | null;
		missingShards: { job: string; shardIndex: number; shardTotal: number }[];
		jobs: { runId: string; jobId: string; shardIndex: number | null; shardTotal: number | null; attempt: number; attempts: number; counts: boolean; status: string }[];
	};

	it('groups runs by pipeline, newest first, with one outcome each', async () => {
		const page = await get<{ items: Pipeline[]; total: number }>('/projects/ci/pipelines');
		expect(page.total).toBe(5);
		expect(page.items.map((p) => [p.pipelineId, p.outcome])).toEqual([
			['104', 'running'],
			['103', 'failed'],
			['102', 'incomplete'],
			['101', 'flaky'],
			['100', 'flaky']
		]);
		const p100 = page.items.find((p) => p.pipelineId === '100')!;
		expect(p100.jobs.map((j) => [j.jobId, j.shardIndex, j.shardTotal, j.attempt, j.counts])).toEqual([
			['101', 1, 3, 1, true],
			['102', 2, 3, 1, true],
			['103', 3, 3, 1, true]
		]);
		expect(p100).toMatchObject({ tests: 9, failed: 0, flaky: 1, retriedJobs: 0, missingShards: [] });
		// Wall time: from the first shard's start (t0 + 1 s) to the last one's end (t0 + 3 s + 90 s).
		expect(p100.durationMs).toBe(92_000);
		expect(p100.gitlabUrl).toBe(`${GITLAB}/-/pipelines/100`);
	});

	it('labels a retried job with its attempts and counts only the latest', async () => {
		const { items } = await get<{ items: Pipeline[] }>('/projects/ci/pipelines?pipelineId=101');
		const p = items[0]!;
		expect(items).toHaveLength(1);
		const shard3 = p.jobs.filter((j) => j.shardIndex === 3);
		expect(shard3.map((j) => [j.jobId, j.attempt, j.attempts, j.counts, j.status])).toEqual([
			['113', 1, 2, false, 'failed'],
			['114', 2, 2, true, 'passed']
		]);
		// The failed attempt does not count: 9 tests, none failed.
		expect(p).toMatchObject({ retriedJobs: 1, tests: 9, failed: 0, flaky: 0 });
		expect(p.gitlabUrl).toBe(`${GITLAB}/-/pipelines/101`);
	});

	it('names the missing shards, derives the GitLab link, and filters by branch and outcome', async () => {
		const { items } = await get<{ items: Pipeline[] }>('/projects/ci/pipelines?branch=feature%2Fx');
		expect(items.map((p) => p.pipelineId)).toEqual(['102']);
		expect(items[0]).toMatchObject({ outcome: 'incomplete', mrIid: 7, missingShards: [{ job: 'e2e', shardIndex: 3, shardTotal: 3 }] });
		expect(items[0]!.gitlabUrl).toBe('https://gitlab.example.com/shop/web/-/pipelines/102');

		const failedOrFlaky = await get<{ items: Pipeline[]; total: number }>('/projects/ci/pipelines?outcome=failed,flaky&pageSize=2');
		expect(failedOrFlaky.total).toBe(3);
		expect(failedOrFlaky.items.map((p) => p.pipelineId)).toEqual(['103', '101']);
		const second = await get<{ items: Pipeline[]; total: number }>('/projects/ci/pipelines?outcome=failed,flaky&pageSize=2&page=2');
		expect(second.items.map((p) => p.pipelineId)).toEqual(['100']);
		expect(second.total).toBe(3);

		const running = (await get<{ items: Pipeline[] }>('/projects/ci/pipelines?outcome=running')).items[0]!;
		expect(running).toMatchObject({ pipelineId: '104', durationMs: null, gitlabUrl: null });

		expect((await call(ADMIN, 'GET', '/projects/ci/pipelines?outcome=green')).status).toBe(400);
		expect((await call(ADMIN, 'GET', '/projects/ci/pipelines?pageSize=101')).status).toBe(400);
		expect((await call(ADMIN, 'GET', '/projects/nope/pipelines')).status).toBe(404);
		// A project token reads only its own project.
		expect((await call(perf.token, 'GET', '/projects/ci/pipelines')).status).toBe(404);
	});

	/** What the API should answer, computed here from the results this test sent. */
	function expectedSlowest(branch: string, minRuns: number) {
		const byTest = new Map<string, number[]>();
		for (const s of sent) {
			if (s.branch !== branch || s.outcome !== 'expected' || s.startedAt < Date.now() - 14 * 24 * HOUR) continue;
			byTest.set(s.title, [...(byTest.get(s.title) ?? []), s.durationMs]);
		}
		return [...byTest]
			.filter(([, d]) => d.length >= minRuns)
			.map(([title, d]) => ({ title, runs: d.length, p50Ms: percentile(d, 0.5), p95Ms: percentile(d, 0.95), maxMs: Math.max(...d) }))
			.sort((a, b) => b.p50Ms - a.p50Ms);
	}

	it('answers p50 and p95 of passing durations on the default branch, as computed from the stored results', async () => {
		type Row = { title: string; runs: number; p50Ms: number; p95Ms: number; maxMs: number };
		const body = await get<{ items: Row[]; total: number; defaultBranch: string; scope: string }>('/projects/perf/durations/slowest');
		const expected = expectedSlowest('main', 3);
		expect(body).toMatchObject({ total: expected.length, defaultBranch: 'main', scope: 'default' });
		expect(body.items.map((r) => r.title)).toEqual(expected.map((e) => e.title));
		for (const [i, e] of expected.entries()) {
			const got = body.items[i]!;
			expect(got.runs).toBe(e.runs);
			expect(got.p50Ms).toBeCloseTo(e.p50Ms, 6);
			expect(got.p95Ms).toBeCloseTo(e.p95Ms, 6);
			expect(got.maxMs).toBe(e.maxMs);
		}
		// The flaky and failed results of "checkout pays" are not durations of a passing attempt.
		expect(body.items.find((r) => r.title === 'checkout pays')!.runs).toBe(sent.filter((s) => s.title === 'checkout pays' && s.outcome === 'expected').length);

		const byP95 = await get<{ items: Row[] }>('/projects/perf/durations/slowest?sort=p95&minRuns=1');
		const all = expectedSlowest('main', 1).sort((a, b) => b.p95Ms - a.p95Ms);
		expect(byP95.items.map((r) => r.title)).toEqual(all.map((e) => e.title));

		const feature = await get<{ items: Row[] }>('/projects/perf/durations/slowest?branch=feature%2Fy');
		expect(feature.items.map((r) => [r.title, r.runs, r.p50Ms])).toEqual([['home shows', 5, 9000]]);
		const everywhere = await get<{ items: Row[] }>('/projects/perf/durations/slowest?branch=*');
		expect(everywhere.items.find((r) => r.title === 'home shows')!.runs).toBe(42 + 5);
		expect((await call(ADMIN, 'GET', '/projects/perf/durations/slowest?days=0')).status).toBe(400);
	});

	it('finds the test that became slower, and only with enough runs in both windows', async () => {
		type Row = { title: string; recentRuns: number; previousRuns: number; recentP50Ms: number; previousP50Ms: number; ratio: number; changeMs: number };
		const { items } = await get<{ items: Row[] }>('/projects/perf/durations/slower');
		expect(items.map((r) => r.title)).toEqual(['search finds']);
		const now = Date.now();
		const search = sent.filter((s) => s.title === 'search finds');
		const recent = search.filter((s) => s.startedAt >= now - 7 * 24 * HOUR).map((s) => s.durationMs);
		const previous = search.filter((s) => s.startedAt < now - 7 * 24 * HOUR).map((s) => s.durationMs);
		const row = items[0]!;
		expect([row.recentRuns, row.previousRuns]).toEqual([recent.length, previous.length]);
		expect(row.recentP50Ms).toBeCloseTo(percentile(recent, 0.5), 6);
		expect(row.previousP50Ms).toBeCloseTo(percentile(previous, 0.5), 6);
		expect(row.changeMs).toBeCloseTo(percentile(recent, 0.5) - percentile(previous, 0.5), 6);
		expect(row.ratio).toBeCloseTo(percentile(recent, 0.5) / percentile(previous, 0.5), 6);
		expect(row.ratio).toBeGreaterThan(1.8);
		// More runs than either window holds: nothing qualifies.
		expect((await get<{ items: Row[] }>(`/projects/perf/durations/slower?minRuns=${recent.length + 1}`)).items).toEqual([]);
	});

	it('draws a test’s daily p50 and p95', async () => {
		const { rows } = await t.db.pool.query(`SELECT id FROM tests WHERE project_id = $1 AND title = 'search finds'`, [perf.id]);
		const body = await get<{ points: { from: string; runs: number; p50Ms: number; p95Ms: number }[] }>(`/tests/${rows[0].id}/durations?days=30`);
		const byDay = new Map<string, number[]>();
		for (const s of sent.filter((x) => x.title === 'search finds')) {
			const day = new Date(s.startedAt).toISOString().slice(0, 10);
			byDay.set(day, [...(byDay.get(day) ?? []), s.durationMs]);
		}
		const expected = [...byDay].sort(([a], [b]) => a.localeCompare(b));
		expect(body.points.map((p) => p.from.slice(0, 10))).toEqual(expected.map(([d]) => d));
		for (const [i, [, d]] of expected.entries()) {
			expect(body.points[i]!.runs).toBe(d.length);
			expect(body.points[i]!.p50Ms).toBeCloseTo(percentile(d, 0.5), 6);
			expect(body.points[i]!.p95Ms).toBeCloseTo(percentile(d, 0.95), 6);
		}
		const weekly = await get<{ points: { runs: number }[] }>(`/tests/${rows[0].id}/durations?days=30&bucket=week`);
		expect(weekly.points.reduce((a, p) => a + p.runs, 0)).toBe(42);
	});

	it('shows per shard of the latest complete pipeline its wall time, time in tests and slowest tests', async () => {
		type Shard = { shardIndex: number; wallMs: number; sumMs: number; results: number; parallelism: number; bounding: boolean; slowest: { title: string; durationMs: number }[] };
		const body = await get<{ pipeline: { pipelineId: string }; shards: Shard[]; wallMs: number }>('/projects/perf/durations/critical-path?slowest=2');
		expect(body.pipeline.pipelineId).toBe('600');
		expect(body.wallMs).toBe(90_000);
		expect(body.shards.map((s) => [s.shardIndex, s.wallMs, s.results, s.sumMs, s.bounding])).toEqual([
			[1, 60_000, 3, 55_000, false],
			[2, 90_000, 3, 105_000, true]
		]);
		expect(body.shards[1]!.parallelism).toBeCloseTo(105 / 90, 6);
		expect(body.shards[1]!.slowest.map((x) => [x.title, x.durationMs])).toEqual([
			['report d', 40_000],
			['report f', 35_000]
		]);
		const ofPipeline = await get<{ pipeline: { pipelineId: string } }>('/projects/ci/durations/critical-path?pipelineId=101');
		expect(ofPipeline.pipeline.pipelineId).toBe('101');
		expect((await call(ADMIN, 'GET', '/projects/ci/durations/critical-path?pipelineId=999')).status).toBe(404);
	});
});
