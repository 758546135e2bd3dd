import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drainAnalysisQueue } from '../../src/jobs/analysis.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { ADMIN, newProject } from '../helpers/ingest.js';

/**
 * Issue 14 §1 and §2 through the API on PostgreSQL: a test failing only on a feature branch is
 * listed (state `failing`, with its branch), and a test gone from the default-branch pipelines
 * leaves the active counts after the configured window, and comes back when it runs again.
 */

type Outcome = 'pass' | 'fail' | 'retry';
interface Ci {
	branch: string;
	commit: string;
	pipeline: number;
	shard?: [number, number];
}

describe('branch-only failures and inactive tests', () => {
	let t: TestApp;
	const admin = { authorization: `Bearer ${ADMIN}` };
	const start = Date.now() - 200 * 3600_000;
	let hour = 0;

	beforeAll(async () => {
		t = await buildTestApp('postgres', { ADMIN_TOKEN: ADMIN, ANALYSIS_WORKER: 'false', RATE_LIMIT_RUNS: '10000' });
	});
	afterAll(async () => t.close());

	/** One finished job of a pipeline with these tests' outcomes, analysed. */
	async function job(project: { token: string }, ci: Ci, tests: Record<string, Outcome>) {
		const h = { authorization: `Bearer ${project.token}` };
		const startedAt = new Date(start + hour++ * 3600_000).toISOString();
		const meta = {
			defaultBranch: 'main',
			branch: ci.branch,
			commitSha: ci.commit.padEnd(40, '0'),
			pipelineId: String(ci.pipeline),
			jobId: `${ci.pipeline}${ci.shard ? `-${ci.shard[0]}` : ''}`,
			jobName: 'e2e',
			...(ci.shard ? { shardIndex: ci.shard[0], shardTotal: ci.shard[1] } : {}),
			...(ci.branch === 'main' ? {} : { mrIid: 7 })
		};
		const open = await t.app.inject({ method: 'POST', url: '/api/v1/runs', headers: h, payload: { ci: meta, startedAt } });
		expect(open.statusCode).toBeLessThan(300);
		const runId = open.json().runId as string;
		const results = Object.entries(tests).map(([title, o]) => ({
			file: 'app.spec.ts',
			titlePath: [title],
			projectName: '',
			tags: [],
			expectedStatus: 'passed' as const,
			durationMs: 60_000,
			annotations: [],
			startedAt,
			outcome: o === 'pass' ? ('expected' as const) : o === 'retry' ? ('flaky' as const) : ('unexpected' as const),
			status: o === 'pass' ? ('passed' as const) : ('failed' as const),
			attempts: o === 'retry' ? 2 : 1,
			failedAttempts: o === 'pass' ? 0 : 1,
			...(o === 'pass' ? {} : { error: { message: 'expect(received).toBe(expected)' } })
		}));
		const sent = await t.app.inject({ method: 'POST', url: `/api/v1/runs/${runId}/results`, headers: h, payload: { results } });
		expect(sent.statusCode).toBeLessThan(300);
		await t.app.inject({ method: 'POST', url: `/api/v1/runs/${runId}/complete`, headers: h, payload: { status: 'passed' } });
		await drainAnalysisQueue(t.db.pool);
	}

	const get = async (url: string) => {
		const res = await t.app.inject({ method: 'GET', url, headers: admin });
		expect(res.statusCode, res.body).toBe(200);
		return res.json();
	};
	const listed = async (id: string, query = '') =>
		(await get(`/api/v1/projects/${id}/flaky-tests${query}`)).items as Array<{
			title: string;
			state: string;
			testId: string;
			inactiveSince: string | null;
			failingBranches: Array<{ branch: string; failedRuns: number; runs: number; lastFailedAt: string; firstFailedAt: string }>;
		}>;

	it('lists a test failing only on a feature branch as failing, with its branch, by default and by branch filter', async () => {
		const project = await newProject(t, 'branch-only');
		for (let p = 1; p <= 3; p++) await job(project, { branch: 'main', commit: `a${p}`, pipeline: p }, { login: 'pass', search: 'pass' });
		await job(project, { branch: 'feature/login', commit: 'b1', pipeline: 10 }, { login: 'fail', search: 'pass' });
		await job(project, { branch: 'feature/login', commit: 'b1', pipeline: 11 }, { login: 'fail', search: 'pass' });
		await job(project, { branch: 'feature/login', commit: 'b2', pipeline: 12 }, { login: 'fail', search: 'pass' });

		const items = await listed(project.id);
		expect(items.map((i) => [i.title, i.state])).toEqual([['login', 'failing']]);
		expect(items[0]!.failingBranches).toEqual([expect.objectContaining({ branch: 'feature/login', failedRuns: 3, runs: 3 })]);
		expect((await listed(project.id, '?branch=feature/login')).map((i) => i.title)).toEqual(['login']);
		expect(await listed(project.id, '?branch=feature/other')).toEqual([]);
		expect((await listed(project.id, '?state=failing')).map((i) => i.title)).toEqual(['login']);

		const stats = await get(`/api/v1/projects/${project.id}/stats`);
		expect(stats).toMatchObject({ failing: 1, activeFlaky: 0, suspect: 0, brokenNow: 0 });
		const detail = await get(`/api/v1/tests/${items[0]!.testId}`);
		expect(detail.health.state).toBe('failing');
		expect(detail.health.evidence.reasons[0]).toMatch(/^Failing on feature branch feature\/login \(3 of 3 runs failed/);
		// Not news: no flaky or broken event, so no webhook and no GitLab issue.
		const events = await t.db.pool.query(`SELECT kind FROM test_events WHERE test_id = $1`, [items[0]!.testId]);
		expect(events.rows).toEqual([]);

		// The branch is fixed, merged, and the test passes on main: healthy again, out of the list.
		await job(project, { branch: 'feature/login', commit: 'b3', pipeline: 13 }, { login: 'pass', search: 'pass' });
		await job(project, { branch: 'main', commit: 'a4', pipeline: 14 }, { login: 'pass', search: 'pass' });
		expect(await listed(project.id)).toEqual([]);
		expect((await get(`/api/v1/tests/${items[0]!.testId}`)).health.state).toBe('healthy');
	});

	it('calls a test failing when the default branch has not run yet', async () => {
		const project = await newProject(t, 'no-main-yet');
		await job(project, { branch: 'feature/first', commit: 'c1', pipeline: 20 }, { checkout: 'fail', cart: 'pass' });
		await job(project, { branch: 'feature/first', commit: 'c2', pipeline: 21 }, { checkout: 'fail', cart: 'pass' });
		const items = await listed(project.id);
		expect(items.map((i) => [i.title, i.state, i.failingBranches.map((b) => b.branch)])).toEqual([['checkout', 'failing', ['feature/first']]]);
		const detail = await get(`/api/v1/tests/${items[0]!.testId}`);
		expect(detail.health.evidence.reasons[0]).toMatch(/the default branch has not run it yet/);
	});

	it('takes a removed test out of the active counts after the configured window, and back when it runs again', async () => {
		const project = await newProject(t, 'gone');
		const put = await t.app.inject({
			method: 'PUT',
			url: `/api/v1/projects/${project.id}/settings`,
			headers: admin,
			payload: { analysis: { inactiveAfterPipelines: 3 } }
		});
		expect(put.statusCode, put.body).toBe(200);
		let pipeline = 100;
		const main = (tests: Record<string, Outcome>) => job(project, { branch: 'main', commit: `d${pipeline}`, pipeline: pipeline++ }, tests);
		for (let i = 0; i < 6; i++) await main({ kept: 'pass', removed: i % 2 === 0 ? 'retry' : 'pass' });
		const before = await get(`/api/v1/projects/${project.id}/stats`);
		expect(before).toMatchObject({ activeFlaky: 1, inactive: 0 });
		expect(before.impactMinutesPerDay).toBeGreaterThan(0);
		const removedId = (await listed(project.id)).find((i) => i.title === 'removed')!.testId;

		// Two complete pipelines without it, and one missing a shard (not complete): still active.
		await main({ kept: 'pass' });
		await main({ kept: 'pass' });
		await job(project, { branch: 'main', commit: 'dd5', pipeline: pipeline++, shard: [1, 2] }, { kept: 'pass' });
		expect(await get(`/api/v1/projects/${project.id}/stats`)).toMatchObject({ activeFlaky: 1, inactive: 0 });
		// A feature branch without it does not count either.
		await job(project, { branch: 'feature/z', commit: 'e1', pipeline: 300 }, { kept: 'pass' });
		expect((await get(`/api/v1/projects/${project.id}/stats`)).inactive).toBe(0);

		// The third complete default-branch pipeline without it: inactive.
		await main({ kept: 'pass' });
		const after = await get(`/api/v1/projects/${project.id}/stats`);
		expect(after).toMatchObject({ activeFlaky: 0, inactive: 1, testsTracked: 2 });
		expect(after.impactMinutesPerDay).toBe(0);
		expect((await listed(project.id)).map((i) => i.title)).toEqual([]);
		const gone = await listed(project.id, '?activity=inactive');
		expect(gone.map((i) => [i.title, i.state])).toEqual([['removed', 'flaky']]);
		expect(gone[0]!.inactiveSince).not.toBeNull();
		// Still searchable, and its page says since when and why.
		expect((await listed(project.id, '?q=removed&activity=all&state=healthy,flaky')).map((i) => i.title)).toEqual(['removed']);
		const detail = await get(`/api/v1/tests/${removedId}`);
		expect(detail.inactiveAfterPipelines).toBe(3);
		expect(new Date(detail.health.inactiveSince).getTime()).toBe(new Date(gone[0]!.inactiveSince!).getTime());
		// The first default-branch pipeline without it began the inactivity.
		const first = await t.db.pool.query(`SELECT min(started_at) AS at FROM runs WHERE project_id = $1 AND pipeline_id = '106'`, [project.id]);
		expect(new Date(detail.health.inactiveSince).getTime()).toBe(first.rows[0].at.getTime());

		// It runs again (on any branch): active at once.
		await job(project, { branch: 'feature/z', commit: 'e2', pipeline: 301 }, { kept: 'pass', removed: 'pass' });
		expect(await get(`/api/v1/projects/${project.id}/stats`)).toMatchObject({ activeFlaky: 1, inactive: 0 });
		expect((await listed(project.id)).map((i) => [i.title, i.inactiveSince])).toEqual([['removed', null]]);
	});
});
