import { appendFile, cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_MIGRATIONS_DIR, readMigrations } from '../../src/db/migrate.js';
import { createPostgresDatabase } from '../helpers/db.js';
import { makeReport } from '../helpers/report-factory.js';
import { failedStart, freePort, startServer, type ServerProcess } from '../helpers/server-process.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
	while (cleanups.length) await cleanups.pop()!();
});

async function tempDir(prefix: string) {
	const dir = await mkdtemp(path.join(tmpdir(), prefix));
	cleanups.push(() => rm(dir, { recursive: true, force: true }));
	return dir;
}

function track(s: ServerProcess) {
	cleanups.push(() => s.stop('SIGKILL'));
	return s;
}

describe('starting the server', () => {
	it('stops with one message listing every configuration problem, without a stack trace', async () => {
		const res = await failedStart({ PORT: 'abc', DATABASE_URL: 'nonsense', LOG_LEVEL: 'loud' });
		expect(res.code).toBe(1);
		expect(res.stderr).toContain('Invalid configuration:');
		expect(res.stderr).toMatch(/PORT: must be a number \(got "abc"\)/);
		expect(res.stderr).toMatch(/DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL/);
		expect(res.stderr).toMatch(/LOG_LEVEL: /);
		expect(res.stderr).not.toContain('nonsense');
		expect(res.stderr).not.toMatch(/\n\s+at /);
	});

	it('says clearly when PostgreSQL cannot be reached', async () => {
		const port = await freePort();
		const res = await failedStart({ DATABASE_URL: `postgresql://postgres@127.0.0.1:${port}/nowhere` });
		expect(res.code).toBe(1);
		expect(res.stderr).toContain(`cannot connect to the database (PostgreSQL at 127.0.0.1:${port}/nowhere)`);
		expect(res.stderr).not.toMatch(/\n\s+at /);
	});

	it('runs on the embedded database, prints the first-start tokens once, and keeps its data across a restart', async () => {
		const cwd = await tempDir('fk-embedded-');
		const first = track(await startServer({}, { cwd }));
		const health = await fetch(`${first.url}/health`);
		expect(health.status).toBe(200);
		const body = (await health.json()) as { status: string; database: { embedded: boolean }; migrations: { pending: string[] } };
		expect(body).toMatchObject({ status: 'ok', database: { reachable: true, embedded: true }, migrations: { pending: [] } });
		const out = first.output().stdout;
		const admin = /Admin token[^\n]*\n\s+(flk_a_\S+)/.exec(out)?.[1];
		const demo = /Demo project "demo" ingestion token[^\n]*\n\s+(flk_p_\S+)/.exec(out)?.[1];
		expect(admin).toBeDefined();
		expect(demo).toBeDefined();
		expect(out).toContain(`curl -sS --fail-with-body -X POST '${first.url}/api/v1/reports'`);
		expect(await first.stop('SIGTERM')).toBe(0);

		const dbPort = await freePort();
		const second = track(await startServer({ EMBEDDED_DB_PORT: String(dbPort) }, { cwd }));
		expect(second.output().stdout).not.toContain('first start');
		// The embedded database is reachable over the wire protocol, as Prisma Studio reaches it.
		const client = new pg.Client({ connectionString: `postgresql://postgres@127.0.0.1:${dbPort}/postgres?sslmode=disable` });
		await client.connect();
		const { rows } = await client.query(`SELECT slug, is_demo FROM projects`);
		const tokens = await client.query(`SELECT token_hash FROM api_tokens`);
		await client.end();
		expect(rows).toEqual([{ slug: 'demo', is_demo: true }]);
		expect(tokens.rows).toHaveLength(2);
		// Only hashes are stored.
		for (const r of tokens.rows) expect([admin, demo]).not.toContain(r.token_hash);
		expect((await fetch(`${second.url}/health`)).status).toBe(200);
		expect(await second.stop('SIGINT')).toBe(0);
	});

	it('fills the demo project with a simulated history and its verdicts on the first start', async () => {
		const t = await createPostgresDatabase();
		cleanups.push(() => t.destroy());
		const admin = 'demo-admin-token-0123456789abcdefgh';
		const s = track(await startServer({ DATABASE_URL: t.url, ADMIN_TOKEN: admin }));
		const deadline = Date.now() + 120_000;
		while (!s.output().stdout.includes('demo project ready') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
		expect(s.output().stdout).toMatch(/demo project ready: \d+ runs/);
		const res = await fetch(`${s.url}/api/v1/projects/demo/flaky-tests?state=flaky&pageSize=100`, { headers: { authorization: `Bearer ${admin}` } });
		const body = (await res.json()) as { total: number; items: Array<{ state: string; score: number }> };
		expect(body.total).toBeGreaterThan(5);
		expect(body.items.every((i) => i.state === 'flaky' && i.score > 0)).toBe(true);
		const runs = (await (await fetch(`${s.url}/api/v1/projects/demo/runs?pageSize=1`, { headers: { authorization: `Bearer ${admin}` } })).json()) as { total: number };
		expect(runs.total).toBeGreaterThan(100);
	});

	it('takes ADMIN_TOKEN from the environment instead of creating one', async () => {
		const cwd = await tempDir('fk-admintoken-');
		const s = track(await startServer({ ADMIN_TOKEN: 'a-very-long-admin-token-for-tests-123', DEMO: 'false' }, { cwd }));
		expect(s.output().stdout).not.toContain('Admin token');
		expect(s.output().stdout).not.toContain('a-very-long-admin-token-for-tests-123');
		expect(await s.stop()).toBe(0);
	});

	it('reads a .env in its working folder, where the environment wins', async () => {
		const cwd = await tempDir('fk-dotenv-');
		const fileToken = 'a-very-long-admin-token-from-the-env-file';
		await appendFile(path.join(cwd, '.env'), `ADMIN_TOKEN=${fileToken}\nDEMO=false\nPORT=1\n`);
		const port = await freePort();
		const s = track(await startServer({ PORT: String(port) }, { cwd }));
		expect(s.port).toBe(port);
		const admin = (token: string) => fetch(`${s.url}/api/v1/admin/projects`, { headers: { authorization: `Bearer ${token}` } });
		expect((await admin(fileToken)).status).toBe(200);
		// DEMO=false came from the file too: no demo project.
		expect(await (await admin(fileToken)).json()).toEqual({ projects: [] });
		expect(await s.stop()).toBe(0);
	});

	it('two servers booting together against one empty PostgreSQL migrate and bootstrap once', async () => {
		const t = await createPostgresDatabase();
		cleanups.push(() => t.destroy());
		const [a, b] = await Promise.all([startServer({ DATABASE_URL: t.url }), startServer({ DATABASE_URL: t.url })]);
		track(a!);
		track(b!);
		for (const s of [a!, b!]) expect((await fetch(`${s.url}/health`)).status).toBe(200);
		const client = new pg.Client({ connectionString: t.url });
		await client.connect();
		const migrations = await client.query('SELECT migration_name, count(*)::int AS n FROM _prisma_migrations GROUP BY 1 ORDER BY 1');
		const counts = await client.query(
			`SELECT (SELECT count(*)::int FROM projects) AS projects, (SELECT count(*)::int FROM api_tokens WHERE project_id IS NULL) AS admins`
		);
		await client.end();
		expect(migrations.rows).toEqual((await readMigrations()).map((m) => ({ migration_name: m.name, n: 1 })));
		expect(counts.rows[0]).toEqual({ projects: 1, admins: 1 });
		const banners = [a!, b!].filter((s) => s.output().stdout.includes('Admin token')).length;
		expect(banners).toBe(1);
	});

	it('finishes a request in flight on SIGTERM, refuses new ones, then exits cleanly', async () => {
		const t = await createPostgresDatabase();
		cleanups.push(() => t.destroy());
		const admin = 'graceful-admin-token-0123456789abcdef';
		const s = track(await startServer({ DATABASE_URL: t.url, ADMIN_TOKEN: admin, DEMO: 'false' }));
		const created = await fetch(`${s.url}/api/v1/admin/projects`, {
			method: 'POST',
			headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
			body: JSON.stringify({ slug: 'graceful' })
		});
		const { token } = (await created.json()) as { token: string };
		const body = JSON.stringify(makeReport({ tests: 200 }));
		// The body arrives in two halves; SIGTERM lands between them.
		let sendRest!: () => void;
		const rest = new Promise<void>((r) => (sendRest = r));
		const stream = new ReadableStream<Uint8Array>({
			async start(controller) {
				controller.enqueue(new TextEncoder().encode(body.slice(0, 1000)));
				await rest;
				controller.enqueue(new TextEncoder().encode(body.slice(1000)));
				controller.close();
			}
		});
		const inFlight = fetch(`${s.url}/api/v1/reports`, {
			method: 'POST',
			headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
			body: stream,
			duplex: 'half'
		} as RequestInit);
		await new Promise((r) => setTimeout(r, 300));
		s.proc.kill('SIGTERM');
		await new Promise((r) => setTimeout(r, 300));
		const refused = await fetch(`${s.url}/health`).then((r) => r.status, () => 'refused');
		expect([503, 'refused']).toContain(refused);
		sendRest();
		const res = await inFlight;
		expect(res.status).toBe(201);
		expect(((await res.json()) as { counts: { total: number } }).counts.total).toBe(200);
		expect(await s.exited).toBe(0);
	});

	it('refuses to boot when an applied migration was edited, naming the migration', async () => {
		const t = await createPostgresDatabase();
		cleanups.push(() => t.destroy());
		const dir = await tempDir('fk-mig-');
		await cp(DEFAULT_MIGRATIONS_DIR, dir, { recursive: true });
		const s = await startServer({ DATABASE_URL: t.url, MIGRATIONS_DIR: dir, DEMO: 'false' });
		expect(await s.stop()).toBe(0);
		const [first] = await readMigrations(dir);
		await appendFile(path.join(dir, first!.name, 'migration.sql'), '\nALTER TABLE projects ADD COLUMN sneaky int;\n');
		const res = await failedStart({ DATABASE_URL: t.url, MIGRATIONS_DIR: dir });
		expect(res.code).toBe(1);
		expect(res.stderr).toContain(`Migration ${first!.name} was modified after it was applied`);
		expect(res.stderr).not.toMatch(/\n\s+at /);
	});
});
