import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestResultInput } from 'flackyness-reporter/protocol';
import { drainAnalysisQueue } from '../../src/jobs/analysis.js';
import { BACKENDS } from '../helpers/db.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { ADMIN, newProject } from '../helpers/ingest.js';

type Kind = 'stable' | 'flaky' | 'regression';

/**
 * A small history on the default branch: 40 commits, two runs each (a pipeline and a manual
 * retry). "stable" always passes, "flaky" fails its first attempt now and then and passes on
 * retry, "regression" passes until commit 25 and then fails every attempt.
 */
function resultFor(kind: Kind, commit: number, run: number, at: Date): TestResultInput {
	const base = {
		file: 'checkout.spec.ts',
		titlePath: ['checkout', `${kind} test`],
		projectName: 'chromium',
		tags: [],
		expectedStatus: 'passed' as const,
		durationMs: 1500,
		startedAt: at.toISOString(),
		annotations: []
	};
	if (kind === 'flaky' && (commit * 7 + run * 3) % 5 === 0) {
		return { ...base, outcome: 'flaky', status: 'passed', attempts: 2, failedAttempts: 1, error: { message: 'Timeout 5000ms exceeded waiting for #pay' } };
	}
	if (kind === 'regression' && commit >= 25) {
		return { ...base, outcome: 'unexpected', status: 'failed', attempts: 2, failedAttempts: 2, error: { message: 'Error: expected total 42, got 41' } };
	}
	return { ...base, outcome: 'expected', status: 'passed', attempts: 1, failedAttempts: 0 };
}

const sha = (i: number) => (0xabc0000 + i).toString(16).padStart(40, '0');

