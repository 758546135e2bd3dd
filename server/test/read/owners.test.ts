/**
 * Owners end to end through the server: results streamed with owners and JSON reports with owner
 * annotations set `tests.owners` (latest result that carried owners wins), and the read API lists,
 * filters and counts by owner.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestResultInput } from 'flackyness-reporter/protocol';
import { parsePlaywrightReport } from '../../src/ingest/playwright-json.js';
import { BACKENDS } from '../helpers/db.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { ADMIN, newProject } from '../helpers/ingest.js';

function result(title: string, at: string, owners?: string[]): TestResultInput {
	return {
		file: 'cart.spec.ts',
		titlePath: ['cart', title],
		projectName: 'chromium',
		outcome: 'expected',
		expectedStatus: 'passed',
		status: 'passed',
		attempts: 1,
		failedAttempts: 0,
		durationMs: 100,
		startedAt: at,
		...(owners ? { owners } : {})
	};
}

/** A one-spec Playwright JSON report whose test carries the given annotations and tags. */
function report(title: string, annotations: Array<{ type: string; description?: string }>, tags: string[] = []) {
	return {
		config: { version: '1.65.1', rootDir: '/builds/group/app/tests' },
		suites: [
			{
				title: 'upload.spec.ts',
				file: 'upload.spec.ts',
				specs: [
					{
						title,
						file: 'upload.spec.ts',
						line: 3,
						column: 5,
						tags,
						tests: [
							{
								projectName: 'chromium',
								expectedStatus: 'passed',
								annotations,
								tags: [],
								status: 'expected',
								results: [{ status: 'passed', duration: 12, startTime: '2026-11-20T10:00:00.000Z', retry: 0, errors: [] }]
							}
						]
					}
				]
			}
		],
		errors: [],
		stats: { startTime: '2026-11-20T10:00:00.000Z', duration: 50 }
	};
}

describe('owners in a Playwright JSON report', () => {
	it('come from owner annotations and @owner: tags only', () => {
		const parsed = parsePlaywrightReport(
			report(
				'named',
				[
					{ type: 'owner', description: '@checkout-team' },
					{ type: 'Owners', description: 'payments, jane@example.com' },
					{ type: 'issue', description: '@not-an-owner' }
				],
				['owner:qa-team', 'team-x']
			)
		);
		expect(parsed.results[0]!.owners).toEqual(['@checkout-team', '@payments', 'jane@example.com', '@qa-team']);
		expect(parsePlaywrightReport(report('none', [{ type: 'issue', description: '#12' }])).results[0]!.owners).toBeUndefined();
	});
});

