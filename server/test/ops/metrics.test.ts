import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drainAnalysisQueue } from '../../src/jobs/analysis.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { ADMIN, newProject } from '../helpers/ingest.js';
import { makeReport } from '../helpers/report-factory.js';

const run = promisify(execFile);

describe('GET /metrics', () => {
	let t: TestApp;
	beforeAll(async () => {
		// The queue is drained below, and only there: a worker of the app's own would hold a job
		// (locked, skipped by the drain) while the depth is read.
		t = await buildTestApp('postgres', { ADMIN_TOKEN: ADMIN, ANALYSIS_WORKER: 'false' });
		const p = await newProject(t, 'metrics');
		const res = await t.app.inject({
			method: 'POST',
			url: '/api/v1/reports',
			headers: { authorization: `Bearer ${p.token}`, 'content-type': 'application/json' },
			payload: JSON.stringify(makeReport({ tests: 25, failRate: 0.2, seed: 5 }))
		});
		expect(res.statusCode).toBe(201);
		await t.app.inject({ method: 'GET', url: '/api/v1/projects/metrics/stats', headers: { authorization: 'Bearer nope' } });
		await drainAnalysisQueue(t.db.pool);
	});
	afterAll(async () => t.close());

	it('exposes request, error, ingestion, queue and pool metrics that promtool accepts', async () => {
		const res = await t.app.inject({ method: 'GET', url: '/metrics' });
		expect(res.statusCode).toBe(200);
		expect(res.headers['content-type']).toMatch(/text\/plain/);
		const text = res.body;
		expect(text).toMatch(/flackyness_http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/reports",status_code="201"\} 1/);
		expect(text).toMatch(/flackyness_http_errors_total\{method="GET",route="\/api\/v1\/projects\/:id\/stats",status_code="401"\} 1/);
		expect(text).toMatch(/flackyness_ingested_runs_total\{source="json_upload",created="true"\} 1/);
		expect(text).toMatch(/flackyness_ingested_results_total\{source="json_upload"\} 25/);
		expect(text).toMatch(/flackyness_ingested_bytes_total\{encoding="identity"\} \d+/);
		expect(text).toMatch(/flackyness_analysis_queue_depth 0/);
		expect(text).toMatch(/flackyness_db_pool_connections\{state="total"\} \d+/);

		const child = execFile('promtool', ['check', 'metrics']);
		child.stdin!.end(text);
		const out = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
			let stderr = '';
			child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
			child.on('close', (code) => resolve({ code, stderr }));
		});
		expect(out.stderr).toBe('');
		expect(out.code).toBe(0);
	});

	it('is found by promtool on the PATH', async () => {
		const { stdout, stderr } = await run('promtool', ['--version']);
		expect(stdout + stderr).toMatch(/promtool, version \d+/);
	});
});

describe('GET /metrics with METRICS_TOKEN set', () => {
	const METRICS_TOKEN = 'metrics-scraper-secret-0123456789';
	let t: TestApp;
	beforeAll(async () => {
		t = await buildTestApp('postgres', { ADMIN_TOKEN: ADMIN, METRICS_TOKEN });
	});
	afterAll(async () => t.close());
	const scrape = (authorization?: string) =>
		t.app.inject({ method: 'GET', url: '/metrics', headers: authorization === undefined ? {} : { authorization } });

	it('answers 401 without the token, with another token or with the admin token', async () => {
		for (const authorization of [undefined, 'Bearer wrong-token-0123456789', `Bearer ${ADMIN}`, `Basic ${METRICS_TOKEN}`, `Bearer ${METRICS_TOKEN}x`]) {
			const res = await scrape(authorization);
			expect({ authorization, status: res.statusCode }).toEqual({ authorization, status: 401 });
			expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
			expect(res.body).not.toContain('flackyness_');
		}
	});

	it('answers the metrics to "Bearer <METRICS_TOKEN>", however the scheme is spelled', async () => {
		for (const authorization of [`Bearer ${METRICS_TOKEN}`, `bearer  ${METRICS_TOKEN}`]) {
			const res = await scrape(authorization);
			expect(res.statusCode).toBe(200);
			expect(res.body).toMatch(/flackyness_db_pool_connections\{state="total"\} \d+/);
		}
	});

	it('is refused at start when shorter than 16 characters', async () => {
		const { loadConfig } = await import('../../src/config.js');
		expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN: must be at least 16 characters/);
		expect(() => loadConfig({ METRICS_TOKEN: 'short' })).not.toThrow(/short"/);
	});
});
