/**
 * Speed of the pipelines and durations reads: `pnpm --filter ./server bench:views`.
 *
 * Seeds the read benchmark's history (BENCH_TESTS × BENCH_RUNS results, default 10k × 100 = 1M, one
 * run per hour on the default branch) on real PostgreSQL, then times over HTTP p50 and p95 of
 * BENCH_REPEAT requests (after 2 warm-ups) to each endpoint.
 */
import { createDatabase } from '../src/db/database.js';
import { createPostgresDatabase } from '../test/helpers/db.js';
import { percentile } from '../test/helpers/load.js';
import { benchServer } from './bench-server.js';
import { seed } from './seed.js';

const TESTS = Number(process.env.BENCH_TESTS ?? 10_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 100);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 10);
const ADMIN = 'bench-admin-token-0123456789abcdef';

const t = await createPostgresDatabase();
const db = createDatabase({ url: t.url, embedded: false, poolSize: 10 });
try {
	const { server, base, headers, project } = await benchServer(db, ADMIN);
	const s = performance.now();
	const tests = await seed(db.pool, project.id, TESTS, RUNS);
	console.log(`seeded ${(TESTS * RUNS).toLocaleString('en')} results in ${((performance.now() - s) / 1000).toFixed(1)} s`);
	const paths: [string, string][] = [
		['pipelines, page 1', '/api/v1/projects/bench/pipelines'],
		['pipelines, failed only', '/api/v1/projects/bench/pipelines?outcome=failed'],
		['slowest tests, 14 days', '/api/v1/projects/bench/durations/slowest'],
		['slowest tests, 90 days, p95', '/api/v1/projects/bench/durations/slowest?days=90&sort=p95'],
		['became slower, 7 days', '/api/v1/projects/bench/durations/slower'],
		['one test’s daily trend, 90 days', `/api/v1/tests/${tests[0]!.id}/durations`],
		['critical path, latest pipeline', '/api/v1/projects/bench/durations/critical-path']
	];
	for (const [name, path] of paths) {
		const times: number[] = [];
		for (let i = 0; i < REPEAT + 2; i++) {
			const started = performance.now();
			const res = await fetch(`${base}${path}`, { headers });
			await res.text();
			if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
			if (i >= 2) times.push(performance.now() - started);
		}
		times.sort((a, b) => a - b);
		console.log(`${name.padEnd(34)} p50 ${percentile(times, 50).toFixed(0).padStart(6)} ms   p95 ${percentile(times, 95).toFixed(0).padStart(6)} ms`);
	}
	await server.close();
} finally {
	await db.close();
	await t.destroy();
}
