import type pg from 'pg';
import { clipText, storableText } from 'flackyness-reporter/protocol';
import type { PrismaClient } from '../generated/prisma/client.js';
import { transaction } from '../db/database.js';

type Db = pg.Pool | pg.ClientBase;

/**
 * The queue of reports to GitLab (gitlab_jobs: one row per pipeline) and the data a report is made
 * of. A pipeline is reported once all of its runs are finished and analysed; new results for it
 * later ask for the report again (the MR note is then updated).
 */

/** Reports wait this long between attempts at first, doubling per attempt up to an hour. */
export const MAX_REPORT_ATTEMPTS = 8;
const LOCK_TIMEOUT = '5 minutes';

/**
 * Pipelines of these runs that are complete: none of their runs is still running, every shard group
 * has all its shards, and no analysis of their runs is waiting. Only projects whose GitLab connection
 * writes something are considered. Called after the analysis of the runs was saved and its jobs
 * deleted, so the last worker to finish a pipeline's runs sees it complete.
 */
export async function requestReportsForRuns(db: Db, runIds: readonly string[]): Promise<number> {
	if (runIds.length === 0) return 0;
	const { rowCount } = await db.query(
		`WITH touched AS (
		   SELECT DISTINCT r.project_id, r.pipeline_id
		   FROM runs r JOIN gitlab_integrations g ON g.project_id = r.project_id AND (g.mr_notes OR g.commit_status)
		   WHERE r.id = ANY($1::uuid[]) AND r.pipeline_id IS NOT NULL
		 )
		 INSERT INTO gitlab_jobs AS j (project_id, pipeline_id)
		 SELECT t.project_id, t.pipeline_id FROM touched t
		 WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.project_id = t.project_id AND r.pipeline_id = t.pipeline_id AND r.status = 'running')
		   AND NOT EXISTS (
		     SELECT 1 FROM analysis_jobs a JOIN runs r ON r.id = a.run_id
		     WHERE r.project_id = t.project_id AND r.pipeline_id = t.pipeline_id)
		   AND NOT EXISTS (
		     SELECT 1 FROM runs r WHERE r.project_id = t.project_id AND r.pipeline_id = t.pipeline_id AND r.shard_total IS NOT NULL
		     GROUP BY r.group_key HAVING count(DISTINCT r.shard_index) < max(r.shard_total))
		 ON CONFLICT (project_id, kind, pipeline_id) DO UPDATE
		   SET state = 'pending', attempts = 0, run_after = now(), generation = j.generation + 1, updated_at = now(),
		       last_error = NULL, last_error_kind = NULL`,
		[runIds]
	);
	return rowCount ?? 0;
}

/**
 * Pipelines that went quiet with a shard missing (a job that never started, or was cancelled): after
 * the stale-run timeout they are reported with what arrived. Looks at the last two days only.
 */
export async function requestOverdueReports(db: Db, quietMinutes: number): Promise<number> {
	// Finished runs that went quiet in the last two days, found through the (status, last_activity_at) index.
	const { rowCount } = await db.query(
		`INSERT INTO gitlab_jobs (project_id, pipeline_id)
		 SELECT DISTINCT r.project_id, r.pipeline_id
		 FROM runs r JOIN gitlab_integrations g ON g.project_id = r.project_id AND (g.mr_notes OR g.commit_status)
		 WHERE r.status IN ('passed', 'failed', 'timedout', 'interrupted', 'incomplete') AND r.pipeline_id IS NOT NULL
		   AND r.last_activity_at > now() - interval '2 days' AND r.last_activity_at < now() - make_interval(mins => $1)
		   AND NOT EXISTS (SELECT 1 FROM gitlab_jobs j WHERE j.project_id = r.project_id AND j.kind = 'pipeline' AND j.pipeline_id = r.pipeline_id)
		   AND NOT EXISTS (
		     SELECT 1 FROM runs o LEFT JOIN analysis_jobs a ON a.run_id = o.id
		     WHERE o.project_id = r.project_id AND o.pipeline_id = r.pipeline_id
		       AND (o.status = 'running' OR o.last_activity_at >= now() - make_interval(mins => $1) OR a.id IS NOT NULL))
		 ON CONFLICT (project_id, kind, pipeline_id) DO NOTHING`,
		[quietMinutes]
	);
	return rowCount ?? 0;
}

