import { Writable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import app from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createDatabase, type Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';
import { createPostgresDatabase, type TestDatabase } from '../helpers/db.js';
import { freePort } from '../helpers/server-process.js';
import { ADMIN } from '../helpers/ingest.js';
import { makeReport } from '../helpers/report-factory.js';

/** One server instance as production runs it: its own pool, listening on its own port. */
async function instance(url: string, env: Record<string, string>, logs: string[]) {
	const db = createDatabase({ url, embedded: false, poolSize: 5 });
	const config = loadConfig({ LOG_LEVEL: 'info', DEMO: 'false', ADMIN_TOKEN: ADMIN, ...env });
	const stream = new Writable({
		write(chunk, _enc, cb) {
			logs.push(chunk.toString());
			cb();
		}
	});
	const server = Fastify({ logger: { level: 'info', stream } });
	await server.register(app, { config, db, version: 'test' });
	const base = await server.listen({ host: '127.0.0.1', port: 0 });
	return { server, db, base };
}

describe('several instances on one PostgreSQL and one Redis', () => {
	let t: TestDatabase;
	const instances: Array<{ server: FastifyInstance; db: Database; base: string }> = [];
	const logs: string[] = [];
	let token: string;
	beforeAll(async () => {
		t = await createPostgresDatabase();
		const db = createDatabase({ url: t.url, embedded: false, poolSize: 2 });
		await migrate(db.pool);
		await db.close();
		for (let i = 0; i < 2; i++) instances.push(await instance(t.url, { REDIS_URL: 'redis://127.0.0.1:6379' }, logs));
		const res = await fetch(`${instances[0]!.base}/api/v1/admin/projects`, {
			method: 'POST',
			headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
			body: JSON.stringify({ slug: 'shared' })
		});
		token = ((await res.json()) as { token: string }).token;
	});
	afterAll(async () => {
		for (const i of instances) {
			await i.server.close();
			await i.db.close();
		}
		await t.destroy();
	});

	const upload = (base: string, seed: number) =>
		fetch(`${base}/api/v1/reports`, {
			method: 'POST',
			headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
			body: JSON.stringify(makeReport({ tests: 2, seed, titlePrefix: `s${seed} ` }))
		});

	it('share one rate limit per token through Redis', async () => {
		const codes: number[] = [];
		for (let i = 0; i < 60; i++) codes.push((await upload(instances[i % 2]!.base, i)).status);
		expect(codes.every((c) => c === 201)).toBe(true);
		const a = await upload(instances[0]!.base, 100);
		const b = await upload(instances[1]!.base, 101);
		expect([a.status, b.status]).toEqual([429, 429]);
		expect(Number(b.headers.get('retry-after'))).toBeGreaterThan(0);
	});

	it('work one analysis queue together, each job once', async () => {
		const { rows } = await instances[0]!.db.pool.query(`SELECT count(*)::int AS n FROM runs`);
		expect(rows[0].n).toBe(60);
		const deadline = Date.now() + 60_000;
		for (;;) {
			const q = await instances[0]!.db.pool.query(`SELECT count(*)::int AS n FROM analysis_jobs`);
			if (q.rows[0].n === 0 || Date.now() > deadline) break;
			await new Promise((r) => setTimeout(r, 200));
		}
		const left = await instances[0]!.db.pool.query(`SELECT count(*)::int AS n FROM analysis_jobs`);
		expect(left.rows[0].n).toBe(0);
		const health = await instances[0]!.db.pool.query(`SELECT count(*)::int AS n FROM test_health`);
		expect(health.rows[0].n).toBe(120);
		const batches = logs.filter((l) => l.includes('"event":"analysis.batch"')).map((l) => JSON.parse(l) as { jobs: number });
		expect(batches.reduce((a, b) => a + b.jobs, 0)).toBe(60);
	});
});

describe('Redis down', () => {
	it('serves requests without limits and says so in the log', async () => {
		const t = await createPostgresDatabase();
		const db = createDatabase({ url: t.url, embedded: false, poolSize: 2 });
		await migrate(db.pool);
		await db.close();
		const logs: string[] = [];
		const port = await freePort();
		const i = await instance(t.url, { REDIS_URL: `redis://127.0.0.1:${port}`, RATE_LIMIT_ADMIN: '2' }, logs);
		try {
			const codes: number[] = [];
			for (let n = 0; n < 5; n++) {
				const started = performance.now();
				const res = await fetch(`${i.base}/api/v1/admin/health`, { headers: { authorization: `Bearer ${ADMIN}` } });
				codes.push(res.status);
				expect(performance.now() - started).toBeLessThan(5_000);
			}
			expect(codes).toEqual([200, 200, 200, 200, 200]);
			expect(logs.some((l) => l.includes('"event":"ratelimit.redis_down"'))).toBe(true);
		} finally {
			await i.server.close();
			await i.db.close();
			await t.destroy();
		}
	});
});
