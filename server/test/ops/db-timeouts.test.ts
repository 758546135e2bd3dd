/**
 * A database that does not answer never hangs the server: PostgreSQL frozen (every process of a
 * private cluster stopped with SIGSTOP, as a saturated host or a lost network does), a lock held by
 * someone else, and PGlite's single connection held. /health answers within its deadline, the API
 * answers 503 with Retry-After, and everything recovers once the database does.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import Fastify, { type FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import app from '../../src/app.js';
import { databaseTimeouts, loadConfig } from '../../src/config.js';
import { createDatabase, type Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';
import { applyRetention } from '../../src/db/partitions.js';
import { createPgliteDatabase, createPostgresDatabase, type TestDatabase } from '../helpers/db.js';
import { ADMIN } from '../helpers/ingest.js';
import { startPrivatePostgres, type PrivatePostgres } from '../helpers/private-postgres.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Timed {
	status: number;
	retryAfter: string | null;
	body: Record<string, unknown>;
	ms: number;
}

async function timed(url: string, token?: string): Promise<Timed> {
	const started = performance.now();
	const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(30_000) });
	const body = (await res.json()) as Record<string, unknown>;
	return { status: res.status, retryAfter: res.headers.get('retry-after'), body, ms: performance.now() - started };
}

/** The postmaster listening on `port` and every process it started (backends, checkpointer, ...). */
function clusterProcesses(port: number): number[] {
	const procs = readdirSync('/proc')
		.filter((d) => /^\d+$/.test(d))
		.map((d) => {
			try {
				const cmdline = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
				const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
				const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
				return { pid: Number(d), ppid, cmdline };
			} catch {
				return null;
			}
		})
		.filter((p) => p !== null);
	const postmaster = procs.find((p) => p.cmdline.some((a) => a.endsWith('/postgres')) && p.cmdline.join(' ').includes(`-p ${port}`));
	if (!postmaster) throw new Error(`no postmaster on port ${port}`);
	return [postmaster.pid, ...procs.filter((p) => p.ppid === postmaster.pid).map((p) => p.pid)];
}

describe('PostgreSQL frozen (SIGSTOP), against the built server', () => {
	let cluster: PrivatePostgres;
	let server: ServerProcess;
	let frozen: number[] = [];
	let projectToken: string;
	const STATEMENT_MS = 2_000;

	const thaw = () => {
		for (const pid of frozen) process.kill(pid, 'SIGCONT');
		frozen = [];
	};

	beforeAll(async () => {
		cluster = await startPrivatePostgres({ database: 'flackyness' });
		server = await startServer(
			{
				DATABASE_URL: cluster.url,
				ADMIN_TOKEN: ADMIN,
				DEMO: 'false',
				ANALYSIS_WORKER: 'false',
				DB_STATEMENT_TIMEOUT_MS: String(STATEMENT_MS),
				DB_CONNECT_TIMEOUT_MS: '2000',
				DB_POOL_SIZE: '4'
			},
			{ timeoutMs: 120_000 }
		);
		const created = await fetch(`${server.url}/api/v1/admin/projects`, {
			method: 'POST',
			headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
			body: JSON.stringify({ slug: 'frozen' })
		});
		expect(created.status).toBe(201);
		projectToken = ((await created.json()) as { token: string }).token;
	}, 180_000);
	afterAll(async () => {
		thaw();
		await server?.stop('SIGKILL');
		await cluster?.destroy();
	});

	it('keeps /health quick and the API answering 503 with Retry-After, then recovers', async () => {
		// Pooled connections open and idle: requests will reach a server that never answers.
		await Promise.all([1, 2, 3].map(() => timed(`${server.url}/api/v1/projects`, ADMIN)));
		expect((await timed(`${server.url}/health`)).status).toBe(200);

		frozen = clusterProcesses(cluster.port);
		for (const pid of frozen) process.kill(pid, 'SIGSTOP');
		try {
			const healths = await Promise.all([0, 1, 2, 3, 4].map(() => timed(`${server.url}/health`)));
			for (const h of healths) {
				expect(h.status).toBe(503);
				expect(h.ms).toBeLessThan(4_000);
				expect(h.body.database).toMatchObject({ reachable: false, embedded: false });
			}
			// A transaction (creating a project) on a pooled connection must not wait a second
			// deadline for its ROLLBACK.
			const started = performance.now();
			const created = await fetch(`${server.url}/api/v1/admin/projects`, {
				method: 'POST',
				headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
				body: JSON.stringify({ slug: 'during-freeze' }),
				signal: AbortSignal.timeout(30_000)
			});
			const inTransaction = { status: created.status, retryAfter: created.headers.get('retry-after'), ms: performance.now() - started };
			// The admin token authenticates without the database; a project token needs it too.
			const [asAdmin, asProject] = await Promise.all([
				timed(`${server.url}/api/v1/projects`, ADMIN),
				timed(`${server.url}/api/v1/projects`, projectToken)
			]);
			for (const answer of [asAdmin, asProject, inTransaction]) {
				expect(answer.status).toBe(503);
				expect(Number(answer.retryAfter)).toBeGreaterThan(0);
				expect(answer.ms, JSON.stringify(answer)).toBeLessThan(STATEMENT_MS + 2_000 + 3_000);
			}
			// Still frozen: a later /health is as quick as the first.
			const again = await timed(`${server.url}/health`);
			expect(again.status).toBe(503);
			expect(again.ms).toBeLessThan(4_000);
		} finally {
			thaw();
		}

		const deadline = Date.now() + 60_000;
		let health = await timed(`${server.url}/health`);
		while (health.status !== 200 && Date.now() < deadline) {
			await sleep(250);
			health = await timed(`${server.url}/health`);
		}
		expect(health.body).toMatchObject({ status: 'ok', database: { reachable: true } });
		expect((await timed(`${server.url}/api/v1/projects`, projectToken)).status).toBe(200);
		// The project whose transaction was cut off is not there, half or whole.
		expect((await timed(`${server.url}/api/v1/admin/projects/during-freeze`, ADMIN)).status).toBe(404);
		expect(server.output().stderr).not.toMatch(/request failed/);
	}, 120_000);
});