export interface ClaimedReport {
	id: string;
	/** pipeline, or issue (then pipelineId is the test's id). */
	kind: 'pipeline' | 'issue';
	projectId: string;
	pipelineId: string;
	attempts: number;
	generation: number;
}

/** Claims due reports (SKIP LOCKED: instances share the queue; a dead worker's claim lapses). */
export async function claimReports(db: Db, limit: number): Promise<ClaimedReport[]> {
	const { rows } = await db.query<ClaimedReport>(
		`UPDATE gitlab_jobs SET locked_at = now(), attempts = attempts + 1, updated_at = now()
		 WHERE id IN (
		   SELECT id FROM gitlab_jobs
		   WHERE state = 'pending' AND run_after <= now() AND (locked_at IS NULL OR locked_at < now() - interval '${LOCK_TIMEOUT}')
		   ORDER BY run_after LIMIT $1 FOR UPDATE SKIP LOCKED)
		 RETURNING id::text, kind, project_id AS "projectId", pipeline_id AS "pipelineId", attempts, generation`,
		[limit]
	);
	return rows;
}

const words = (s: string) => clipText(storableText(s), 2000);

/** Done, unless new results asked for the report again meanwhile: it then stays pending, due now. */
export async function finishReport(db: Db, job: ClaimedReport, outcome: string): Promise<void> {
	await db.query(
		`UPDATE gitlab_jobs SET locked_at = NULL, updated_at = now(), outcome = $3, last_error = NULL, last_error_kind = NULL,
		   state = CASE WHEN generation = $2 THEN 'done' ELSE 'pending' END,
		   done_at = CASE WHEN generation = $2 THEN now() ELSE done_at END,
		   attempts = CASE WHEN generation = $2 THEN attempts ELSE 0 END
		 WHERE id = $1`,
		[job.id, job.generation, words(outcome)]
	);
}

/** Tried again after `delayMs`, or failed for good once out of attempts (or when `final`). */
export async function failReport(db: Db, job: ClaimedReport, failure: { kind: string; message: string; delayMs: number; final: boolean }): Promise<'retry' | 'failed'> {
	const final = failure.final || job.attempts >= MAX_REPORT_ATTEMPTS;
	await db.query(
		`UPDATE gitlab_jobs SET locked_at = NULL, updated_at = now(), last_error = $2, last_error_kind = $3,
		   state = $4, run_after = now() + make_interval(secs => $5::float8 / 1000)
		 WHERE id = $1`,
		[job.id, words(failure.message), failure.kind.slice(0, 32), final ? 'failed' : 'pending', failure.delayMs]
	);
	return final ? 'failed' : 'retry';
}

export interface ReportQueueState {
	pending: number;
	failed: number;
	/** Pending reports whose last attempt failed (waiting to be tried again). */
	retrying: number;
	lastFailure: { at: Date; pipelineId: string; kind: string | null; message: string } | null;
	lastSuccess: { at: Date; pipelineId: string; outcome: string | null } | null;
}

/** The queue's state, for one project (settings panel) or all (system health, /metrics). */
export async function reportQueueState(prisma: PrismaClient, projectId?: string): Promise<ReportQueueState> {
	const where = projectId ? { projectId } : {};
	const [pending, failed, retrying, lastFailure, lastSuccess] = await Promise.all([
		prisma.gitlabJob.count({ where: { ...where, state: 'pending' } }),
		prisma.gitlabJob.count({ where: { ...where, state: 'failed' } }),
		prisma.gitlabJob.count({ where: { ...where, state: 'pending', lastError: { not: null } } }),
		prisma.gitlabJob.findFirst({ where: { ...where, lastError: { not: null } }, orderBy: { updatedAt: 'desc' } }),
		prisma.gitlabJob.findFirst({ where: { ...where, state: 'done' }, orderBy: { doneAt: 'desc' } })
	]);
	return {
		pending,
		failed,
		retrying,
		lastFailure: lastFailure ? { at: lastFailure.updatedAt, pipelineId: lastFailure.pipelineId, kind: lastFailure.lastErrorKind, message: lastFailure.lastError ?? '' } : null,
		lastSuccess: lastSuccess?.doneAt ? { at: lastSuccess.doneAt, pipelineId: lastSuccess.pipelineId, outcome: lastSuccess.outcome } : null
	};
}

