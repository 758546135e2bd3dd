import type pg from 'pg';
import { withoutTimeouts } from './database.js';

/**
 * Monthly partitions of test_results. Partitions are created ahead of time; rows whose time falls
 * outside every partition land in test_results_default. Creating a partition whose month already
 * has rows in the default partition moves those rows first (PostgreSQL refuses the partition
 * otherwise). Retention detaches and drops whole months. Everything runs under an advisory lock,
 * so several instances may call it at once.
 */

const LOCK_KEY = 72707371;
const PARENT = 'test_results';
const DEFAULT_PARTITION = 'test_results_default';

export interface MonthRange {
	name: string;
	from: Date;
	to: Date;
}

export function monthOf(date: Date, offset = 0): MonthRange {
	const from = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + offset, 1));
	const to = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + 1, 1));
	const name = `${PARENT}_p${from.getUTCFullYear()}_${String(from.getUTCMonth() + 1).padStart(2, '0')}`;
	return { name, from, to };
}

/** Unbounded (withoutTimeouts): moving rows, DETACH's exclusive lock and retention's DELETE grow with the data. */
async function withLock<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
	return withoutTimeouts(pool, async (client) => {
		await client.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
		return fn(client);
	});
}

export interface PartitionInfo {
	name: string;
	from: string | null;
	to: string | null;
	rows: number;
	bytes: number;
}

export async function listPartitions(db: pg.Pool | pg.ClientBase): Promise<PartitionInfo[]> {
	const { rows } = await db.query<{ name: string; bound: string; rows: string; bytes: string }>(
		`SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound,
		        greatest(c.reltuples, 0)::bigint::text AS rows, pg_total_relation_size(c.oid)::text AS bytes
		 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		 WHERE i.inhparent = $1::regclass ORDER BY c.relname`,
		[PARENT]
	);
	return rows.map((r) => {
		const m = /FROM \('([^']+)'\) TO \('([^']+)'\)/.exec(r.bound);
		return {
			name: r.name,
			from: m ? new Date(m[1]!).toISOString() : null,
			to: m ? new Date(m[2]!).toISOString() : null,
			rows: Number(r.rows),
			bytes: Number(r.bytes)
		};
	});
}

/** Makes sure the partitions from `monthsBack` before now to `monthsAhead` after now exist. */
export async function ensurePartitions(pool: pg.Pool, opts: { now?: Date; monthsAhead?: number; monthsBack?: number } = {}): Promise<string[]> {
	const now = opts.now ?? new Date();
	const months: MonthRange[] = [];
	for (let i = -(opts.monthsBack ?? 0); i <= (opts.monthsAhead ?? 2); i++) months.push(monthOf(now, i));
	return withLock(pool, async (client) => {
		const existing = new Set((await listPartitions(client)).map((p) => p.name));
		const created: string[] = [];
		for (const m of months) {
			if (existing.has(m.name)) continue;
			const range = [m.from.toISOString(), m.to.toISOString()];
			const stray = await client.query(
				`SELECT 1 FROM ${DEFAULT_PARTITION} WHERE started_at >= $1 AND started_at < $2 LIMIT 1`,
				range
			);
			if (stray.rowCount) {
				// Rows of this month wait in the default partition: move them into the new one.
				await client.query(`CREATE TABLE "${m.name}" (LIKE ${PARENT} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
				await client.query(
					`WITH moved AS (DELETE FROM ${DEFAULT_PARTITION} WHERE started_at >= $1 AND started_at < $2 RETURNING *)
					 INSERT INTO "${m.name}" SELECT * FROM moved`,
					range
				);
				await client.query(`ALTER TABLE ${PARENT} ATTACH PARTITION "${m.name}" FOR VALUES FROM ('${range[0]}') TO ('${range[1]}')`);
			} else {
				await client.query(
					`CREATE TABLE "${m.name}" PARTITION OF ${PARENT} FOR VALUES FROM ('${range[0]}') TO ('${range[1]}')`
				);
			}
			created.push(m.name);
		}
		return created;
	});
}

/**
 * Retention: drops every monthly partition that ends before `now - days`, and deletes older rows
 * that wait in the default partition. Answers the partitions dropped.
 */
export async function applyRetention(pool: pg.Pool, days: number, now = new Date()): Promise<{ dropped: string[]; deletedFromDefault: number }> {
	const cutoff = new Date(now.getTime() - days * 86_400_000);
	return withLock(pool, async (client) => {
		const dropped: string[] = [];
		for (const p of await listPartitions(client)) {
			if (!p.to || new Date(p.to) > cutoff) continue;
			await client.query(`ALTER TABLE ${PARENT} DETACH PARTITION "${p.name}"`);
			await client.query(`DROP TABLE "${p.name}"`);
			dropped.push(p.name);
		}
		const del = await client.query(`DELETE FROM ${DEFAULT_PARTITION} WHERE started_at < $1`, [cutoff]);
		return { dropped, deletedFromDefault: del.rowCount ?? 0 };
	});
}
