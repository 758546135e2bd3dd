import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { BACKENDS } from '../helpers/db.js';
import { ADMIN, counts, newProject } from '../helpers/ingest.js';
import { makeReport } from '../helpers/report-factory.js';

const RETENTION_DAYS = 30;
const DAY = 86_400_000;
const daysAgo = (d: number) => new Date(Date.now() - d * DAY).toISOString();

function junit(timestamp: string): string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="suite" tests="1" failures="0" time="1.2">
  <testsuite name="cart.spec.ts" timestamp="${timestamp}" hostname="chromium" tests="1" failures="0" time="1.2">
    <testcase name="cart shows the total" classname="cart.spec.ts" time="1.2"></testcase>
  </testsuite>
</testsuites>`;
}

function result(startedAt: string) {
	return {
		file: 'cart.spec.ts',
		titlePath: ['cart', 'shows the total'],
		projectName: 'chromium',
		tags: [],
		outcome: 'expected',
		expectedStatus: 'passed',
		status: 'passed',
		attempts: 1,
		failedAttempts: 0,
		durationMs: 1200,
		startedAt,
		annotations: []
	};
}

describe.each(BACKENDS)('reports older than RETENTION_DAYS over HTTP on %s', (backend) => {
	let t: TestApp;
	let base = '';
	let token = '';

	beforeAll(async () => {
		t = await buildTestApp(backend, { ADMIN_TOKEN: ADMIN, RETENTION_DAYS: String(RETENTION_DAYS), RATE_LIMIT_RUNS: '1000' });
		base = await t.app.listen({ host: '127.0.0.1', port: 0 });
		token = (await newProject(t, 'old')).token;
	});
	afterAll(async () => t?.close());

	const post = async (path: string, body: string | FormData, headers: Record<string, string> = {}) => {
		const res = await fetch(`${base}/api/v1${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, ...headers }, body });
		return { status: res.status, body: (await res.json()) as { message?: string; runId?: string } };
	};
	const json = (path: string, payload: unknown) => post(path, JSON.stringify(payload), { 'content-type': 'application/json' });

	function expectRefusal(res: { status: number; body: { message?: string } }, startedAt: string) {
		expect(res.status).toBe(422);
		expect(res.body.message).toContain(`RETENTION_DAYS=${RETENTION_DAYS}`);
		expect(res.body.message).toContain(new Date(startedAt).toISOString());
	}

	it('refuses a Playwright JSON upload of an old run with 422, stores nothing, and takes a recent one', async () => {
		const before = await counts(t);
		const old = daysAgo(RETENTION_DAYS + 5);
		const refused = await post('/reports', JSON.stringify(makeReport({ tests: 5, startTime: old, seed: 1 })), { 'content-type': 'application/json', 'x-flackyness-branch': 'main' });
		expectRefusal(refused, old);
		expect(await counts(t)).toEqual(before);
		// Multipart carries the same report: the same answer.
		const form = new FormData();
		form.set('branch', 'main');
		form.set('report', new Blob([JSON.stringify(makeReport({ tests: 5, startTime: old, seed: 2 }))], { type: 'application/json' }), 'results.json');
		expectRefusal(await post('/reports', form), old);
		expect(await counts(t)).toEqual(before);

		const recent = await post('/reports', JSON.stringify(makeReport({ tests: 5, startTime: daysAgo(RETENTION_DAYS - 1), seed: 3 })), { 'content-type': 'application/json' });
		expect(recent.status).toBe(201);
		expect((await counts(t)).runs).toBe(before.runs + 1);
	});

	it('refuses a JUnit XML upload whose suite timestamp is too old', async () => {
		const before = await counts(t);
		const old = daysAgo(RETENTION_DAYS * 3);
		expectRefusal(await post('/reports', junit(old), { 'content-type': 'application/xml' }), old);
		expect(await counts(t)).toEqual(before);
		const recent = await post('/reports', junit(daysAgo(1)), { 'content-type': 'application/xml' });
		expect(recent.status).toBe(201);
	});

	it('refuses, in the streaming protocol, an old run and a batch holding an old result', async () => {
		const before = await counts(t);
		const old = daysAgo(RETENTION_DAYS + 1);
		const ci = { provider: 'gitlab', branch: 'main', pipelineId: '77', jobId: '901', jobName: 'e2e' };
		expectRefusal(await json('/runs', { ci, startedAt: old }), old);
		expect(await counts(t)).toEqual(before);

		const opened = await json('/runs', { ci: { ...ci, jobId: '902' }, startedAt: daysAgo(0) });
		expect(opened.status).toBe(201);
		const runId = opened.body.runId!;
		const refused = await json(`/runs/${runId}/results`, { results: [result(daysAgo(0)), result(old)] });
		expectRefusal(refused, old);
		expect((await counts(t)).results).toBe(before.results);
		const accepted = await json(`/runs/${runId}/results`, { results: [result(daysAgo(0))] });
		expect(accepted.status).toBe(200);
		expect((await counts(t)).results).toBe(before.results + 1);
	});
});