/** Failed reports of a project due again now, with fresh attempts (after the token or access was fixed). */
export async function retryFailedReports(prisma: PrismaClient, projectId: string): Promise<number> {
	const { count } = await prisma.gitlabJob.updateMany({
		where: { projectId, state: 'failed' },
		data: { state: 'pending', attempts: 0, runAfter: new Date(), lockedAt: null, updatedAt: new Date() }
	});
	return count;
}

/** Counts by state over every project, for the /metrics gauge. */
export async function reportCounts(prisma: PrismaClient): Promise<Array<{ state: string; count: number }>> {
	const groups = await prisma.gitlabJob.groupBy({ by: ['state'], _count: { _all: true } });
	return groups.map((g) => ({ state: g.state, count: g._count._all }));
}

export interface PipelineRun {
	id: string;
	status: string;
	commitSha: string | null;
	branch: string | null;
	projectPath: string | null;
	pipelineIid: string | null;
	pipelineUrl: string | null;
	jobName: string | null;
	jobUrl: string | null;
	mrIid: number | null;
	mrTargetBranch: string | null;
	isDefaultBranch: boolean | null;
	startedAt: Date;
	total: number;
	unexpected: number;
	infraFailure: boolean;
	infraReason: string | null;
}

export async function pipelineRuns(db: Db, projectId: string, pipelineId: string): Promise<PipelineRun[]> {
	const { rows } = await db.query<PipelineRun>(
		`SELECT id, status::text, commit_sha AS "commitSha", branch, project_path AS "projectPath", pipeline_iid AS "pipelineIid",
		        pipeline_url AS "pipelineUrl", job_name AS "jobName", job_url AS "jobUrl", mr_iid AS "mrIid",
		        mr_target_branch AS "mrTargetBranch", is_default_branch AS "isDefaultBranch", started_at AS "startedAt", total, unexpected,
		        infra_failure AS "infraFailure", infra_reason AS "infraReason"
		 FROM runs WHERE project_id = $1 AND pipeline_id = $2 ORDER BY started_at, shard_index NULLS LAST`,
		[projectId, pipelineId]
	);
	return rows;
}

export interface PipelineTotals {
	tests: number;
	passed: number;
	flaky: number;
	failed: number;
	skipped: number;
	/** Time spent in the attempts that failed before a retry passed. */
	lostMs: number;
}

/** A test's outcome in the pipeline: its latest result there (a retried job supersedes the first). */
export interface PipelineResult {
	testId: string;
	runId: string;
	file: string;
	titlePath: string[];
	projectName: string;
	outcome: 'unexpected' | 'flaky';
	attempts: number;
	failedAttempts: number;
	durationMs: number;
	errorMessage: string | null;
	state: string | null;
	score: number | null;
	scoreLow: number | null;
	scoreHigh: number | null;
	firstDetectedAt: Date | null;
	changePointSha: string | null;
	changePointAt: Date | null;
	quarantined: boolean;
	quarantineReason: string | null;
}

const LATEST = `SELECT DISTINCT ON (x.test_id) x.* FROM test_results x
	 WHERE x.run_id = ANY($1::uuid[]) ORDER BY x.test_id, x.started_at DESC`;

export async function pipelineTotals(db: Db, runIds: readonly string[]): Promise<PipelineTotals> {
	const { rows } = await db.query<PipelineTotals>(
		`SELECT count(*)::int AS tests,
		        count(*) FILTER (WHERE outcome = 'expected')::int AS passed,
		        count(*) FILTER (WHERE outcome = 'flaky')::int AS flaky,
		        count(*) FILTER (WHERE outcome = 'unexpected')::int AS failed,
		        count(*) FILTER (WHERE outcome = 'skipped')::int AS skipped,
		        COALESCE(sum(CASE WHEN outcome = 'flaky' AND attempts > 0 THEN duration_ms::float8 * failed_attempts / attempts ELSE 0 END), 0)::float8 AS "lostMs"
		 FROM (${LATEST}) l`,
		[runIds]
	);
	return rows[0]!;
}