describe.each(BACKENDS)('owners on %s', (backend) => {
	let t: TestApp;
	let project: { id: string; token: string };
	beforeAll(async () => {
		t = await buildTestApp(backend, { ADMIN_TOKEN: ADMIN, ANALYSIS_WORKER: 'false', RATE_LIMIT_RUNS: '1000' });
		project = await newProject(t, 'owned');
	}, 120_000);
	afterAll(async () => t?.close());

	const auth = () => ({ authorization: `Bearer ${project.token}` });
	const get = (url: string) => t.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${ADMIN}` } });
	async function stream(results: TestResultInput[], key: string) {
		const opened = await t.app.inject({ method: 'POST', url: '/api/v1/runs', headers: auth(), payload: { idempotencyKey: key } });
		expect(opened.statusCode).toBe(201);
		const runId = opened.json().runId as string;
		const sent = await t.app.inject({ method: 'POST', url: `/api/v1/runs/${runId}/results`, headers: auth(), payload: { results } });
		expect(sent.statusCode, sent.body).toBeLessThan(300);
		return runId;
	}
	async function ownersOf(title: string): Promise<string[]> {
		const { rows } = await t.db.pool.query<{ owners: string[] }>(`SELECT owners FROM tests WHERE project_id = $1 AND title = $2`, [project.id, title]);
		return rows[0]!.owners;
	}

	it('keeps the owners of the latest result that carried them', async () => {
		await stream(
			[result('first', '2026-11-20T10:00:00Z', ['@shop', '@qa']), result('second', '2026-11-20T10:00:00Z'), result('third', '2026-11-20T10:00:00Z', [])],
			'owners-run-1'
		);
		expect(await ownersOf('first')).toEqual(['@shop', '@qa']);
		expect(await ownersOf('second')).toEqual([]);
		expect(await ownersOf('third')).toEqual([]);

		// A newer result changes them; one without owners leaves them; a late, older one does not undo them.
		await stream([result('first', '2026-11-20T11:00:00Z', ['@checkout']), result('second', '2026-11-20T11:00:00Z', ['@shop'])], 'owners-run-2');
		await stream([result('first', '2026-11-20T12:00:00Z')], 'owners-run-3');
		await stream([result('first', '2026-11-20T09:00:00Z', ['@stale'])], 'owners-run-0');
		expect(await ownersOf('first')).toEqual(['@checkout']);
		expect(await ownersOf('second')).toEqual(['@shop']);

		// An empty list is an answer: the test has no owner any more.
		await stream([result('second', '2026-11-20T13:00:00Z', [])], 'owners-run-4');
		expect(await ownersOf('second')).toEqual([]);
	});

	it('takes owners from the annotations of an uploaded JSON report', async () => {
		const res = await t.app.inject({
			method: 'POST',
			url: '/api/v1/reports',
			headers: { ...auth(), 'content-type': 'application/json' },
			payload: report('uploaded', [{ type: 'owner', description: '@uploads' }])
		});
		expect(res.statusCode, res.body).toBe(201);
		expect(await ownersOf('uploaded')).toEqual(['@uploads']);
	});

	it('refuses owners that are not owner names, or too many', async () => {
		const opened = await t.app.inject({ method: 'POST', url: '/api/v1/runs', headers: auth(), payload: { idempotencyKey: 'owners-bad' } });
		const url = `/api/v1/runs/${opened.json().runId}/results`;
		for (const owners of [['two words'], Array.from({ length: 21 }, (_, i) => `@o${i}`), ['@' + 'x'.repeat(255)], ['']]) {
			const res = await t.app.inject({ method: 'POST', url, headers: auth(), payload: { results: [result('bad', '2026-11-20T10:00:00Z', owners)] } });
			expect(res.statusCode, JSON.stringify(owners)).toBe(400);
			expect(res.json().message).toMatch(/owners/);
		}
	});

	it('lists owners with counts, filters the flaky list by owner, and shows owners on a test', async () => {
		// Verdicts as the analysis would leave them: the counting and filtering are what is tested here.
		await t.db.pool.query(
			`INSERT INTO test_health (test_id, project_id, state)
			 SELECT id, project_id, (CASE title WHEN 'first' THEN 'flaky' WHEN 'uploaded' THEN 'broken' ELSE 'healthy' END)::health_state
			 FROM tests WHERE project_id = $1`,
			[project.id]
		);
		await stream([result('second', '2026-11-20T14:00:00Z', ['@checkout', '@shop'])], 'owners-run-5');

		const listed = await get(`/api/v1/projects/owned/owners`);
		expect(listed.statusCode, listed.body).toBe(200);
		expect(listed.json()).toEqual({
			owners: [
				{ owner: '@checkout', tests: 2, flaky: 1, broken: 0 },
				{ owner: '@uploads', tests: 1, flaky: 0, broken: 1 },
				{ owner: '@shop', tests: 1, flaky: 0, broken: 0 }
			],
			unowned: 1
		});

		const all = 'state=healthy,flaky,broken,suspect,fixed,quarantined';
		const mine = await get(`/api/v1/projects/owned/flaky-tests?${all}&owner=${encodeURIComponent('@checkout')}&sort=name&order=asc`);
		expect(mine.statusCode, mine.body).toBe(200);
		expect(mine.json().items.map((r: { title: string; owners: string[] }) => [r.title, r.owners])).toEqual([
			['first', ['@checkout']],
			['second', ['@checkout', '@shop']]
		]);
		expect(mine.json().total).toBe(2);
		const flakyOnly = await get(`/api/v1/projects/owned/flaky-tests?state=flaky&owner=${encodeURIComponent('@checkout')}`);
		expect(flakyOnly.json().items.map((r: { title: string }) => r.title)).toEqual(['first']);
		const nobody = await get(`/api/v1/projects/owned/flaky-tests?${all}&owner=${encodeURIComponent('@nobody')}`);
		expect(nobody.json()).toMatchObject({ items: [], total: 0 });

		const tooLong = await get(`/api/v1/projects/owned/flaky-tests?owner=${'x'.repeat(256)}`);
		expect(tooLong.statusCode).toBe(400);
		expect(tooLong.json().message).toMatch(/owner/);
		expect((await get(`/api/v1/projects/owned/owners?page=2`)).statusCode).toBe(400);
		expect((await get(`/api/v1/projects/nope/owners`)).statusCode).toBe(404);

		const { rows } = await t.db.pool.query<{ id: string }>(`SELECT id FROM tests WHERE project_id = $1 AND title = 'second'`, [project.id]);
		const detail = await get(`/api/v1/tests/${rows[0]!.id}`);
		expect(detail.json().owners).toEqual(['@checkout', '@shop']);
	});

	it('keeps a project token to its own project’s owners', async () => {
		const other = await newProject(t, 'other-owners');
		const res = await t.app.inject({ method: 'GET', url: '/api/v1/projects/owned/owners', headers: { authorization: `Bearer ${other.token}` } });
		expect(res.statusCode).toBe(404);
		const own = await t.app.inject({ method: 'GET', url: '/api/v1/projects/other-owners/owners', headers: { authorization: `Bearer ${other.token}` } });
		expect(own.json()).toEqual({ owners: [], unowned: 0 });
	});
});
