import pg from 'pg';

/**
 * Below this many rows (by the planner's estimate) a table is counted exactly; above, count(*)
 * would scan millions of rows on every look at the system's health, and the estimate is shown.
 */
export const EXACT_COUNT_BELOW = 1_000_000;

export interface RowCount {
	rows: number;
	/** False: the planner's estimate (pg_class.reltuples), as of the last ANALYZE. */
	rowsExact: boolean;
}

/**
 * The planner's estimate is -1 until a table is first analysed (and 0 on PostgreSQL before 14), so
 * small or new tables would all show 0: those are counted. Only a known, large estimate is kept.
 */
async function rowCount(db: pg.Pool | pg.ClientBase, table: string, estimate: number): Promise<RowCount> {
	if (estimate >= EXACT_COUNT_BELOW) return { rows: estimate, rowsExact: false };
	const { rows } = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM public.${pg.escapeIdentifier(table)}`);
	return { rows: Number(rows[0]!.n), rowsExact: true };
}

/** Adds row counts to tables named by `name`, whose `estimate` is the planner's (-1: unknown). */
export async function withRowCounts<T extends { name: string; estimate: number }>(
	db: pg.Pool | pg.ClientBase,
	tables: T[]
): Promise<Array<Omit<T, 'estimate'> & RowCount>> {
	const out: Array<Omit<T, 'estimate'> & RowCount> = [];
	// One table after the other: the pool is shared with the requests being served.
	for (const { estimate, ...rest } of tables) out.push({ ...rest, ...(await rowCount(db, rest.name, estimate)) });
	return out;
}

/**
 * Tables of the public schema with their size and rows. A partitioned table has neither of its own:
 * both are its partitions' sums; the partitions themselves are listed apart (listPartitions). A
 * partition never analysed (-1) counts as empty: the months created ahead stay so until they fill,
 * and letting them mark the sum unknown would count the biggest table in full on every view. A
 * small sum is counted exactly anyway.
 */
async function tableSizes(db: pg.Pool) {
	const { rows } = await db.query<{ name: string; estimate: string; bytes: string }>(
		`WITH parts AS (
		   SELECT i.inhparent AS parent, sum(greatest(k.reltuples, 0)) AS tuples,
		          sum(pg_total_relation_size(k.oid)) AS bytes
		   FROM pg_inherits i JOIN pg_class k ON k.oid = i.inhrelid GROUP BY i.inhparent
		 )
		 SELECT c.relname AS name,
		        (CASE WHEN c.relkind = 'p' THEN coalesce(p.tuples, 0) ELSE c.reltuples END)::bigint::text AS estimate,
		        (CASE WHEN c.relkind = 'p' THEN coalesce(p.bytes, 0) ELSE pg_total_relation_size(c.oid) END)::bigint::text AS bytes
		 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN parts p ON p.parent = c.oid
		 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition`
	);
	return rows.map((r) => ({ name: r.name, estimate: Number(r.estimate), bytes: Number(r.bytes) }));
}

/** What an admin looks at first: database size, tables, the analysis queue, runs in progress. */
export async function systemHealth(db: pg.Pool) {
	const size = await db.query<{ bytes: string }>(`SELECT pg_database_size(current_database())::text AS bytes`);
	const tables = (await withRowCounts(db, await tableSizes(db)))
		.map(({ name, ...rest }) => ({ table: name, ...rest }))
		.sort((a, b) => b.bytes - a.bytes || a.table.localeCompare(b.table));
	const queue = await db.query<{ pending: number; oldest: Date | null }>(
		`SELECT count(*)::int AS pending, min(enqueued_at) AS oldest FROM analysis_jobs`
	);
	const running = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM runs WHERE status = 'running'`);
	return {
		databaseBytes: Number(size.rows[0]!.bytes),
		tables,
		analysisQueue: { pending: queue.rows[0]!.pending, oldestEnqueuedAt: queue.rows[0]!.oldest },
		runningRuns: running.rows[0]!.n
	};
}
