import type pg from 'pg';

type Db = pg.Pool | pg.ClientBase;

/**
 * Active and inactive tests (issue 14 §2). A test absent from the last N complete default-branch
 * pipelines, and not seen anywhere since the first of them began, is inactive (removed or renamed):
 * `test_health.inactive_since` is set, and it leaves the active counts, the CI time lost and the
 * default lists. It is active again as soon as it runs.
 *
 * A pipeline is complete as in `requestReportsForRuns`: none of its runs is still running or waiting
 * for its analysis, and every shard group has all its shards.
 */

/**
 * Complete default-branch pipelines considered: the newest by start among this many recent
 * default-branch pipelines (an incomplete one is skipped, the older ones fill in).
 */
const PIPELINES_LOOKED_AT = (n: number) => 4 * n + 20;
/**
 * They are found among the newest default-branch runs, this many per pipeline looked at (jobs ×
 * shards): the project's whole history is never scanned. A project with more jobs per pipeline
 * sees fewer pipelines, and with fewer than N complete ones nobody is made inactive.
 */
const RUNS_PER_PIPELINE = 100;

export interface ActivityWindow {
	/** Complete default-branch pipelines found (at most N). */
	pipelines: number;
	/** Start of the oldest of them; null with fewer than N: nobody is inactive then. */
	windowStart: Date | null;
	/** Tests that became inactive, and that became active again, in this refresh. */
	deactivated: number;
	reactivated: number;
}

/** Recomputes which tests of a project are inactive; called when a default-branch pipeline completes. */
export async function refreshInactiveTests(db: Db, projectId: string, defaultBranches: readonly string[], n: number): Promise<ActivityWindow> {
	const { rows } = await db.query<{ pipelines: number; window_start: Date | null }>(
		`WITH newest AS (
		   SELECT pipeline_id, started_at FROM runs
		   WHERE project_id = $1 AND pipeline_id IS NOT NULL AND COALESCE(is_default_branch, branch = ANY($2::text[]), false)
		   ORDER BY started_at DESC LIMIT $4 * ${RUNS_PER_PIPELINE}
		 ), recent AS (
		   SELECT pipeline_id FROM newest GROUP BY pipeline_id ORDER BY max(started_at) DESC LIMIT $4
		 ), groups AS (
		   SELECT r.pipeline_id, min(r.started_at) AS started,
		          bool_or(r.status = 'running' OR EXISTS (SELECT 1 FROM analysis_jobs a WHERE a.run_id = r.id)) AS running,
		          count(DISTINCT r.shard_index) FILTER (WHERE r.shard_total IS NOT NULL) AS have, max(r.shard_total) AS want
		   FROM runs r JOIN recent USING (pipeline_id)
		   WHERE r.project_id = $1
		   GROUP BY r.pipeline_id, r.group_key
		 ), complete AS (
		   SELECT pipeline_id, min(started) AS started FROM groups
		   GROUP BY pipeline_id
		   HAVING NOT bool_or(running) AND bool_and(want IS NULL OR have >= want)
		   ORDER BY min(started) DESC LIMIT $3
		 )
		 SELECT count(*)::int AS pipelines, CASE WHEN count(*) >= $3 THEN min(started) END AS window_start FROM complete`,
		[projectId, defaultBranches, n, PIPELINES_LOOKED_AT(n)]
	);
	const { pipelines, window_start: windowStart } = rows[0]!;
	// Seen since the window began (on any branch): active. With fewer than N pipelines, everyone is.
	const back = await db.query(
		`UPDATE test_health SET inactive_since = NULL
		 WHERE project_id = $1 AND inactive_since IS NOT NULL AND ($2::timestamptz IS NULL OR last_seen_at >= $2)`,
		[projectId, windowStart]
	);
	let gone = 0;
	if (windowStart) {
		// Inactive since the first complete default-branch pipeline that went without it.
		const res = await db.query(
			`UPDATE test_health h SET inactive_since = COALESCE(
			   (SELECT min(r.started_at) FROM runs r
			    WHERE r.project_id = $1 AND r.started_at > h.last_seen_at
			      AND COALESCE(r.is_default_branch, r.branch = ANY($3::text[]), false)), $2)
			 WHERE h.project_id = $1 AND h.inactive_since IS NULL AND h.last_seen_at < $2`,
			[projectId, windowStart, defaultBranches]
		);
		gone = res.rowCount ?? 0;
	}
	return { pipelines, windowStart, deactivated: gone, reactivated: back.rowCount ?? 0 };
}

/** The tests of these runs ran again: active at once (without waiting for a default-branch pipeline). */
export async function reactivateTestsOfRuns(db: Db, runIds: readonly string[]): Promise<number> {
	if (runIds.length === 0) return 0;
	const res = await db.query(
		`UPDATE test_health h SET inactive_since = NULL
		 FROM (SELECT DISTINCT test_id FROM test_results WHERE run_id = ANY($1::uuid[])) r
		 WHERE h.test_id = r.test_id AND h.inactive_since IS NOT NULL`,
		[runIds]
	);
	return res.rowCount ?? 0;
}

/** Whether any of these runs is on the default branch (then its pipeline may have completed a window). */
export async function anyDefaultBranchRun(db: Db, runIds: readonly string[], defaultBranches: readonly string[]): Promise<boolean> {
	if (runIds.length === 0) return false;
	const { rows } = await db.query(
		`SELECT 1 FROM runs WHERE id = ANY($1::uuid[]) AND COALESCE(is_default_branch, branch = ANY($2::text[]), false) LIMIT 1`,
		[runIds, defaultBranches]
	);
	return rows.length > 0;
}
