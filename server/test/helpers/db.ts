import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { createDatabase, type Database } from '../../src/db/database.js';
import { startEmbeddedDatabase } from '../../src/db/embedded.js';
import { migrate } from '../../src/db/migrate.js';

export const PG_ADMIN_URL = process.env.TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export type Backend = 'postgres' | 'pglite';
export const BACKENDS: Backend[] = ['postgres', 'pglite'];

export interface TestDatabase {
	backend: Backend;
	url: string;
	/** Drops the database (PostgreSQL) or stops PGlite and removes its folder. */
	destroy(): Promise<void>;
}

/** A fresh, empty PostgreSQL database of its own on the local server. */
export async function createPostgresDatabase(): Promise<TestDatabase> {
	const name = `fk_test_${randomBytes(6).toString('hex')}`;
	const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
	await admin.connect();
	await admin.query(`CREATE DATABASE ${name}`);
	await admin.end();
	const url = new URL(PG_ADMIN_URL);
	url.pathname = `/${name}`;
	return {
		backend: 'postgres',
		url: url.toString(),
		async destroy() {
			const c = new pg.Client({ connectionString: PG_ADMIN_URL });
			await c.connect();
			// pg-pool's end() resolves once it has asked its clients to end, not when their sessions are
			// gone: a FORCE drop then terminates them mid-goodbye and the pool, no longer listened to,
			// throws. Give closing sessions a moment to leave first; FORCE still ends any left over.
			for (let i = 0; i < 40; i++) {
				const { rows } = await c.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name]);
				if (rows[0]?.n === 0) break;
				await new Promise((resolve) => setTimeout(resolve, 50));
			}
			await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
			await c.end();
		}
	};
}

/** A fresh PGlite in a temporary folder, served on a free loopback port. */
export async function createPgliteDatabase(): Promise<TestDatabase & { dataDir: string; instance: PGlite }> {
	const dir = await mkdtemp(path.join(tmpdir(), 'fk-pglite-'));
	const embedded = await startEmbeddedDatabase({ dataDir: dir, port: 0 });
	return {
		backend: 'pglite',
		url: embedded.url,
		dataDir: dir,
		instance: embedded.instance,
		async destroy() {
			await embedded.close();
			await rm(dir, { recursive: true, force: true });
		}
	};
}

export function createTestDatabase(backend: Backend): Promise<TestDatabase> {
	return backend === 'postgres' ? createPostgresDatabase() : createPgliteDatabase();
}

/** An empty database with every migration applied, and the Database handle the app uses. */
export async function createMigratedDatabase(backend: Backend): Promise<{ test: TestDatabase; db: Database; close(): Promise<void> }> {
	const test = await createTestDatabase(backend);
	const db = createDatabase({ url: test.url, embedded: backend === 'pglite', poolSize: 5 });
	await migrate(db.pool);
	return {
		test,
		db,
		async close() {
			await db.close();
			await test.destroy();
		}
	};
}