/** The failed and flaky-on-retry tests of the pipeline with their current verdicts (up to `limit`). */
export async function pipelineFailures(db: Db, runIds: readonly string[], limit: number): Promise<PipelineResult[]> {
	const { rows } = await db.query<PipelineResult>(
		`SELECT l.test_id AS "testId", l.run_id AS "runId", t.file, t.title_path AS "titlePath", t.project_name AS "projectName",
		        l.outcome::text AS outcome, l.attempts, l.failed_attempts AS "failedAttempts", l.duration_ms AS "durationMs",
		        left(l.error_message, 500) AS "errorMessage",
		        h.state::text AS state, h.score, h.score_low AS "scoreLow", h.score_high AS "scoreHigh",
		        h.first_detected_at AS "firstDetectedAt", h.change_point_sha AS "changePointSha", h.change_point_at AS "changePointAt",
		        q.id IS NOT NULL AS quarantined, q.reason AS "quarantineReason"
		 FROM (${LATEST}) l
		 JOIN tests t ON t.id = l.test_id
		 LEFT JOIN test_health h ON h.test_id = l.test_id
		 LEFT JOIN LATERAL (
		   SELECT q.id, q.reason FROM quarantines q
		   WHERE q.test_id = l.test_id AND q.released_at IS NULL AND (q.expires_at IS NULL OR q.expires_at > now())
		   ORDER BY q.created_at DESC LIMIT 1
		 ) q ON true
		 WHERE l.outcome IN ('unexpected', 'flaky')
		 ORDER BY l.outcome DESC, t.file, t.title
		 LIMIT $2`,
		[runIds, limit]
	);
	return rows;
}

export function findMrNote(prisma: PrismaClient, projectId: string, gitlabProject: string, mrIid: number) {
	return prisma.gitlabMrNote.findUnique({ where: { projectId_gitlabProject_mrIid: { projectId, gitlabProject, mrIid } } });
}

export async function saveMrNote(prisma: PrismaClient, key: { projectId: string; gitlabProject: string; mrIid: number }, noteId: number, pipelineId: string): Promise<void> {
	await prisma.gitlabMrNote.upsert({
		where: { projectId_gitlabProject_mrIid: key },
		create: { ...key, noteId: BigInt(noteId), pipelineId },
		update: { noteId: BigInt(noteId), pipelineId, updatedAt: new Date() }
	});
}

/**
 * Runs `fn` while holding a lock on one merge request's note (a transaction-scoped advisory lock):
 * two pipelines of one MR reported at once by two workers must not both create a note.
 */
export function withNoteLock<T>(pool: pg.Pool, key: { projectId: string; gitlabProject: string; mrIid: number }, fn: () => Promise<T>): Promise<T> {
	return transaction(pool, async (client) => {
		await client.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`gitlab-note:${key.projectId}:${key.gitlabProject}:${key.mrIid}`]);
		return fn();
	});
}

/** The default branch by name: as set in the project's settings, else the branch of its latest default-branch run. */
export async function defaultBranchName(db: Db, projectId: string): Promise<string | null> {
	const { rows } = await db.query<{ name: string | null }>(
		`SELECT COALESCE(
		   (SELECT settings->>'defaultBranch' FROM projects WHERE id = $1),
		   (SELECT branch FROM runs WHERE project_id = $1 AND is_default_branch AND branch IS NOT NULL ORDER BY started_at DESC LIMIT 1)
		 ) AS name`,
		[projectId]
	);
	return rows[0]?.name ?? null;
}

/**
 * Issue jobs for the tests whose events arrived since the last look, in projects whose connection
 * keeps issues; the cursor moves past them. Each job then decides from the test's current verdict.
 */
