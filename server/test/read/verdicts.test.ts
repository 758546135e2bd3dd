/**
 * POST /api/v1/verdicts on the real application: what the reporter's `failOn: 'new'` asks at the
 * end of a run, answered from a history streamed in through the ingestion API and analysed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestResultInput } from 'flackyness-reporter/protocol';
import { drainAnalysisQueue } from '../../src/jobs/analysis.js';
import { BACKENDS } from '../helpers/db.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { ADMIN, newProject } from '../helpers/ingest.js';

type Kind = 'stable' | 'flaky' | 'regression' | 'parked';
const KINDS: Kind[] = ['stable', 'flaky', 'regression', 'parked'];
const COMMITS = 24;
const BREAKS_AT = 14;

const identity = (kind: Kind) => ({ file: 'cart.spec.ts', titlePath: ['cart', `${kind} test`], projectName: 'chromium' });

/** "flaky" passes only on retry now and then; "regression" fails every attempt from commit 14 on. */
function resultFor(kind: Kind, commit: number, at: Date): TestResultInput {
	const base = { ...identity(kind), tags: [], expectedStatus: 'passed' as const, durationMs: 900, startedAt: at.toISOString(), annotations: [] };
	if (kind === 'flaky' && commit % 4 === 1) {
		return { ...base, outcome: 'flaky', status: 'passed', attempts: 2, failedAttempts: 1, error: { message: 'Timeout 5000ms exceeded' } };
	}
	if (kind === 'regression' && commit >= BREAKS_AT) {
		return { ...base, outcome: 'unexpected', status: 'failed', attempts: 2, failedAttempts: 2, error: { message: 'expected 3 items, got 2' } };
	}
	return { ...base, outcome: 'expected', status: 'passed', attempts: 1, failedAttempts: 0 };
}

const sha = (i: number) => (0xfee0000 + i).toString(16).padStart(40, '0');

