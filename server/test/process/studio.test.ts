import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createPostgresDatabase } from '../helpers/db.js';
import { makeReport } from '../helpers/report-factory.js';
import { freePort, startServer, type ServerProcess } from '../helpers/server-process.js';

const STUDIO = fileURLToPath(new URL('../../scripts/studio.mjs', import.meta.url));
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
	while (cleanups.length) await cleanups.pop()!();
});

async function startStudio(env: Record<string, string>, cwd: string): Promise<{ url: string; proc: ChildProcess }> {
	const port = await freePort();
	const proc = spawn(process.execPath, [STUDIO], {
		cwd,
		env: { PATH: process.env.PATH, HOME: process.env.HOME, STUDIO_PORT: String(port), ...env },
		stdio: ['ignore', 'pipe', 'pipe']
	});
	cleanups.push(async () => {
		proc.kill('SIGTERM');
		await new Promise((r) => proc.once('exit', r));
	});
	let out = '';
	proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
	proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
	await new Promise<void>((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`studio did not start:\n${out}`)), 60_000);
		proc.stdout!.on('data', () => out.includes('Prisma Studio is running') && (clearTimeout(timer), resolve()));
		proc.once('exit', (code) => (clearTimeout(timer), reject(new Error(`studio exited ${code}:\n${out}`))));
	});
	return { url: `http://localhost:${port}`, proc };
}

/** Calls Studio's own backend endpoint, as its UI does; answers [error, result]. */
async function studioCall(url: string, body: Record<string, unknown>): Promise<[unknown, unknown]> {
	const res = await fetch(`${url}/bff`, {
		method: 'POST',
		headers: { 'content-type': 'application/json', origin: url },
		body: JSON.stringify(body)
	});
	expect(res.status).toBe(200);
	return (await res.json()) as [unknown, unknown];
}

async function studioQuery(url: string, sql: string, parameters: unknown[] = []): Promise<unknown> {
	return studioCall(url, { procedure: 'query', query: { sql, parameters } });
}

// What opening Studio asks: the tables and columns of a schema, with parameters, so that its
// driver (postgres.js) sends Parse/Describe/Flush and waits before Bind/Execute/Sync: the sequence
// that another client's message used to cut in two.
const INTROSPECT = `SELECT c.relname AS name, json_agg(a.attname ORDER BY a.attnum) AS columns
	FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
	JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
	WHERE n.nspname = $1 AND c.relkind = ANY($2) GROUP BY c.relname ORDER BY c.relname`;

/** Uploads reports one after another until stopped; answers how many went in and every refusal. */
function uploadLoop(server: ServerProcess, token: string, seed: number) {
	let stopped = false;
	const done = (async () => {
		let stored = 0;
		const failures: string[] = [];
		for (let i = 0; !stopped; i++) {
			const res = await fetch(`${server.url}/api/v1/reports`, {
				method: 'POST',
				headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
				body: JSON.stringify(makeReport({ tests: 40, retries: 1, flakyRate: 0.1, seed: seed * 1000 + i }))
			});
			if (res.status === 201) stored++;
			else failures.push(`${res.status} ${await res.text()}`);
		}
		return { stored, failures };
	})();
	return {
		stop: () => {
			stopped = true;
			return done;
		}
	};
}

describe('pnpm studio', () => {
	it('opens against the embedded database of a running server, next to the server', async () => {
		const cwd = await mkdtemp(path.join(tmpdir(), 'fk-studio-'));
		cleanups.push(() => rm(cwd, { recursive: true, force: true }));
		const dbPort = await freePort();
		const server = await startServer({ EMBEDDED_DB_PORT: String(dbPort) }, { cwd });
		cleanups.push(() => server.stop());
		const studio = await startStudio({ EMBEDDED_DB_PORT: String(dbPort) }, cwd);
		expect((await fetch(studio.url)).status).toBe(200);
		const result = JSON.stringify(await studioQuery(studio.url, 'SELECT slug FROM projects'));
		expect(result).toContain('demo');
		// The server keeps working while Studio holds its own connection.
		expect((await fetch(`${server.url}/health`)).status).toBe(200);
	});

	it('opens and browses 20 times out of 20 while the server ingests uploads on the embedded database', { timeout: 240_000 }, async () => {
		const cwd = await mkdtemp(path.join(tmpdir(), 'fk-studio-load-'));
		cleanups.push(() => rm(cwd, { recursive: true, force: true }));
		const dbPort = await freePort();
		const admin = 'studio-load-admin-token-0123456789';
		const env = { EMBEDDED_DB_PORT: String(dbPort), ADMIN_TOKEN: admin, DEMO: 'false', RATE_LIMIT_RUNS: '100000' };
		const server = await startServer(env, { cwd });
		cleanups.push(() => server.stop());
		const created = await fetch(`${server.url}/api/v1/admin/projects`, {
			method: 'POST',
			headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
			body: JSON.stringify({ slug: 'load' })
		});
		const { token } = (await created.json()) as { token: string };
		const loops = [uploadLoop(server, token, 1), uploadLoop(server, token, 2)];
		const stopLoops = () => Promise.all(loops.map((l) => l.stop()));
		cleanups.push(stopLoops);

		const studio = await startStudio({ EMBEDDED_DB_PORT: String(dbPort) }, cwd);
		const failures: unknown[] = [];
		for (let i = 0; i < 20; i++) {
			expect((await fetch(studio.url)).status).toBe(200);
			const [introspectError, tables] = await studioQuery(studio.url, INTROSPECT, ['public', ['r', 'p', 'v']]);
			const [browseError, rows] = await studioQuery(
				studio.url,
				'SELECT r.* FROM runs r WHERE r.project_id = (SELECT id FROM projects WHERE slug = $1) ORDER BY r.created_at DESC LIMIT $2',
				['load', 50]
			);
			if (introspectError || browseError) {
				failures.push({ open: i + 1, introspectError, browseError });
				continue;
			}
			expect(JSON.stringify(tables)).toContain('"test_results"');
			expect(Array.isArray(rows)).toBe(true);
		}
		const uploads = await stopLoops();
		expect(failures).toEqual([]);
		for (const u of uploads) {
			expect(u.failures).toEqual([]);
			expect(u.stored).toBeGreaterThan(0);
		}
		// Every stored upload is there, seen through Studio as through the server.
		const [, count] = await studioQuery(studio.url, 'SELECT count(*)::int AS n FROM runs');
		expect(count).toEqual([{ n: uploads[0]!.stored + uploads[1]!.stored }]);
	});

	it('opens against PostgreSQL from DATABASE_URL', async () => {
		const t = await createPostgresDatabase();
		cleanups.push(() => t.destroy());
		const server = await startServer({ DATABASE_URL: t.url });
		await server.stop();
		const studio = await startStudio({ DATABASE_URL: t.url }, tmpdir());
		const result = JSON.stringify(await studioQuery(studio.url, 'SELECT count(*) AS n FROM _prisma_migrations'));
		expect(result).toMatch(/"n"\s*:\s*"?1"?/);
	});
});
