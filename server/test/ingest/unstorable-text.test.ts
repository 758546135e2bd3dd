import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestResultInput } from 'flackyness-reporter/protocol';
import { BACKENDS } from '../helpers/db.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { ADMIN, counts, newProject } from '../helpers/ingest.js';
import { makeReport } from '../helpers/report-factory.js';

/** Half an emoji, as `'😀'.slice(0, 1)` leaves it: a lone high surrogate. */
const CUT_EMOJI = '😀'.slice(0, 1);
const LONE_LOW = '\udc00';
const R = '\uFFFD';

type Spec = { title: string; file?: string; tags?: string[]; tests: Array<{ projectName: string; annotations: unknown[]; tags?: string[] }> };
type Report = { suites: Array<{ title: string; file: string; suites: Array<{ title: string; specs: Spec[] }> }>; stats: { startTime: string } };

function result(i: number, over: Partial<TestResultInput> = {}): TestResultInput {
	return {
		file: `odd/text-${i}.spec.ts`,
		titlePath: ['odd text', `test ${i}`],
		projectName: 'chromium',
		tags: [],
		outcome: 'expected',
		expectedStatus: 'passed',
		status: 'passed',
		attempts: 1,
		failedAttempts: 0,
		durationMs: 10,
		startedAt: new Date(Date.UTC(2026, 10, 20, 10, 0, i)).toISOString(),
		annotations: [],
		...over
	};
}