/** The app on its own pool with the configured timeouts, listening on a port. */
async function instance(url: string, embedded: boolean, env: Record<string, string>) {
	const config = loadConfig({ LOG_LEVEL: 'silent', DEMO: 'false', ANALYSIS_WORKER: 'false', ADMIN_TOKEN: ADMIN, ...env });
	const db = createDatabase({ url, embedded, poolSize: embedded ? 1 : 4, timeouts: databaseTimeouts(config) });
	await migrate(db.pool);
	const server = Fastify({ logger: false });
	await server.register(app, { config, db, version: 'test' });
	const base = await server.listen({ host: '127.0.0.1', port: 0 });
	return { server, db, base };
}

describe('a lock held by someone else (PostgreSQL)', () => {
	let t: TestDatabase;
	let i: { server: FastifyInstance; db: Database; base: string };
	let holder: pg.Client;
	beforeAll(async () => {
		t = await createPostgresDatabase();
		i = await instance(t.url, false, { DB_LOCK_TIMEOUT_MS: '500', DB_STATEMENT_TIMEOUT_MS: '1500' });
		holder = new pg.Client({ connectionString: t.url });
		await holder.connect();
	});
	afterAll(async () => {
		await holder?.end();
		await i?.server.close();
		await i?.db.close();
		await t?.destroy();
	});

	it('answers 503 with Retry-After when the lock timeout fires, and 200 once the lock is gone', async () => {
		await holder.query('BEGIN');
		await holder.query('LOCK TABLE projects IN ACCESS EXCLUSIVE MODE');
		const answer = await timed(`${i.base}/api/v1/projects`, ADMIN);
		await holder.query('ROLLBACK');
		expect(answer.status).toBe(503);
		expect(answer.retryAfter).toBe('5');
		expect(answer.body.message).toBe('The database did not answer in time; retry shortly.');
		// Bounded, not hung: the lock is held until the answer comes (the fetch gives up at 30 s).
		expect(answer.ms).toBeLessThan(15_000);
		expect((await timed(`${i.base}/api/v1/projects`, ADMIN)).status).toBe(200);
	});

	it('answers 503 when the statement timeout fires first', async () => {
		await i.server.close();
		await i.db.close();
		i = await instance(t.url, false, { DB_LOCK_TIMEOUT_MS: '0', DB_STATEMENT_TIMEOUT_MS: '700' });
		await holder.query('BEGIN');
		await holder.query('LOCK TABLE projects IN ACCESS EXCLUSIVE MODE');
		const answer = await timed(`${i.base}/api/v1/projects`, ADMIN);
		await holder.query('ROLLBACK');
		expect(answer.status).toBe(503);
		expect(answer.retryAfter).toBe('5');
		expect(answer.ms).toBeGreaterThanOrEqual(600);
		expect(answer.ms).toBeLessThan(15_000);
		expect((await timed(`${i.base}/api/v1/projects`, ADMIN)).status).toBe(200);
	});

	it('lets migrations wait for the migration lock longer than the lock timeout', async () => {
		const other = new pg.Client({ connectionString: t.url });
		await other.connect();
		try {
			// Prisma's migration lock, held by "another instance" for longer than DB_STATEMENT_TIMEOUT_MS.
			await other.query('SELECT pg_advisory_lock(72707369)');
			const migrating = migrate(i.db.pool);
			await sleep(2_000);
			await other.query('SELECT pg_advisory_unlock(72707369)');
			await expect(migrating).resolves.toMatchObject({ pending: [] });
		} finally {
			await other.end();
		}
		expect((await timed(`${i.base}/api/v1/projects`, ADMIN)).status).toBe(200);
	});
});

