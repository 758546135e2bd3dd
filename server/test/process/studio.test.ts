import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createPostgresDatabase } from '../helpers/db.js';
import { freePort, startServer } from '../helpers/server-process.js';

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

/** Runs SQL through Studio's own backend endpoint, as its UI does. */
async function studioQuery(url: string, sql: string): Promise<unknown> {
	const res = await fetch(`${url}/bff`, {
		method: 'POST',
		headers: { 'content-type': 'application/json', origin: url },
		body: JSON.stringify({ procedure: 'query', query: { sql, parameters: [] } })
	});
	expect(res.status).toBe(200);
	return res.json();
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
