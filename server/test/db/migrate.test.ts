import { createHash } from 'node:crypto';
import { cp, mkdtemp, rm, writeFile, appendFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_MIGRATIONS_DIR, MigrationError, migrate, migrationState, readMigrations } from '../../src/db/migrate.js';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../helpers/db.js';

async function copyMigrations(): Promise<string> {
	const dir = await mkdtemp(path.join(tmpdir(), 'fk-migrations-'));
	await cp(DEFAULT_MIGRATIONS_DIR, dir, { recursive: true });
	return dir;
}

describe.each(BACKENDS)('migrations on %s', (backend) => {
	const cleanups: Array<() => Promise<void>> = [];
	afterEach(async () => {
		while (cleanups.length) await cleanups.pop()!();
	});

	async function fresh(): Promise<{ t: TestDatabase; pool: pg.Pool }> {
		const t = await createTestDatabase(backend);
		const pool = new pg.Pool({ connectionString: t.url, max: 1 });
		cleanups.push(async () => {
			await pool.end();
			await t.destroy();
		});
		return { t, pool };
	}

	it('applies every migration once and records it as prisma migrate does', async () => {
		const { pool } = await fresh();
		const local = await readMigrations();
		const first = await migrate(pool);
		expect(first.applied).toEqual(local.map((m) => m.name));

		const { rows } = await pool.query(
			`SELECT id, checksum, migration_name, finished_at, rolled_back_at, applied_steps_count, logs FROM _prisma_migrations ORDER BY migration_name`
		);
		expect(rows).toHaveLength(local.length);
		for (const [i, row] of rows.entries()) {
			const m = local[i]!;
			expect(row.migration_name).toBe(m.name);
			expect(row.checksum).toBe(createHash('sha256').update(m.sql).digest('hex'));
			expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
			expect(row.finished_at).toBeInstanceOf(Date);
			expect(row.rolled_back_at).toBeNull();
			expect(row.applied_steps_count).toBe(1);
		}

		await migrate(pool);
		const again = await pool.query('SELECT count(*)::int AS n FROM _prisma_migrations');
		expect(again.rows[0].n).toBe(local.length);
		expect(await migrationState(pool)).toEqual({ applied: local.map((m) => m.name), pending: [] });
	});

	it('refuses to go on when an applied migration was edited, naming it', async () => {
		const { pool } = await fresh();
		const dir = await copyMigrations();
		cleanups.push(() => rm(dir, { recursive: true, force: true }));
		await migrate(pool, { dir });
		const [first] = await readMigrations(dir);
		await appendFile(path.join(dir, first!.name, 'migration.sql'), '\n-- an edit after the fact\n');
		const err = await migrate(pool, { dir }).catch((e: unknown) => e);
		expect(err).toBeInstanceOf(MigrationError);
		expect((err as MigrationError).migration).toBe(first!.name);
		expect((err as Error).message).toContain(`Migration ${first!.name} was modified after it was applied`);
	});

	it('rolls back a failing migration entirely and records nothing for it', async () => {
		const { pool } = await fresh();
		const dir = await copyMigrations();
		cleanups.push(() => rm(dir, { recursive: true, force: true }));
		await mkdir(path.join(dir, '29990101000000_broken'));
		await writeFile(
			path.join(dir, '29990101000000_broken', 'migration.sql'),
			'CREATE TABLE half_done (id int);\nSELECT no_such_function();\n'
		);
		const err = await migrate(pool, { dir }).catch((e: unknown) => e);
		expect(err).toBeInstanceOf(MigrationError);
		expect((err as Error).message).toContain('29990101000000_broken failed');
		const table = await pool.query(`SELECT to_regclass('half_done') AS t`);
		expect(table.rows[0].t).toBeNull();
		const recorded = await pool.query(`SELECT count(*)::int AS n FROM _prisma_migrations WHERE migration_name = '29990101000000_broken'`);
		expect(recorded.rows[0].n).toBe(0);
		expect((await migrationState(pool, dir)).pending).toEqual(['29990101000000_broken']);
	});
});

describe('concurrent migration on PostgreSQL', () => {
	it('two migrators starting together against an empty database apply each migration once', async () => {
		const t = await createTestDatabase('postgres');
		const pools = [0, 1, 2].map(() => new pg.Pool({ connectionString: t.url, max: 2 }));
		try {
			const results = await Promise.allSettled(pools.map((p) => migrate(p)));
			expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
			const local = await readMigrations();
			const { rows } = await pools[0]!.query(
				'SELECT migration_name, count(*)::int AS n FROM _prisma_migrations GROUP BY migration_name ORDER BY migration_name'
			);
			expect(rows).toEqual(local.map((m) => ({ migration_name: m.name, n: 1 })));
		} finally {
			await Promise.all(pools.map((p) => p.end()));
			await t.destroy();
		}
	});
});
