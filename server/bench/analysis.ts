/**
 * Analysis speed: `pnpm --filter ./server bench:analysis`.
 *
 *   1. seeds TESTS tests × RUNS runs of history on real PostgreSQL with COPY (5% flaky, 1% broken
 *      since a commit, the rest stable), as a default-branch history with a manual retry now and then;
 *   2. full recompute of every test (target: 10k × 300 under 60 s);
 *   3. one more 10k-test run uploaded through HTTP, then the time the queue takes to analyse it
 *      (target: under 2 s).
 * The baseline measured in the same run: a plain SELECT of the same history rows (the I/O floor).
 */
import Fastify from 'fastify';
import app from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createDatabase } from '../src/db/database.js';
import { migrate } from '../src/db/migrate.js';
import { drainAnalysisQueue, recompute } from '../src/jobs/analysis.js';
import { createPostgresDatabase } from '../test/helpers/db.js';
import { rng, seed, sha } from './seed.js';

const TESTS = Number(process.env.BENCH_TESTS ?? 10_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 300);
const ADMIN = 'bench-admin-token-0123456789abcdef';

const t = await createPostgresDatabase();
const db = createDatabase({ url: t.url, embedded: false, poolSize: 10 });
try {
	await migrate(db.pool);
	const config = loadConfig({ LOG_LEVEL: 'silent', DEMO: 'false', ADMIN_TOKEN: ADMIN, ANALYSIS_WORKER: 'false', BODY_LIMIT: '200mb', DECOMPRESSED_LIMIT: '400mb' });
	const server = Fastify({ logger: false, bodyLimit: config.BODY_LIMIT, pluginTimeout: 120_000 });
	await server.register(app, { config, db, version: 'bench' });
	const base = await server.listen({ host: '127.0.0.1', port: 0 });
	const created = await fetch(`${base}/api/v1/admin/projects`, {
		method: 'POST',
		headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
		body: JSON.stringify({ slug: 'bench' })
	});
	const { token, project } = (await created.json()) as { token: string; project: { id: string } };

	let s = performance.now();
	const tests = await seed(db.pool, project.id, TESTS, RUNS);
	console.log(`seeded ${TESTS.toLocaleString('en')} tests × ${RUNS} runs = ${(TESTS * RUNS).toLocaleString('en')} results in ${((performance.now() - s) / 1000).toFixed(1)} s`);

	s = performance.now();
	const floor = await db.pool.query(`SELECT count(*)::int AS n FROM (SELECT r.*, ru.commit_sha FROM test_results r JOIN runs ru ON ru.id = r.run_id WHERE r.project_id = $1) x`, [project.id]);
	const floorS = (performance.now() - s) / 1000;

	s = performance.now();
	const full = await recompute(db.pool, project.id);
	const fullS = (performance.now() - s) / 1000;
	const states = await db.pool.query(`SELECT state, count(*)::int AS n FROM test_health GROUP BY 1 ORDER BY 1`);
	if (process.env.BENCH_DEBUG) {
		console.log((await db.pool.query(`SELECT count(*) FILTER (WHERE infra_failure) AS infra, min(infra_reason) FROM runs`)).rows);
		console.log(JSON.stringify((await db.pool.query(`SELECT h.state, h.evidence->'reasons' AS r, h.evidence->'counts' AS c FROM test_health h JOIN tests t ON t.id = h.test_id WHERE t.title = 'test 1'`)).rows));
	}

	// One more run of every test through the real HTTP path, then its analysis.
	const at = new Date().toISOString();
	const random = rng(7);
	const results = tests.map((x) => {
		const flaky = x.kind === 'flaky' && random() < x.rate;
		const broken = x.kind === 'broken';
		return {
			file: x.file,
			titlePath: x.titlePath,
			projectName: x.projectName,
			outcome: broken ? 'unexpected' : flaky ? 'flaky' : 'expected',
			expectedStatus: 'passed',
			status: broken ? 'failed' : 'passed',
			attempts: broken || flaky ? 2 : 1,
			failedAttempts: broken ? 2 : flaky ? 1 : 0,
			durationMs: 800,
			startedAt: at,
			...(broken || flaky ? { error: { message: `Error: ${x.titlePath[1]} failed` } } : {})
		};
	});
	const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
	const opened = (await (await fetch(`${base}/api/v1/runs`, { method: 'POST', headers, body: JSON.stringify({ ci: { branch: 'main', defaultBranch: 'main', commitSha: sha(RUNS + 1), pipelineId: '99999', jobId: '99999' } }) })).json()) as { runId: string };
	for (let i = 0; i < results.length; i += 1000) {
		await fetch(`${base}/api/v1/runs/${opened.runId}/results`, { method: 'POST', headers, body: JSON.stringify({ results: results.slice(i, i + 1000) }) });
	}
	await fetch(`${base}/api/v1/runs/${opened.runId}/complete`, { method: 'POST', headers, body: JSON.stringify({ status: 'failed' }) });
	s = performance.now();
	const inc = await drainAnalysisQueue(db.pool);
	const incS = (performance.now() - s) / 1000;
	await server.close();

	console.log(`\nAnalysis on PostgreSQL (${TESTS.toLocaleString('en')} tests × ${RUNS} runs)`);
	console.log(`| measure | time | target |`);
	console.log(`|---|---|---|`);
	console.log(`| baseline: SELECT of the whole history (${floor.rows[0].n.toLocaleString('en')} rows) | ${floorS.toFixed(1)} s | — |`);
	console.log(`| full recompute (${full.tests.toLocaleString('en')} tests, ${full.runs} runs judged) | ${fullS.toFixed(1)} s | < 60 s |`);
	console.log(`| incremental after one ${TESTS.toLocaleString('en')}-test run (${inc.analysed} analysed in full, ${inc.fastPath} fast path) | ${incS.toFixed(2)} s | < 2 s |`);
	console.log(`verdicts: ${states.rows.map((r) => `${r.state} ${r.n}`).join(', ')}`);
} finally {
	await db.close();
	await t.destroy();
}