describe.each(BACKENDS)('text PostgreSQL cannot store, on %s', (backend) => {
	let t: TestApp;
	let token: string;
	beforeAll(async () => {
		t = await buildTestApp(backend, { ADMIN_TOKEN: ADMIN });
		({ token } = await newProject(t, 'odd-text'));
	});
	afterAll(async () => t.close());

	const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
		t.app.inject({
			method: 'POST',
			url,
			headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
			// Serialised by hand: JSON.stringify writes a lone surrogate as the escape `\ud83d`.
			payload: typeof payload === 'string' ? payload : JSON.stringify(payload)
		});

	const storedTests = async (runId: string) =>
		(
			await t.db.pool.query(
				`SELECT t.file, t.title_path, t.project_name, t.tags, r.annotations, r.error_message
				 FROM test_results r JOIN tests t ON t.id = r.test_id WHERE r.run_id = $1 ORDER BY t.file`,
				[runId]
			)
		).rows;

	it('stores a streamed run whose titles, file, tags, project, annotations and errors hold lone surrogates and NUL', async () => {
		const opened = await post('/api/v1/runs', {
			idempotencyKey: `odd-stream-${backend}`,
			ci: { branch: `feature/${CUT_EMOJI}`, commitTitle: `fix ${LONE_LOW} and \u0000`, pipelineUrl: `https://ci.example.com/p/${CUT_EMOJI}\u0000` },
			playwrightVersion: '1.65.1'
		});
		expect(opened.statusCode).toBe(201);
		const runId = opened.json().runId;
		const batch = {
			results: [
				result(1, { titlePath: ['odd text', `cut ${CUT_EMOJI}`] }),
				result(2, {
					file: `odd/${LONE_LOW}.spec.ts`,
					projectName: `mobile ${CUT_EMOJI}`,
					tags: [`tag${CUT_EMOJI}`, 'nul\u0000tag'],
					annotations: [{ type: `issue${CUT_EMOJI}`, description: `see ${LONE_LOW}` }],
					outcome: 'unexpected',
					status: 'failed',
					failedAttempts: 1,
					error: { message: `Error: got ${CUT_EMOJI}\u0000`, stack: `at ${LONE_LOW}`, location: `odd/${CUT_EMOJI}.ts:1:1` }
				}),
				result(3, { titlePath: ['odd text', 'nul\u0000title'] })
			]
		};
		const stored = await post(`/api/v1/runs/${runId}/results`, batch);
		expect(stored.statusCode, stored.body).toBe(200);
		expect(stored.json()).toEqual({ accepted: 3, duplicates: 0 });
		// The reporter retries a batch it did not hear back from: the same identities, stored once.
		expect((await post(`/api/v1/runs/${runId}/results`, batch)).json()).toEqual({ accepted: 0, duplicates: 3 });
		const done = await post(`/api/v1/runs/${runId}/complete`, { status: 'failed', durationMs: 100 });
		expect(done.statusCode).toBe(200);
		expect(done.json()).toMatchObject({ status: 'failed', counts: { total: 3 } });

		const rows = await storedTests(runId);
		expect(rows.map((r) => r.title_path)).toEqual([
			['odd text', `cut ${R}`],
			['odd text', 'nul\uFFFDtitle'],
			['odd text', 'test 2']
		]);
		const odd = rows.find((r) => r.file === `odd/${R}.spec.ts`)!;
		expect(odd).toMatchObject({ project_name: `mobile ${R}`, tags: [`tag${R}`, `nul${R}tag`] });
		expect(odd.annotations).toEqual([{ type: `issue${R}`, description: `see ${R}` }]);
		expect(odd.error_message).toBe(`Error: got ${R}${R}`);
		const run = await t.db.pool.query(`SELECT branch, commit_title, pipeline_url, status FROM runs WHERE id = $1`, [runId]);
		expect(run.rows[0]).toEqual({ branch: `feature/${R}`, commit_title: `fix ${R} and ${R}`, pipeline_url: `https://ci.example.com/p/${R}${R}`, status: 'failed' });
	});

	it('stores a JSON report whose titles, file, tags, project and annotations hold lone surrogates and NUL', async () => {
		const report = makeReport({ tests: 2, projects: ['chromium'], perFile: 2, seed: 3 }) as unknown as Report;
		const file = report.suites[0]!;
		const spec = file.suites[0]!.specs[0]!;
		spec.title = `cut ${CUT_EMOJI} and nul\u0000`;
		spec.tags = [`@odd${LONE_LOW}`];
		spec.tests[0]!.projectName = `chromium ${CUT_EMOJI}`;
		spec.tests[0]!.annotations = [{ type: `t${CUT_EMOJI}`, description: `d${LONE_LOW}` }];
		file.suites[0]!.title = `describe ${LONE_LOW}`;
		const res = await post('/api/v1/reports', JSON.stringify(report), { 'x-flackyness-idempotency-key': `odd-report-${backend}` });
		expect(res.statusCode, res.body).toBe(201);
		expect(res.json().counts.total).toBe(2);
		const rows = await storedTests(res.json().runId);
		const odd = rows.find((r) => r.title_path.at(-1) === `cut ${R} and nul${R}`);
		expect(odd).toMatchObject({ project_name: `chromium ${R}`, tags: [`odd${R}`] });
		expect(odd!.title_path[0]).toBe(`describe ${R}`);
		expect(odd!.annotations).toEqual([{ type: `t${R}`, description: `d${R}` }]);
	});

	it.each([
		['report stats.startTime in year 0', 'report', (r: Report): void => void (r.stats.startTime = '0000-01-01T00:00:00Z'), /stats\.startTime/],
		['report stats.startTime in year 10000', 'report', (r: Report): void => void (r.stats.startTime = '+010000-01-01T00:00:00Z'), /stats\.startTime/],
		['report commitTimestamp in year 0', 'header', (): void => undefined, /metadata\.commitTimestamp/]
	] as const)('refuses %s with 400 naming the field, storing nothing', async (_name, where, mutate, message) => {
		const report = makeReport({ tests: 1, seed: 4 }) as unknown as Report;
		mutate(report);
		const headers: Record<string, string> = where === 'header' ? { 'x-flackyness-commit-timestamp': '0000-01-01T00:00:00Z' } : {};
		const before = await counts(t);
		const res = await post('/api/v1/reports', JSON.stringify(report), headers);
		expect(res.statusCode, res.body).toBe(400);
		expect(res.json().message).toMatch(message);
		expect(res.json().message).toMatch(/years 1 and 9999/);
		expect(await counts(t)).toEqual(before);
	});

	it.each([
		['/api/v1/runs', { startedAt: '0000-01-01T00:00:00Z' }, /body\.startedAt/],
		['/api/v1/runs', { startedAt: '0000-12-31T23:59:59-02:00' }, /body\.startedAt/],
		['/api/v1/runs', { ci: { commitTimestamp: '0000-01-01T00:00:00Z' } }, /body\.ci\.commitTimestamp/],
		['/api/v1/runs', { startedAt: '10000-01-01T00:00:00Z' }, /body\.startedAt/]
	])('refuses %s %j with 400 naming the field', async (url, payload, message) => {
		const before = await counts(t);
		const res = await post(url, payload);
		expect(res.statusCode, res.body).toBe(400);
		expect(res.json().message).toMatch(message);
		expect(await counts(t)).toEqual(before);
	});

	it('refuses a streamed result started in year 0 with 400 naming the field', async () => {
		const runId = (await post('/api/v1/runs', { idempotencyKey: `odd-dates-${backend}` })).json().runId;
		const before = await counts(t);
		const res = await post(`/api/v1/runs/${runId}/results`, { results: [result(1, { startedAt: '0000-01-01T00:00:00Z' })] });
		expect(res.statusCode).toBe(400);
		expect(res.json().message).toMatch(/body\.results\[0\]\.startedAt/);
		expect(await counts(t)).toEqual(before);
	});
});
