import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readMigrations } from '../../src/db/migrate.js';
import { createPostgresDatabase } from '../helpers/db.js';
import { freePort, startServer } from '../helpers/server-process.js';
import { createProject, openAndBrowse, startStudio, studioQuery, uploadLoop } from '../helpers/studio.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
	while (cleanups.length) await cleanups.pop()!();
});

async function studioAt(env: Record<string, string>, cwd: string) {
	const studio = await startStudio(env, cwd);
	cleanups.push(studio.stop);
	return studio;
}

describe('pnpm studio', () => {
	// Starting PGlite, migrating and seeding the demo takes a minute on a busy 2-core machine.
	it('opens against the embedded database of a running server, next to the server', { timeout: 180_000 }, async () => {
		const cwd = await mkdtemp(path.join(tmpdir(), 'fk-studio-'));
		cleanups.push(() => rm(cwd, { recursive: true, force: true }));
		const dbPort = await freePort();
		const server = await startServer({ EMBEDDED_DB_PORT: String(dbPort) }, { cwd });
		cleanups.push(() => server.stop());
		const studio = await studioAt({ EMBEDDED_DB_PORT: String(dbPort) }, cwd);
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
		const token = await createProject(server, admin, 'load');
		const loops = [uploadLoop(server, token, 1), uploadLoop(server, token, 2)];
		const stopLoops = () => Promise.all(loops.map((l) => l.stop()));
		cleanups.push(stopLoops);

		const studio = await studioAt({ EMBEDDED_DB_PORT: String(dbPort) }, cwd);
		const failures: string[] = [];
		for (let i = 0; i < 20; i++) {
			const failure = await openAndBrowse(studio.url);
			if (failure) failures.push(`open ${i + 1}: ${failure}`);
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
		const studio = await studioAt({ DATABASE_URL: t.url }, tmpdir());
		// Studio sees the migrations the server applied: every one in prisma/migrations.
		const [, rows] = await studioQuery(studio.url, 'SELECT count(*)::int AS n FROM _prisma_migrations');
		expect(rows).toEqual([{ n: (await readMigrations()).length }]);
	});
});