describe.each(BACKENDS)('read API and quarantine on %s', (backend) => {
	let t: TestApp;
	let project: { id: string; token: string };
	const ids: Record<Kind, string> = { stable: '', flaky: '', regression: '' };

	beforeAll(async () => {
		t = await buildTestApp(backend, { ADMIN_TOKEN: ADMIN, ANALYSIS_WORKER: 'false', RATE_LIMIT_RUNS: '1000' });
		project = await newProject(t, 'shop');
		const start = Date.now() - 40 * 3600_000;
		for (let c = 0; c < 40; c++) {
			for (let r = 0; r < 2; r++) {
				const at = new Date(start + c * 3600_000 + r * 600_000);
				const ci = { provider: 'gitlab' as const, branch: 'main', defaultBranch: 'main', commitSha: sha(c), pipelineId: `${1000 + c}`, jobId: `${5000 + c * 2 + r}`, jobName: 'e2e' };
				const opened = await t.app.inject({ method: 'POST', url: '/api/v1/runs', headers: { authorization: `Bearer ${project.token}` }, payload: { ci, startedAt: at.toISOString() } });
				const runId = opened.json().runId;
				const results = (['stable', 'flaky', 'regression'] as Kind[]).map((k) => resultFor(k, c, r, at));
				await t.app.inject({ method: 'POST', url: `/api/v1/runs/${runId}/results`, headers: { authorization: `Bearer ${project.token}` }, payload: { results } });
				const failed = results.some((x) => x.outcome === 'unexpected');
				await t.app.inject({ method: 'POST', url: `/api/v1/runs/${runId}/complete`, headers: { authorization: `Bearer ${project.token}` }, payload: { status: failed ? 'failed' : 'passed' } });
			}
		}
		const stats = await drainAnalysisQueue(t.db.pool);
		expect(stats.jobs).toBe(80);
		const { rows } = await t.db.pool.query(`SELECT id, title FROM tests WHERE project_id = $1`, [project.id]);
		for (const r of rows) ids[(r.title as string).split(' ')[0] as Kind] = r.id;
	}, 240_000);
	afterAll(async () => t.close());

	const get = (url: string, token = ADMIN) => t.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });

	it('tells flaky from broken from healthy, with the commit where the regression began', async () => {
		const flaky = (await get(`/api/v1/tests/${ids.flaky}`)).json();
		expect(flaky.health.state).toBe('flaky');
		expect(flaky.health.mixedCommits).toBeGreaterThan(0);
		expect(flaky.health.scoreLow).toBeLessThanOrEqual(flaky.health.score);
		expect(flaky.health.scoreHigh).toBeGreaterThanOrEqual(flaky.health.score);
		expect(flaky.health.evidence.reasons.length).toBeGreaterThan(0);

		const broken = (await get(`/api/v1/tests/${ids.regression}`)).json();
		expect(broken.health.state).toBe('broken');
		expect(broken.health.changePointSha).toBe(sha(25));

		const stable = (await get(`/api/v1/tests/${ids.stable}`)).json();
		expect(stable.health.state).toBe('healthy');
	});

	it('lists, sorts, filters and searches flaky tests, with pagination limits', async () => {
		const all = (await get('/api/v1/projects/shop/flaky-tests')).json();
		expect(all.items.map((i: { state: string }) => i.state).sort()).toEqual(['broken', 'flaky']);
		expect(all.total).toBe(2);
		const broken = (await get('/api/v1/projects/shop/flaky-tests?state=broken')).json();
		expect(broken.items).toHaveLength(1);
		expect(broken.items[0].testId).toBe(ids.regression);
		const search = (await get('/api/v1/projects/shop/flaky-tests?q=flaky%20te&state=flaky,broken,healthy')).json();
		expect(search.items.map((i: { testId: string }) => i.testId)).toEqual([ids.flaky]);
		const byName = (await get('/api/v1/projects/shop/flaky-tests?state=healthy,flaky,broken&sort=name&order=asc&pageSize=2&page=2')).json();
		expect(byName).toMatchObject({ total: 3, page: 2, pageSize: 2 });
		expect(byName.items.map((i: { title: string }) => i.title)).toEqual(['stable test']);
		const otherBranch = (await get('/api/v1/projects/shop/flaky-tests?branch=nope')).json();
		expect(otherBranch.items).toEqual([]);
		expect((await get('/api/v1/projects/shop/flaky-tests?pageSize=101')).statusCode).toBe(400);
		expect((await get('/api/v1/projects/shop/flaky-tests?state=wobbly')).statusCode).toBe(400);
		expect((await get('/api/v1/projects/shop/flaky-tests?sort=random')).statusCode).toBe(400);
		const injection = await get(`/api/v1/projects/shop/flaky-tests?q=${encodeURIComponent("' OR 1=1; DROP TABLE tests; --")}`);
		expect(injection.statusCode).toBe(200);
		expect(injection.json().items).toEqual([]);
	});

	it('answers stats with a daily trend, history with CI links, runs, and error clusters', async () => {
		const stats = (await get('/api/v1/projects/shop/stats?days=7')).json();
		expect(stats).toMatchObject({ testsTracked: 3, activeFlaky: 1, brokenNow: 1, days: 7 });
		expect(stats.trend).toHaveLength(7);
		expect(stats.overallFlakeRate).toBeGreaterThan(0);
		expect((await get('/api/v1/projects/shop/stats?days=0')).statusCode).toBe(400);
		expect((await get('/api/v1/projects/shop/stats?days=366')).statusCode).toBe(400);

		const history = (await get(`/api/v1/tests/${ids.regression}/history?limit=5`)).json();
		expect(history.items).toHaveLength(5);
		expect(history.items[0]).toMatchObject({ outcome: 'unexpected', branch: 'main', commitSha: sha(39) });
		expect(history.items[0].error.message).toContain('expected total 42');

		const runs = (await get('/api/v1/projects/shop/runs?pageSize=3')).json();
		expect(runs.total).toBe(80);
		expect(runs.items).toHaveLength(3);
		const run = (await get(`/api/v1/runs/${runs.items[0].id}`)).json();
		expect(run.notable.map((n: { testId: string }) => n.testId)).toContain(ids.regression);

		const errors = (await get('/api/v1/projects/shop/errors')).json();
		const messages = errors.clusters.map((c: { message: string }) => c.message);
		expect(messages).toEqual(expect.arrayContaining(['Error: expected total 42, got 41']));
		const facets = (await get('/api/v1/projects/shop/facets')).json();
		expect(facets).toEqual({ branches: ['main'], playwrightProjects: ['chromium'] });
	});

	it("keeps each project token to its own project", async () => {
		const other = await newProject(t, `other-${backend}`);
		expect((await get(`/api/v1/tests/${ids.flaky}`, other.token)).statusCode).toBe(404);
		expect((await get('/api/v1/projects/shop/stats', other.token)).statusCode).toBe(404);
		const visible = (await get('/api/v1/projects', other.token)).json();
		expect(visible.projects.map((p: { slug: string }) => p.slug)).toEqual([`other-${backend}`]);
		expect((await get('/api/v1/projects/shop/flaky-tests', project.token)).statusCode).toBe(200);
		expect((await t.app.inject({ method: 'GET', url: '/api/v1/projects' })).statusCode).toBe(401);
	});

	it('quarantines and releases a test; the reporter sees the list', async () => {
		const url = `/api/v1/tests/${ids.flaky}/quarantine`;
		const byProject = await t.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${project.token}` }, payload: { reason: 'x' } });
		expect(byProject.statusCode).toBe(403);
		const past = await t.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${ADMIN}` }, payload: { reason: 'x', expiresAt: '2020-01-01T00:00:00Z' } });
		expect(past.statusCode).toBe(400);
		const q = await t.app.inject({
			method: 'POST',
			url,
			headers: { authorization: `Bearer ${ADMIN}` },
			payload: { reason: 'Payment sandbox times out; JIRA-123', expiresAt: new Date(Date.now() + 86400_000).toISOString() }
		});
		expect(q.statusCode).toBe(201);
		const detail = (await get(`/api/v1/tests/${ids.flaky}`)).json();
		expect(detail.health.state).toBe('quarantined');
		expect(detail.quarantine).toMatchObject({ reason: 'Payment sandbox times out; JIRA-123', createdBy: 'admin (ADMIN_TOKEN)' });
		const list = (await get('/api/v1/quarantine', project.token)).json();
		expect(list.tests).toEqual([
			expect.objectContaining({ file: 'checkout.spec.ts', titlePath: ['checkout', 'flaky test'], projectName: 'chromium' })
		]);
		// The analysis keeps a quarantined test quarantined.
		await t.db.pool.query(`INSERT INTO analysis_jobs (project_id, test_ids) VALUES ($1, ARRAY[$2]::uuid[])`, [project.id, ids.flaky]);
		await drainAnalysisQueue(t.db.pool);
		expect((await get(`/api/v1/tests/${ids.flaky}`)).json().health.state).toBe('quarantined');

		expect((await t.app.inject({ method: 'DELETE', url, headers: { authorization: `Bearer ${ADMIN}` } })).statusCode).toBe(204);
		expect((await get(`/api/v1/tests/${ids.flaky}`)).json().health.state).toBe('flaky');
		expect((await get('/api/v1/quarantine', project.token)).json().tests).toEqual([]);
		expect((await t.app.inject({ method: 'DELETE', url, headers: { authorization: `Bearer ${ADMIN}` } })).statusCode).toBe(404);
	});
});
