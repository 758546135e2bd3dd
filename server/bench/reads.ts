/**
 * Read speed: `pnpm --filter ./server bench:reads`.
 *
 * Seeds TESTS × RUNS results (default 10k × 100 = 1M) on real PostgreSQL, analyses them, then
 * times every read API call the dashboard makes, over HTTP, p50 and p95 of REPEAT calls each
 * (target: p95 under 100 ms). With DASHBOARD=1 and a built dashboard, also every dashboard page's
 * server-side load, signed in (target: p95 under 300 ms). Baseline measured in the same run:
 * `GET /health` (the HTTP floor).
 */
import Fastify from 'fastify';
import app from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createDatabase } from '../src/db/database.js';
import { migrate } from '../src/db/migrate.js';
import { recompute } from '../src/jobs/analysis.js';
import { createPostgresDatabase } from '../test/helpers/db.js';
import { seed } from './seed.js';

const TESTS = Number(process.env.BENCH_TESTS ?? 10_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 100);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 30);
const ADMIN = 'bench-admin-token-0123456789abcdef';

const pct = (xs: number[], p: number) => {
	const s = [...xs].sort((a, b) => a - b);
	return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

const t = await createPostgresDatabase();
const db = createDatabase({ url: t.url, embedded: false, poolSize: 10 });
try {
	await migrate(db.pool);
	const config = loadConfig({ LOG_LEVEL: 'silent', DEMO: 'false', ADMIN_TOKEN: ADMIN, ANALYSIS_WORKER: 'false', RATE_LIMIT_READS: '1000000' });
	const server = Fastify({ logger: false, pluginTimeout: 120_000 });
	await server.register(app, { config, db, version: 'bench' });
	const base = await server.listen({ host: '127.0.0.1', port: 0 });
	const headers = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
	const created = await fetch(`${base}/api/v1/admin/projects`, { method: 'POST', headers, body: JSON.stringify({ slug: 'bench' }) });
	const { project } = (await created.json()) as { project: { id: string } };

	let s = performance.now();
	await seed(db.pool, project.id, TESTS, RUNS);
	console.log(`seeded ${(TESTS * RUNS).toLocaleString('en')} results in ${((performance.now() - s) / 1000).toFixed(1)} s`);
	s = performance.now();
	await recompute(db.pool, project.id);
	await db.pool.query('ANALYZE');
	console.log(`analysed in ${((performance.now() - s) / 1000).toFixed(1)} s`);

	const flaky = (await (await fetch(`${base}/api/v1/projects/bench/flaky-tests?pageSize=1`, { headers })).json()) as { items: Array<{ testId: string }> };
	const testId = flaky.items[0]!.testId;
	const runs = (await (await fetch(`${base}/api/v1/projects/bench/runs?pageSize=1`, { headers })).json()) as { items: Array<{ id: string }> };
	const runId = runs.items[0]!.id;

	const calls: Array<[string, string]> = [
		['baseline: /health', '/health'],
		['projects', '/api/v1/projects'],
		['stats (30 days)', '/api/v1/projects/bench/stats?days=30'],
		['stats (365 days)', '/api/v1/projects/bench/stats?days=365'],
		['flaky tests, by impact', '/api/v1/projects/bench/flaky-tests'],
		['flaky tests, search', '/api/v1/projects/bench/flaky-tests?q=area%201&sort=score'],
		['flaky tests, branch filter', '/api/v1/projects/bench/flaky-tests?branch=main&state=flaky,broken'],
		['flaky tests, healthy, page 50', '/api/v1/projects/bench/flaky-tests?state=healthy&sort=name&page=50'],
		['facets', '/api/v1/projects/bench/facets'],
		['test detail', `/api/v1/tests/${testId}`],
		['test history', `/api/v1/tests/${testId}/history?limit=100`],
		['runs', '/api/v1/projects/bench/runs'],
		['run detail', `/api/v1/runs/${runId}`],
		['error clusters', '/api/v1/projects/bench/errors?days=30']
	];
	const rows: string[][] = [];
	for (const [name, url] of calls) {
		const times: number[] = [];
		for (let i = 0; i < REPEAT + 3; i++) {
			const started = performance.now();
			const res = await fetch(`${base}${url}`, { headers });
			await res.arrayBuffer();
			if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
			if (i >= 3) times.push(performance.now() - started);
		}
		rows.push([name, `${pct(times, 50).toFixed(1)} ms`, `${pct(times, 95).toFixed(1)} ms`]);
	}
	await server.close();
	console.log(`\nRead API on PostgreSQL, ${(TESTS * RUNS).toLocaleString('en')} results (${TESTS.toLocaleString('en')} tests × ${RUNS} runs), ${REPEAT} calls each`);
	console.log('| call | p50 | p95 (target < 100 ms) |');
	console.log('|---|---|---|');
	for (const r of rows) console.log(`| ${r.join(' | ')} |`);
} finally {
	await db.close();
	await t.destroy();
}