export async function requestIssueUpdates(db: Db): Promise<number> {
	const { rows } = await db.query<{ n: number }>(
		`WITH ev AS (
		   SELECT e.project_id, e.test_id, max(e.id) AS last
		   FROM test_events e JOIN gitlab_integrations g ON g.project_id = e.project_id AND g.issues AND e.id > COALESCE(g.issues_event_id, 0)
		   GROUP BY e.project_id, e.test_id
		 ), ins AS (
		   INSERT INTO gitlab_jobs AS j (project_id, kind, pipeline_id)
		   SELECT project_id, 'issue', test_id::text FROM ev
		   ON CONFLICT (project_id, kind, pipeline_id) DO UPDATE
		     SET state = 'pending', attempts = 0, run_after = now(), generation = j.generation + 1, updated_at = now(),
		         last_error = NULL, last_error_kind = NULL
		   RETURNING 1
		 ), moved AS (
		   UPDATE gitlab_integrations i SET issues_event_id = m.last
		   FROM (SELECT project_id, max(last) AS last FROM ev GROUP BY project_id) m
		   WHERE i.project_id = m.project_id AND COALESCE(i.issues_event_id, 0) < m.last
		   RETURNING 1
		 )
		 SELECT (SELECT count(*) FROM ins)::int + 0 * (SELECT count(*) FROM moved)::int AS n`
	);
	return rows[0]?.n ?? 0;
}

export interface IssueSubject {
	testId: string;
	file: string;
	titlePath: string[];
	projectName: string;
	owners: string[];
	state: string | null;
	score: number | null;
	scoreLow: number | null;
	scoreHigh: number | null;
	runs: number | null;
	failures: number | null;
	flakyRuns: number | null;
	impactMinutes: number | null;
	firstDetectedAt: Date | null;
	lastFlakyAt: Date | null;
	stateSince: Date | null;
	quarantineReason: string | null;
	quarantineUntil: Date | null;
	/** Set while the test is inactive (gone from the recent default-branch pipelines): no new issue. */
	inactiveSince: Date | null;
	/** The GitLab project of the project's latest run that named one. */
	projectPath: string | null;
}

/** A test as its GitLab issue describes it: identity, owners, verdict, quarantine. */
export async function issueSubject(db: Db, projectId: string, testId: string): Promise<IssueSubject | null> {
	const { rows } = await db.query<IssueSubject>(
		`SELECT t.id AS "testId", t.file, t.title_path AS "titlePath", t.project_name AS "projectName", COALESCE(t.owners, '{}') AS owners,
		        h.state::text AS state, h.score, h.score_low AS "scoreLow", h.score_high AS "scoreHigh", h.runs, h.failures,
		        h.flaky_runs AS "flakyRuns", h.impact_minutes AS "impactMinutes", h.first_detected_at AS "firstDetectedAt",
		        h.last_flaky_at AS "lastFlakyAt", h.state_since AS "stateSince", h.inactive_since AS "inactiveSince",
		        q.reason AS "quarantineReason", q.expires_at AS "quarantineUntil",
		        (SELECT r.project_path FROM runs r WHERE r.project_id = $1 AND r.project_path IS NOT NULL ORDER BY r.started_at DESC LIMIT 1) AS "projectPath"
		 FROM tests t
		 LEFT JOIN test_health h ON h.test_id = t.id
		 LEFT JOIN LATERAL (
		   SELECT q.reason, q.expires_at FROM quarantines q
		   WHERE q.test_id = t.id AND q.released_at IS NULL AND (q.expires_at IS NULL OR q.expires_at > now())
		   ORDER BY q.created_at DESC LIMIT 1
		 ) q ON true
		 WHERE t.project_id = $1 AND t.id = $2`,
		[projectId, testId]
	);
	return rows[0] ?? null;
}

export function findIssue(prisma: PrismaClient, projectId: string, testId: string) {
	return prisma.gitlabIssue.findUnique({ where: { projectId_testId: { projectId, testId } } });
}

export async function saveIssue(prisma: PrismaClient, key: { projectId: string; testId: string }, issue: { gitlabProject: string; issueIid: number; webUrl: string | null; state: string }): Promise<void> {
	await prisma.gitlabIssue.upsert({
		where: { projectId_testId: key },
		create: { ...key, ...issue },
		update: { ...issue, updatedAt: new Date() }
	});
}
