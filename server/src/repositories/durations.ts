import type pg from 'pg';

/**
 * Test durations: percentiles of passing results, their trend, tests that became slower, and where
 * a pipeline's time goes per shard. A duration is the `duration_ms` of a result whose outcome is
 * `expected` and whose status is `passed`: one attempt that passed, so retries and failures (a 30 s
 * timeout) do not distort it. Every query reads a bounded window of `test_results` by `started_at`
 * (the partition key), through the (project_id, started_at) index.
 */

type Db = pg.Pool | pg.ClientBase;

/** Which runs count: the default branch's (runs sent with is_default_branch true), one branch's, or all. */
export type BranchScope = { kind: 'default' } | { kind: 'all' } | { kind: 'branch'; name: string };

const PASSING = `r.outcome = 'expected' AND r.status = 'passed'`;

/** The SQL condition on `ru` (runs) for a scope; pushes its parameter. */
function scopeSql(scope: BranchScope, params: unknown[]): string {
	if (scope.kind === 'default') return 'ru.is_default_branch';
	if (scope.kind === 'all') return 'TRUE';
	params.push(scope.name);
	return `ru.branch = $${params.length}`;
}

/**
 * The project's passing results since `now() - interval`, as a materialized CTE named `passing`
 * (project in $1). Materialized on purpose: grouped by test straight from the table, PostgreSQL
 * walks the (test_id, started_at) index and fetches a million rows in random heap order; read by
 * started_at and sorted instead, the same query took 5 s instead of 9 s at the benchmark's 1M results.
 */
function passingSince(interval: string, scope: string): string {
	return `passing AS MATERIALIZED (
	   SELECT r.test_id, r.duration_ms, r.started_at
	   FROM test_results r JOIN runs ru ON ru.id = r.run_id
	   WHERE r.project_id = $1 AND r.started_at >= now() - ${interval} AND ${PASSING} AND ${scope}
	 )`;
}

export interface SlowestFilter {
	days: number;
	scope: BranchScope;
	minRuns: number;
	sort: 'p50' | 'p95';
	q?: string | undefined;
	page: number;
	pageSize: number;
}