describe.each(BACKENDS)('verdicts for the reporter on %s', (backend) => {
	let t: TestApp;
	let project: { id: string; token: string };
	let other: { id: string; token: string };

	const ask = (body: unknown, token: string | null = project.token) =>
		t.app.inject({ method: 'POST', url: '/api/v1/verdicts', headers: token ? { authorization: `Bearer ${token}` } : {}, payload: body as object });

	beforeAll(async () => {
		t = await buildTestApp(backend, { ADMIN_TOKEN: ADMIN, ANALYSIS_WORKER: 'false', RATE_LIMIT_RUNS: '1000' });
		project = await newProject(t, 'shop');
		other = await newProject(t, 'other');
		const auth = { authorization: `Bearer ${project.token}` };
		const start = Date.now() - COMMITS * 3600_000;
		for (let c = 0; c < COMMITS; c++) {
			const at = new Date(start + c * 3600_000);
			const ci = { provider: 'gitlab' as const, branch: 'main', defaultBranch: 'main', commitSha: sha(c), pipelineId: `${700 + c}`, jobId: `${9000 + c}`, jobName: 'e2e' };
			const runId = (await t.app.inject({ method: 'POST', url: '/api/v1/runs', headers: auth, payload: { ci, startedAt: at.toISOString() } })).json().runId;
			const results = KINDS.map((k) => resultFor(k, c, at));
			await t.app.inject({ method: 'POST', url: `/api/v1/runs/${runId}/results`, headers: auth, payload: { results } });
			await t.app.inject({ method: 'POST', url: `/api/v1/runs/${runId}/complete`, headers: auth, payload: { status: c >= BREAKS_AT ? 'failed' : 'passed' } });
		}
		await drainAnalysisQueue(t.db.pool);
		const { rows } = await t.db.pool.query(`SELECT id FROM tests WHERE project_id = $1 AND title = 'parked test'`, [project.id]);
		const parked = await t.app.inject({
			method: 'POST',
			url: `/api/v1/tests/${rows[0].id}/quarantine`,
			headers: { authorization: `Bearer ${ADMIN}` },
			payload: { reason: 'waits for the new checkout', expiresAt: '2099-01-01T00:00:00.000Z' }
		});
		expect(parked.statusCode).toBe(201);
	}, 240_000);
	afterAll(async () => t?.close());

	it('answers each test its verdict, in the order asked, with the estimate, the breaking commit and the quarantine', async () => {
		const res = await ask({ tests: [...KINDS.map(identity), { file: 'cart.spec.ts', titlePath: ['cart', 'brand new test'], projectName: 'chromium' }] });
		expect(res.statusCode).toBe(200);
		const [stable, flaky, regression, parked, unseen] = res.json().verdicts;
		expect(stable).toMatchObject({ ...identity('stable'), state: 'healthy', failureChance: null, brokenSince: null, quarantine: null });
		expect(stable.testId).toMatch(/^[0-9a-f-]{36}$/);
		expect(flaky).toMatchObject({ ...identity('flaky'), state: 'flaky', brokenSince: null, quarantine: null });
		expect(flaky.failureChance.low).toBeLessThanOrEqual(flaky.failureChance.estimate);
		expect(flaky.failureChance.high).toBeGreaterThanOrEqual(flaky.failureChance.estimate);
		expect(flaky.failureChance.estimate).toBeGreaterThan(0);
		expect(regression).toMatchObject({ state: 'broken', failureChance: null, brokenSince: { commitSha: sha(BREAKS_AT) } });
		expect(Date.parse(regression.brokenSince.at)).not.toBeNaN();
		expect(parked).toMatchObject({ state: 'quarantined', quarantine: { reason: 'waits for the new checkout', until: '2099-01-01T00:00:00.000Z' } });
		expect(unseen).toEqual({ file: 'cart.spec.ts', titlePath: ['cart', 'brand new test'], projectName: 'chromium', testId: null, state: 'unknown', failureChance: null, brokenSince: null, quarantine: null });
	});

	it('finds a test only under its own Playwright project', async () => {
		const res = await ask({ tests: [{ ...identity('flaky'), projectName: 'webkit' }, { file: 'cart.spec.ts', titlePath: ['cart', 'flaky test'] }] });
		expect(res.json().verdicts.map((v: { state: string }) => v.state)).toEqual(['unknown', 'unknown']);
	});

	it("keeps a project token to its own project's tests", async () => {
		const res = await ask({ tests: [identity('flaky')] }, other.token);
		expect(res.statusCode).toBe(200);
		expect(res.json().verdicts[0]).toMatchObject({ state: 'unknown', testId: null });
		expect((await ask({ project: 'shop', tests: [identity('flaky')] }, other.token)).statusCode).toBe(404);
		expect((await ask({ project: 'shop', tests: [identity('flaky')] })).json().verdicts[0].state).toBe('flaky');
	});

	it('lets an admin ask about a named project, and only a named one', async () => {
		const unnamed = await ask({ tests: [identity('flaky')] }, ADMIN);
		expect(unnamed.statusCode).toBe(400);
		expect(unnamed.json().message).toContain('body.project');
		expect((await ask({ project: 'shop', tests: [identity('flaky')] }, ADMIN)).json().verdicts[0].state).toBe('flaky');
		expect((await ask({ project: 'nope', tests: [identity('flaky')] }, ADMIN)).statusCode).toBe(404);
		expect((await ask({ tests: [identity('flaky')] }, null)).statusCode).toBe(401);
	});

	it('refuses malformed or oversized questions with a 400 that names the field', async () => {
		const cases: Array<[unknown, string]> = [
			[{ tests: [] }, 'tests'],
			[{ tests: Array.from({ length: 5001 }, () => identity('stable')) }, 'tests'],
			[{ tests: [{ file: 'cart.spec.ts', projectName: 'chromium' }] }, 'titlePath'],
			[{ tests: [{ ...identity('stable'), file: '' }] }, 'file'],
			[{ tests: [{ ...identity('stable'), colour: 'red' }] }, 'colour'],
			[{ tests: [identity('stable')], extra: 1 }, 'extra'],
			[{}, 'tests']
		];
		for (const [body, field] of cases) {
			const res = await ask(body);
			expect(res.statusCode, JSON.stringify(body).slice(0, 80)).toBe(400);
			expect(res.json().message).toContain(field);
		}
	});
});
