import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestResultInput } from 'flackyness-reporter/protocol';
import { BACKENDS } from '../helpers/db.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { ADMIN, counts, newProject } from '../helpers/ingest.js';

function result(i: number, over: Partial<TestResultInput> = {}): TestResultInput {
	return {
		file: `checkout/cart-${i % 5}.spec.ts`,
		titlePath: ['cart', `adds item ${i}`],
		projectName: i % 2 ? 'firefox' : 'chromium',
		tags: ['cart'],
		outcome: 'expected',
		expectedStatus: 'passed',
		status: 'passed',
		attempts: 1,
		failedAttempts: 0,
		durationMs: 120 + i,
		startedAt: new Date(Date.UTC(2026, 10, 20, 10, 0, i)).toISOString(),
		annotations: [],
		...over
	};
}

describe.each(BACKENDS)('streaming protocol on %s', (backend) => {
	let t: TestApp;
	let project: { id: string; token: string };
	beforeAll(async () => {
		t = await buildTestApp(backend, { ADMIN_TOKEN: ADMIN });
		project = await newProject(t, 'stream');
	});
	afterAll(async () => t.close());

	const post = (url: string, payload: unknown, token = project.token) =>
		t.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${token}` }, payload: payload as object });

	it('opens a run idempotently, stores resent batches once, completes it and queues analysis', async () => {
		const ci = { provider: 'gitlab', branch: 'main', commitSha: 'a1b2c3d4e5f6', pipelineId: '77', jobId: '7701', jobName: 'e2e 1/2', shardIndex: 1, shardTotal: 2 };
		const opened = await post('/api/v1/runs', { ci, playwrightVersion: '1.65.1' });
		expect(opened.statusCode).toBe(201);
		const runId = opened.json().runId;
		const reopened = await post('/api/v1/runs', { ci, playwrightVersion: '1.65.1' });
		expect(reopened.statusCode).toBe(200);
		expect(reopened.json().runId).toBe(runId);

		const batch = {
			results: [
				result(1),
				result(2, {
					outcome: 'flaky',
					status: 'passed',
					attempts: 2,
					failedAttempts: 1,
					error: { message: '\u001b[31mTimeout 5000ms exceeded\u001b[39m', stack: 'at cart.spec.ts:12:3', location: 'cart.spec.ts:12:3' }
				}),
				result(3, { outcome: 'unexpected', status: 'failed', failedAttempts: 1, error: { message: 'Error: boom' } })
			]
		};
		const first = await post(`/api/v1/runs/${runId}/results`, batch);
		expect(first.statusCode).toBe(200);
		expect(first.json()).toEqual({ accepted: 3, duplicates: 0 });
		const resent = await post(`/api/v1/runs/${runId}/results`, batch);
		expect(resent.json()).toEqual({ accepted: 0, duplicates: 3 });
		const more = await post(`/api/v1/runs/${runId}/results`, { results: [result(4), result(1)] });
		expect(more.json()).toEqual({ accepted: 1, duplicates: 1 });

		const done = await post(`/api/v1/runs/${runId}/complete`, { status: 'failed', durationMs: 4321 });
		expect(done.statusCode).toBe(200);
		expect(done.json()).toMatchObject({ runId, status: 'failed', counts: { total: 4, expected: 2, flaky: 1, unexpected: 1, skipped: 0 } });

		const stored = await t.db.pool.query(
			`SELECT r.error_message, r.error_fingerprint, r.attempts FROM test_results r WHERE r.run_id = $1 AND r.outcome = 'flaky'`,
			[runId]
		);
		expect(stored.rows[0].error_message).toBe('Timeout 5000ms exceeded');
		expect(stored.rows[0].error_fingerprint).toMatch(/^[0-9a-f]{16}$/);
		const run = await t.db.pool.query(`SELECT status, duration_ms, group_key, source FROM runs WHERE id = $1`, [runId]);
		expect(run.rows[0]).toEqual({ status: 'failed', duration_ms: 4321, group_key: 'gitlab:77:e2e', source: 'reporter' });
		const queued = await t.db.pool.query(`SELECT count(*)::int AS n FROM analysis_jobs WHERE run_id = $1`, [runId]);
		expect(queued.rows[0].n).toBe(1);
	});

	it('puts the shards of one pipeline job in one group', async () => {
		const ids: string[] = [];
		for (const [i, name] of ['e2e 1/2', 'e2e: [2/2]'].entries()) {
			const res = await post('/api/v1/runs', { ci: { pipelineId: '88', jobId: `880${i}`, jobName: name, shardIndex: i + 1, shardTotal: 2 } });
			ids.push(res.json().runId);
		}
		const { rows } = await t.db.pool.query(`SELECT DISTINCT group_key FROM runs WHERE id = ANY($1::uuid[])`, [ids]);
		expect(rows).toEqual([{ group_key: 'other:88:e2e' }]);
	});

	it('closes runs that went quiet as incomplete', async () => {
		const opened = await post('/api/v1/runs', { idempotencyKey: 'quiet-run-0001' });
		const runId = opened.json().runId;
		await post(`/api/v1/runs/${runId}/results`, { results: [result(9)] });
		await t.db.pool.query(`UPDATE runs SET last_activity_at = now() - interval '3 hours' WHERE id = $1`, [runId]);
		await t.app.sweepStaleRuns();
		const { rows } = await t.db.pool.query(`SELECT status, ended_at FROM runs WHERE id = $1`, [runId]);
		expect(rows[0].status).toBe('incomplete');
		expect(rows[0].ended_at).toBeInstanceOf(Date);
	});

	it('validates every request and stores nothing from a bad one', async () => {
		const opened = await post('/api/v1/runs', { idempotencyKey: 'validation-run-01' });
		const runId = opened.json().runId;
		const before = await counts(t);
		const cases: Array<[string, unknown, RegExp]> = [
			[`/api/v1/runs/${runId}/results`, { results: [result(1), { ...result(2), attempts: 'two' }] }, /body\.results\[1\]\.attempts/],
			[`/api/v1/runs/${runId}/results`, { results: Array.from({ length: 1001 }, (_, i) => result(i)) }, /body\.results/],
			[`/api/v1/runs/${runId}/results`, { results: [{ ...result(1), startedAt: '0000-01-01T00:00:00Z' }] }, /body\.results\[0\]\.startedAt/],
			[`/api/v1/runs/${runId}/results`, { results: [result(1)], extra: true }, /body/],
			[`/api/v1/runs/not-a-uuid/results`, { results: [result(1)] }, /params\.runId/],
			[`/api/v1/runs/${runId}/complete`, { status: 'exploded' }, /body\.status/],
			['/api/v1/runs', { ci: { shardIndex: 3, shardTotal: 2 } }, /shardIndex/],
			['/api/v1/runs', { ci: { pipelineUrl: 'javascript:alert(1)' } }, /pipelineUrl/]
		];
		for (const [url, payload, message] of cases) {
			const res = await post(url, payload);
			expect(res.statusCode, url).toBe(400);
			expect(res.json().message, url).toMatch(message);
		}
		expect(await counts(t)).toEqual(before);
	});

	it("does not let a project's token reach another project's run", async () => {
		const other = await newProject(t, `intruder-${backend}`);
		const opened = await post('/api/v1/runs', { idempotencyKey: 'private-run-0001' });
		const runId = opened.json().runId;
		const res = await post(`/api/v1/runs/${runId}/results`, { results: [result(1)] }, other.token);
		expect(res.statusCode).toBe(404);
		const done = await post(`/api/v1/runs/${runId}/complete`, { status: 'passed' }, other.token);
		expect(done.statusCode).toBe(404);
	});
});