describe('PGlite: its single connection held', () => {
	let t: TestDatabase;
	let i: { server: FastifyInstance; db: Database; base: string };
	beforeAll(async () => {
		t = await createPgliteDatabase();
		i = await instance(t.url, true, { DB_CONNECT_TIMEOUT_MS: '1000' });
	});
	afterAll(async () => {
		await i?.server.close();
		await i?.db.close();
		await t?.destroy();
	});

	it('answers /health 503 within its deadline and the API 503 after the connection wait, then recovers', async () => {
		const held = await i.db.pool.connect();
		try {
			const [health, api] = await Promise.all([timed(`${i.base}/health`), timed(`${i.base}/api/v1/projects`, ADMIN)]);
			expect(health.status).toBe(503);
			// Bounded, not hung: the connection stays held until both answer (the fetch gives up at 30 s).
			expect(health.ms).toBeLessThan(15_000);
			expect(health.body.database).toMatchObject({ reachable: false, embedded: true });
			expect(api.status).toBe(503);
			expect(Number(api.retryAfter)).toBeGreaterThan(0);
			expect(api.ms).toBeLessThan(15_000);
		} finally {
			held.release();
		}
		expect((await timed(`${i.base}/health`)).status).toBe(200);
		expect((await timed(`${i.base}/api/v1/projects`, ADMIN)).status).toBe(200);
	});
});

describe('maintenance on a server whose statements must end within 100 ms (PostgreSQL)', () => {
	let t: TestDatabase;
	let i: { server: FastifyInstance; db: Database; base: string };
	let owner: pg.Client;
	beforeAll(async () => {
		t = await createPostgresDatabase();
		i = await instance(t.url, false, { DB_STATEMENT_TIMEOUT_MS: '100', DB_LOCK_TIMEOUT_MS: '100' });
		owner = new pg.Client({ connectionString: t.url });
		await owner.connect();
		// Deleting a result takes 300 ms, like deleting a big project's or month's results takes long.
		await owner.query(`CREATE FUNCTION slow_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.3); RETURN OLD; END $$`);
		for (const table of await partitionNames()) {
			await owner.query(`CREATE TRIGGER slow BEFORE DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION slow_delete()`);
		}
	});
	afterAll(async () => {
		await owner?.end();
		await i?.server.close();
		await i?.db.close();
		await t?.destroy();
	});

	const partitionNames = async () =>
		(await owner.query<{ name: string }>(`SELECT inhrelid::regclass::text AS name FROM pg_inherits WHERE inhparent = 'test_results'::regclass`)).rows.map((r) => r.name);
	const resultAt = (projectId: string, at: Date) =>
		owner.query(
			`INSERT INTO test_results (project_id, run_id, test_id, outcome, expected_status, status, started_at)
			 VALUES ($1, gen_random_uuid(), gen_random_uuid(), 'expected', 'passed', 'passed', $2)`,
			[projectId, at]
		);

	it('deletes a project whose results take longer than the statement timeout', async () => {
		const { rows } = await owner.query<{ id: string }>(`INSERT INTO projects (slug, name, updated_at) VALUES ('big', 'big', now()) RETURNING id`);
		const id = rows[0]!.id;
		await resultAt(id, new Date());
		// The same DELETE on a request's connection is cancelled: that is what the project delete escapes.
		await expect(i.db.pool.query('DELETE FROM test_results WHERE project_id = $1', [id])).rejects.toMatchObject({ code: '57014' });
		const res = await fetch(`${i.base}/api/v1/admin/projects/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN}` } });
		expect(res.status).toBe(204);
		expect((await owner.query('SELECT 1 FROM test_results WHERE project_id = $1', [id])).rowCount).toBe(0);
		expect((await timed(`${i.base}/api/v1/projects`, ADMIN)).status).toBe(200);
	});

	it('applies retention whose DELETE takes longer than the statement timeout', async () => {
		const old = new Date('2001-02-03T00:00:00Z');
		await resultAt(randomUUID(), old);
		await expect(applyRetention(i.db.pool, 30)).resolves.toMatchObject({ deletedFromDefault: 1 });
		expect((await owner.query('SELECT 1 FROM test_results WHERE started_at = $1', [old])).rowCount).toBe(0);
	});
});
