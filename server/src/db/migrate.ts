import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { liftTimeouts } from './database.js';

/** The key `prisma migrate` locks with, so that our migrator and Prisma's never run together. */
const PRISMA_ADVISORY_LOCK_KEY = 72707369;

export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../../../prisma/migrations', import.meta.url));

export class MigrationError extends Error {
	constructor(
		message: string,
		readonly migration: string
	) {
		super(message);
		this.name = 'MigrationError';
	}
}

export interface LocalMigration {
	name: string;
	sql: string;
	checksum: string;
}

export interface MigrationState {
	applied: string[];
	pending: string[];
}

export async function readMigrations(dir = DEFAULT_MIGRATIONS_DIR): Promise<LocalMigration[]> {
	const entries = await readdir(dir, { withFileTypes: true });
	const names = entries
		.filter((e) => e.isDirectory())
		.map((e) => e.name)
		.sort();
	return Promise.all(
		names.map(async (name) => {
			const sql = await readFile(path.join(dir, name, 'migration.sql'), 'utf8');
			return { name, sql, checksum: checksumOf(sql) };
		})
	);
}

/** Prisma records the SHA-256 of the migration script, hex-encoded. */
function checksumOf(sql: string): string {
	return createHash('sha256').update(sql).digest('hex');
}

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

interface AppliedRow {
	migration_name: string;
	checksum: string;
	finished_at: Date | null;
}

async function appliedRows(client: pg.ClientBase): Promise<AppliedRow[]> {
	const { rows } = await client.query<AppliedRow>(
		`SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL ORDER BY started_at`
	);
	return rows;
}

/** Refuses to go on when an applied migration's file changed, or one failed half-way. */
function verifyApplied(local: LocalMigration[], applied: AppliedRow[]): void {
	const byName = new Map(local.map((m) => [m.name, m]));
	for (const row of applied) {
		if (row.finished_at === null) {
			throw new MigrationError(
				`Migration ${row.migration_name} was started but never finished. Fix the database by hand, then mark it rolled back in _prisma_migrations.`,
				row.migration_name
			);
		}
		const file = byName.get(row.migration_name);
		if (file && file.checksum !== row.checksum) {
			throw new MigrationError(
				`Migration ${row.migration_name} was modified after it was applied (checksum differs). Restore its migration.sql, and put the change in a new migration.`,
				row.migration_name
			);
		}
	}
}

/**
 * Applies pending migrations, each in its own transaction, under Prisma's advisory lock, recording
 * them in _prisma_migrations the way `prisma migrate deploy` does. Safe to call from several
 * server instances at once: the second waits for the lock, then finds nothing to do.
 */
export async function migrate(
	pool: pg.Pool,
	opts: { dir?: string; log?: (msg: string) => void } = {}
): Promise<MigrationState> {
	const local = await readMigrations(opts.dir);
	const client = await pool.connect();
	try {
		await liftTimeouts(client);
		await client.query('SELECT pg_advisory_lock($1)', [PRISMA_ADVISORY_LOCK_KEY]);
		try {
			await client.query(CREATE_TABLE);
			const applied = await appliedRows(client);
			verifyApplied(local, applied);
			const done = new Set(applied.map((r) => r.migration_name));
			for (const m of local) {
				if (done.has(m.name)) continue;
				await applyOne(client, m);
				opts.log?.(`applied migration ${m.name}`);
			}
			return { applied: local.map((m) => m.name), pending: [] };
		} finally {
			await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_ADVISORY_LOCK_KEY]);
		}
	} finally {
		client.release(true);
	}
}

async function applyOne(client: pg.ClientBase, m: LocalMigration): Promise<void> {
	const id = randomUUID();
	await client.query('BEGIN');
	try {
		await client.query(
			`INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES ($1, $2, $3, now(), 0)`,
			[id, m.checksum, m.name]
		);
		await client.query(m.sql);
		await client.query(
			`UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1`,
			[id]
		);
		await client.query('COMMIT');
	} catch (err) {
		await client.query('ROLLBACK').catch(() => undefined);
		throw new MigrationError(`Migration ${m.name} failed: ${(err as Error).message}`, m.name);
	}
}

/** What /health reports: which local migrations are applied and which are not (yet). */
export async function migrationState(pool: pg.Pool, dir?: string): Promise<MigrationState> {
	const local = await readMigrations(dir);
	const { rows } = await pool.query<{ migration_name: string }>(
		`SELECT migration_name FROM "_prisma_migrations" WHERE rolled_back_at IS NULL AND finished_at IS NOT NULL`
	);
	const done = new Set(rows.map((r) => r.migration_name));
	return {
		applied: local.filter((m) => done.has(m.name)).map((m) => m.name),
		pending: local.filter((m) => !done.has(m.name)).map((m) => m.name)
	};
}
