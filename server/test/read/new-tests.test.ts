/**
 * POST /api/v1/tests/new on the real application: what `flackyness-reporter burn-in` asks before it
 * runs, answered from runs streamed in through the ingestion API on the default branch, on other
 * branches, and on runs that did not say which branch is the default.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CiMetadata, TestResultInput } from 'flackyness-reporter/protocol';
import { BACKENDS } from '../helpers/db.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { ADMIN, newProject } from '../helpers/ingest.js';

const test = (title: string) => ({ file: 'cart.spec.ts', titlePath: ['cart', title], projectName: 'chromium' });

function passed(title: string, at: Date): TestResultInput {
	return { ...test(title), outcome: 'expected', expectedStatus: 'passed', status: 'passed', attempts: 1, failedAttempts: 0, durationMs: 300, startedAt: at.toISOString() };
}

describe.each(BACKENDS)('new tests for burn-in on %s', (backend) => {
	let t: TestApp;
	let project: { id: string; token: string };
	let other: { id: string; token: string };
	let seq = 0;

	const ask = (body: unknown, token: string | null = project.token) =>
		t.app.inject({ method: 'POST', url: '/api/v1/tests/new', headers: token ? { authorization: `Bearer ${token}` } : {}, payload: body as object });

	/** One finished run of `titles` with this CI metadata. */
	async function runOf(token: string, ci: CiMetadata, titles: string[]): Promise<void> {
		const auth = { authorization: `Bearer ${token}` };
		const at = new Date(Date.now() - 3600_000 + ++seq * 1000);
		const opened = await t.app.inject({ method: 'POST', url: '/api/v1/runs', headers: auth, payload: { ci: { ...ci, jobId: `${9000 + seq}` }, startedAt: at.toISOString() } });
		expect(opened.statusCode).toBe(201);
		const { runId } = opened.json();
		const sent = await t.app.inject({ method: 'POST', url: `/api/v1/runs/${runId}/results`, headers: auth, payload: { results: titles.map((x) => passed(x, at)) } });
		expect(sent.statusCode).toBe(200);
		await t.app.inject({ method: 'POST', url: `/api/v1/runs/${runId}/complete`, headers: auth, payload: { status: 'passed' } });
	}

	beforeAll(async () => {
		t = await buildTestApp(backend, { ADMIN_TOKEN: ADMIN, ANALYSIS_WORKER: 'false', RATE_LIMIT_RUNS: '1000' });
		project = await newProject(t, 'shop');
		other = await newProject(t, 'other');
		const gitlab = { provider: 'gitlab' as const, pipelineId: '700', jobName: 'e2e' };
		// "old" ran on main, which the run said is the default branch; "feature" only on a merge request branch.
		await runOf(project.token, { ...gitlab, branch: 'main', defaultBranch: 'main' }, ['old', 'also old']);
		await runOf(project.token, { ...gitlab, branch: 'feat/lockers', defaultBranch: 'main', mrIid: 12 }, ['old', 'feature']);
		// Runs that did not say which branch is the default: counted by name (main or master, or the project's setting).
		await runOf(project.token, { branch: 'master' }, ['on master']);
		await runOf(project.token, { branch: 'develop' }, ['on develop']);
		// A run on "main" that said the default branch is another one is not on the default branch.
		await runOf(project.token, { branch: 'main', defaultBranch: 'trunk' }, ['main but not default']);
		// The other project ran "feature" on its default branch: that says nothing about this project.
		await runOf(other.token, { branch: 'main', defaultBranch: 'main' }, ['feature']);
	}, 120_000);
	afterAll(async () => t?.close());

	it('says for each test, in the order asked, whether the default branch has run it', async () => {
		const titles = ['feature', 'old', 'brand new', 'also old', 'on master', 'on develop', 'main but not default', 'old'];
		const res = await ask({ tests: titles.map(test) });
		expect(res.statusCode).toBe(200);
		const body = res.json();
		expect(body.defaultBranches).toEqual(['main', 'master']);
		expect(body.tests.map((x: { titlePath: string[]; isNew: boolean; seenOn: string }) => [x.titlePath[1], x.isNew, x.seenOn])).toEqual([
			['feature', true, 'other-branches'],
			['old', false, 'default-branch'],
			['brand new', true, 'never'],
			['also old', false, 'default-branch'],
			['on master', false, 'default-branch'],
			['on develop', true, 'other-branches'],
			['main but not default', true, 'other-branches'],
			['old', false, 'default-branch']
		]);
		expect(body.tests[0]).toMatchObject({ ...test('feature'), testId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
		expect(body.tests[2]).toEqual({ ...test('brand new'), testId: null, isNew: true, seenOn: 'never' });
	});

	it("follows the project's default branch setting for runs that did not name theirs", async () => {
		const set = await t.app.inject({
			method: 'PUT',
			url: `/api/v1/projects/${project.id}/settings`,
			headers: { authorization: `Bearer ${ADMIN}` },
			payload: { defaultBranch: 'develop' }
		});
		expect(set.statusCode).toBe(200);
		try {
			const res = await ask({ tests: ['on master', 'on develop', 'old'].map(test) });
			expect(res.json().defaultBranches).toEqual(['develop']);
			expect(res.json().tests.map((x: { isNew: boolean }) => x.isNew)).toEqual([true, false, false]);
		} finally {
			await t.db.pool.query(`UPDATE projects SET settings = '{}'::jsonb WHERE id = $1`, [project.id]);
		}
	});

	it('finds a test only under its own Playwright project and file', async () => {
		const res = await ask({ tests: [{ ...test('old'), projectName: 'webkit' }, { ...test('old'), file: 'other.spec.ts' }, { file: 'cart.spec.ts', titlePath: ['cart', 'old'] }] });
		expect(res.json().tests.map((x: { seenOn: string }) => x.seenOn)).toEqual(['never', 'never', 'never']);
	});

	it("keeps a project token to its own project's tests", async () => {
		const own = await ask({ tests: [test('feature'), test('old')] }, other.token);
		expect(own.statusCode).toBe(200);
		expect(own.json().tests.map((x: { seenOn: string }) => x.seenOn)).toEqual(['default-branch', 'never']);
		expect((await ask({ project: 'shop', tests: [test('old')] }, other.token)).statusCode).toBe(404);
		expect((await ask({ project: 'shop', tests: [test('old')] })).json().tests[0].isNew).toBe(false);
	});

	it('lets an admin ask about a named project, and only a named one', async () => {
		const unnamed = await ask({ tests: [test('old')] }, ADMIN);
		expect(unnamed.statusCode).toBe(400);
		expect(unnamed.json().message).toContain('body.project');
		expect((await ask({ project: project.id, tests: [test('old')] }, ADMIN)).json().tests[0].isNew).toBe(false);
		expect((await ask({ project: 'nope', tests: [test('old')] }, ADMIN)).statusCode).toBe(404);
		const anonymous = await ask({ tests: [test('old')] }, null);
		expect(anonymous.statusCode).toBe(401);
		expect(anonymous.body).not.toContain('default-branch');
	});

	it('answers 5000 tests at once and refuses malformed or oversized questions with a 400 that names the field', async () => {
		const many = await ask({ tests: Array.from({ length: 5000 }, (_, i) => test(i === 4999 ? 'old' : `generated ${i}`)) });
		expect(many.statusCode).toBe(200);
		expect(many.json().tests.filter((x: { isNew: boolean }) => !x.isNew)).toHaveLength(1);
		const cases: Array<[unknown, string]> = [
			[{ tests: [] }, 'tests'],
			[{ tests: Array.from({ length: 5001 }, () => test('old')) }, 'tests'],
			[{ tests: [{ file: 'cart.spec.ts', projectName: 'chromium' }] }, 'titlePath'],
			[{ tests: [{ ...test('old'), titlePath: [] }] }, 'titlePath'],
			[{ tests: [{ ...test('old'), file: '' }] }, 'file'],
			[{ tests: [{ ...test('old'), outcome: 'expected' }] }, 'outcome'],
			[{ tests: [test('old')], commit: 'abc' }, 'commit'],
			[{ project: '', tests: [test('old')] }, 'project'],
			[{}, 'tests']
		];
		for (const [body, field] of cases) {
			const res = await ask(body);
			expect(res.statusCode, JSON.stringify(body).slice(0, 80)).toBe(400);
			expect(res.json().message).toContain(field);
		}
		const text = await t.app.inject({ method: 'POST', url: '/api/v1/tests/new', headers: { authorization: `Bearer ${project.token}`, 'content-type': 'text/plain' }, payload: 'old' });
		expect([400, 415]).toContain(text.statusCode);
	});
});

describe('new tests: rate limit', () => {
	let t: TestApp;
	afterAll(async () => t?.close());

	it('counts the question among the reads of the caller and answers 429 past the limit', async () => {
		t = await buildTestApp('postgres', { ADMIN_TOKEN: ADMIN, ANALYSIS_WORKER: 'false', RATE_LIMIT_READS: '3' });
		const project = await newProject(t, 'limited');
		const ask = () =>
			t.app.inject({ method: 'POST', url: '/api/v1/tests/new', headers: { authorization: `Bearer ${project.token}` }, payload: { tests: [test('old')] } });
		for (let i = 0; i < 3; i++) expect((await ask()).statusCode).toBe(200);
		const refused = await ask();
		expect(refused.statusCode).toBe(429);
		expect(refused.headers['retry-after']).toBeDefined();
	});
});
