import type pg from 'pg';
import { projectContext } from './project-context.js';

/**
 * A test's history, page by page, newest first, each run marked as the analysis reads it: counted
 * or discounted as infrastructure (and why), on the default branch or not.
 */

type Db = pg.Pool | pg.ClientBase;

/** Where a page ends: the (started_at, run_id) of its last result, to continue strictly after it. */
export interface HistoryCursor {
	/** started_at in microseconds since the epoch: PostgreSQL's own precision, so no result is skipped. */
	micros: bigint;
	runId: string;
}

export const CURSOR_PATTERN = /^(\d{1,17})_([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

export function parseCursor(s: string): HistoryCursor | null {
	const m = CURSOR_PATTERN.exec(s);
	return m ? { micros: BigInt(m[1]!), runId: m[2]!.toLowerCase() } : null;
}

/**
 * How the analysis treats the runs of a project: which branches are the default one and which error
 * fingerprints are infrastructure (the same `projectContext` the analysis worker uses).
 */
async function discountRules(db: Db, projectId: string) {
	const ctx = await projectContext(db, projectId);
	return { defaultBranches: ctx.defaultBranches, infraFingerprints: [...ctx.infraFingerprints] };
}

const WHY_JOB = `'the job was judged an infrastructure failure: ' || coalesce(ru.infra_reason, 'no reason recorded')`;
const WHY_FINGERPRINT = `'its error (cluster ' || r.error_fingerprint || ') is seen (nearly) only in jobs judged infrastructure failures'`;

/**
 * SQL for the columns every history page shares. A failed attempt (failed or flaky run) is not counted
 * when its job was judged an infrastructure failure, or when its error fingerprint is an
 * infrastructure fingerprint: the rule of the analysis engine (`normalise` in analysis/engine.ts).
 * Parameters: $1 test, $2 cursor micros, $3 cursor run, $4 limit, $5 default branches, $6 infra fingerprints.
 */
function pageQuery(columns: string): string {
	return `SELECT ${columns},
	        CASE WHEN r.outcome NOT IN ('unexpected', 'flaky') THEN NULL
	             WHEN ru.infra_failure THEN ${WHY_JOB}
	             WHEN r.error_fingerprint = ANY($6::text[]) THEN ${WHY_FINGERPRINT}
	        END AS "discountedWhy",
	        COALESCE(ru.is_default_branch, ru.branch = ANY($5::text[]), false) AS "defaultBranch",
	        (floor(extract(epoch FROM r.started_at) * 1000000))::bigint::text || '_' || r.run_id AS cursor
	 FROM test_results r JOIN runs ru ON ru.id = r.run_id
	 WHERE r.test_id = $1
	   AND ($2::bigint IS NULL OR (r.started_at, r.run_id) < ('epoch'::timestamptz + $2::bigint * interval '1 microsecond', $3::uuid))
	 ORDER BY r.started_at DESC, r.run_id DESC
	 LIMIT $4`;
}

async function page(
	db: Db,
	projectId: string,
	testId: string,
	columns: string,
	limit: number,
	after: HistoryCursor | null
) {
	const rules = await discountRules(db, projectId);
	// One more than asked: whether an older page exists, without counting.
	const { rows } = await db.query(pageQuery(columns), [
		testId,
		after ? after.micros.toString() : null,
		after?.runId ?? null,
		limit + 1,
		rules.defaultBranches,
		rules.infraFingerprints
	]);
	const more = rows.length > limit;
	const items = more ? rows.slice(0, limit) : rows;
	return { items, nextCursor: more ? items[items.length - 1]!.cursor : null, defaultBranches: rules.defaultBranches };
}

/** Full rows (CI links, error, attachments) for the recent-runs table. */
export async function testHistory(db: Db, projectId: string, testId: string, limit: number, after: HistoryCursor | null) {
	// Rows as the driver gives them (the route's schema describes and checks them).
	const { items, nextCursor } = await page(
		db,
		projectId,
		testId,
		`r.run_id AS "runId", r.started_at AS "startedAt", r.outcome, r.status, r.expected_status AS "expectedStatus",
		 r.attempts, r.failed_attempts AS "failedAttempts", r.duration_ms AS "durationMs",
		 ru.commit_sha AS "commitSha", ru.commit_title AS "commitTitle", ru.branch, ru.pipeline_id AS "pipelineId",
		 ru.pipeline_url AS "pipelineUrl", ru.job_id AS "jobId", ru.job_name AS "jobName", ru.job_url AS "jobUrl",
		 ru.mr_iid AS "mrIid", ru.infra_failure AS infra, ru.shard_index AS "shardIndex", ru.shard_total AS "shardTotal",
		 r.attachments,
		 CASE WHEN r.error_message IS NULL THEN NULL ELSE json_build_object(
		   'message', left(r.error_message, 4000), 'location', r.error_location, 'fingerprint', r.error_fingerprint) END AS error`,
		limit,
		after
	);
	return { items: items.map(({ cursor: _c, ...r }) => r), nextCursor };
}

interface CompactRow {
	cursor: string;
	runId: string;
	t: string;
	outcome: 'expected' | 'unexpected' | 'flaky' | 'skipped';
	attempts: number;
	failedAttempts: number;
	durationMs: number;
	branch: string | null;
	commitSha: string | null;
	jobName: string | null;
	pipelineId: string | null;
	discountedWhy: string | null;
	defaultBranch: boolean;
}

/**
 * The compact history behind the chart: one entry per run in parallel arrays (columns), newest
 * first, a few thousand per page.
 */
export async function testHistoryCompact(db: Db, projectId: string, testId: string, limit: number, after: HistoryCursor | null) {
	const [{ items, nextCursor, defaultBranches }, total] = await Promise.all([
		page(
			db,
			projectId,
			testId,
			`r.run_id AS "runId", to_char(r.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS t, r.outcome,
			 r.attempts, r.failed_attempts AS "failedAttempts", r.duration_ms AS "durationMs", ru.branch, ru.commit_sha AS "commitSha",
			 ru.job_name AS "jobName", ru.pipeline_id AS "pipelineId"`,
			limit,
			after
		),
		db.query<{ n: number }>(`SELECT count(*)::int AS n FROM test_results WHERE test_id = $1`, [testId])
	]);
	const rows = items as CompactRow[];
	const column = <K extends keyof CompactRow>(k: K) => rows.map((r) => r[k]);
	return {
		total: total.rows[0]!.n,
		defaultBranches,
		runs: {
			runId: column('runId'),
			startedAt: column('t'),
			outcome: column('outcome'),
			attempts: column('attempts'),
			failedAttempts: column('failedAttempts'),
			durationMs: column('durationMs'),
			branch: column('branch'),
			defaultBranch: column('defaultBranch'),
			commitSha: column('commitSha'),
			jobName: column('jobName'),
			pipelineId: column('pipelineId'),
			discountedWhy: column('discountedWhy')
		},
		nextCursor
	};
}