export async function slowestTests(db: Db, projectId: string, f: SlowestFilter) {
	const params: unknown[] = [projectId, f.days, f.minRuns];
	const scope = scopeSql(f.scope, params);
	let search = '';
	if (f.q) {
		params.push(`%${f.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
		search = `AND (t.title ILIKE $${params.length} OR t.file ILIKE $${params.length})`;
	}
	params.push(f.pageSize, (f.page - 1) * f.pageSize);
	const order = f.sort === 'p95' ? 'p95 DESC, p50 DESC' : 'p50 DESC, p95 DESC';
	const { rows } = await db.query(
		`WITH ${passingSince('make_interval(days => $2)', scope)},
		 d AS (
		   SELECT test_id, count(*)::int AS runs,
		          percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS p50,
		          percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95,
		          max(duration_ms) AS max, max(started_at) AS last_at
		   FROM passing GROUP BY test_id HAVING count(*) >= $3
		 )
		 SELECT t.id AS "testId", t.title, t.file, t.project_name AS "projectName", d.runs, d.p50::float8 AS "p50Ms", d.p95::float8 AS "p95Ms",
		        d.max AS "maxMs", d.last_at AS "lastPassedAt", count(*) OVER ()::int AS "totalTests"
		 FROM d JOIN tests t ON t.id = d.test_id
		 WHERE TRUE ${search}
		 ORDER BY ${order}, t.id
		 LIMIT $${params.length - 1} OFFSET $${params.length}`,
		params
	);
	return {
		items: rows.map(({ totalTests: _t, ...r }) => r),
		total: rows[0]?.totalTests ?? 0,
		page: f.page,
		pageSize: f.pageSize
	};
}

export interface SlowerFilter {
	recentDays: number;
	scope: BranchScope;
	minRuns: number;
	minRatio: number;
	minChangeMs: number;
	limit: number;
}

/**
 * Tests whose median passing duration over the last `recentDays` days exceeds the median over the
 * `recentDays` days before by at least `minRatio` and `minChangeMs`, with at least `minRuns`
 * passing results in each window; the largest absolute change first.
 */
export async function slowerTests(db: Db, projectId: string, f: SlowerFilter) {
	const params: unknown[] = [projectId, f.recentDays, f.minRuns, f.minRatio, f.minChangeMs, f.limit];
	const scope = scopeSql(f.scope, params);
	const { rows } = await db.query(
		`WITH ${passingSince('make_interval(days => $2 * 2)', scope)},
		 d AS (
		   SELECT test_id,
		          count(*) FILTER (WHERE started_at >= now() - make_interval(days => $2))::int AS recent_runs,
		          count(*) FILTER (WHERE started_at < now() - make_interval(days => $2))::int AS previous_runs,
		          percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) FILTER (WHERE started_at >= now() - make_interval(days => $2)) AS recent,
		          percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) FILTER (WHERE started_at < now() - make_interval(days => $2)) AS previous
		   FROM passing GROUP BY test_id
		 )
		 SELECT t.id AS "testId", t.title, t.file, t.project_name AS "projectName",
		        d.recent_runs AS "recentRuns", d.previous_runs AS "previousRuns",
		        d.recent::float8 AS "recentP50Ms", d.previous::float8 AS "previousP50Ms",
		        (d.recent - d.previous)::float8 AS "changeMs", (d.recent / nullif(d.previous, 0))::float8 AS ratio
		 FROM d JOIN tests t ON t.id = d.test_id
		 WHERE d.recent_runs >= $3 AND d.previous_runs >= $3 AND d.previous > 0
		   AND d.recent >= d.previous * $4 AND d.recent - d.previous >= $5
		 ORDER BY d.recent - d.previous DESC, t.id
		 LIMIT $6`,
		params
	);
	return rows;
}

/** p50 and p95 of a test's passing durations per day or week, oldest first; buckets without a passing result are left out. */
export async function durationTrend(db: Db, testId: string, f: { days: number; bucket: 'day' | 'week'; scope: BranchScope }) {
	const params: unknown[] = [testId, f.days, f.bucket];
	const scope = scopeSql(f.scope, params);
	const { rows } = await db.query(
		`SELECT date_trunc($3, r.started_at, 'UTC') AS "from", count(*)::int AS runs,
		        percentile_cont(0.5) WITHIN GROUP (ORDER BY r.duration_ms)::float8 AS "p50Ms",
		        percentile_cont(0.95) WITHIN GROUP (ORDER BY r.duration_ms)::float8 AS "p95Ms"
		 FROM test_results r JOIN runs ru ON ru.id = r.run_id
		 WHERE r.test_id = $1 AND r.started_at >= now() - make_interval(days => $2) AND ${PASSING} AND ${scope}
		 GROUP BY 1 ORDER BY 1`,
		params
	);
	return rows;
}

/** Per shard run: how many results, the sum of their durations (all attempts), and its slowest tests. */
export async function shardLoads(db: Db, runIds: string[], slowest: number) {
	if (runIds.length === 0) return [];
	const { rows } = await db.query(
		`WITH ranked AS (
		   SELECT r.run_id, r.test_id, r.duration_ms, r.outcome, r.attempts,
		          row_number() OVER (PARTITION BY r.run_id ORDER BY r.duration_ms DESC, r.test_id) AS rank,
		          count(*) OVER (PARTITION BY r.run_id)::int AS results,
		          sum(r.duration_ms) OVER (PARTITION BY r.run_id)::float8 AS sum_ms
		   FROM test_results r WHERE r.run_id = ANY($1::uuid[])
		 )
		 SELECT x.run_id AS "runId", x.results, x.sum_ms AS "sumMs",
		        coalesce(json_agg(json_build_object('testId', t.id, 'title', t.title, 'file', t.file, 'projectName', t.project_name,
		                                            'durationMs', x.duration_ms, 'outcome', x.outcome, 'attempts', x.attempts)
		                          ORDER BY x.rank) FILTER (WHERE x.rank <= $2), '[]') AS slowest
		 FROM ranked x JOIN tests t ON t.id = x.test_id
		 GROUP BY x.run_id, x.results, x.sum_ms`,
		[runIds, slowest]
	);
	return rows as { runId: string; results: number; sumMs: number; slowest: unknown[] }[];
}

/** The default branch's name, as the latest run sent on it named it; null when none said. */
export async function defaultBranchName(db: Db, projectId: string): Promise<string | null> {
	const { rows } = await db.query<{ branch: string }>(
		`SELECT branch FROM runs WHERE project_id = $1 AND is_default_branch AND branch IS NOT NULL ORDER BY started_at DESC LIMIT 1`,
		[projectId]
	);
	return rows[0]?.branch ?? null;
}
