import type pg from 'pg';
import { baseJobName } from '../ingest/store.js';

/**
 * Runs grouped by CI pipeline. A run is one CI job (one shard); the runs of a pipeline share
 * (ci_provider, pipeline_id). Within a pipeline, a job slot is a job (group_key: the job name
 * without its "1/3" suffix) and a shard index: two runs in one slot are the same job run again
 * (a retried GitLab job), and the latest started is the attempt that counts, as in GitLab.
 */

type Db = pg.Pool | pg.ClientBase;

export const PIPELINE_OUTCOMES = ['running', 'failed', 'incomplete', 'flaky', 'passed'] as const;
export type PipelineOutcome = (typeof PIPELINE_OUTCOMES)[number];

export interface PipelineFilter {
	branch?: string | undefined;
	/** Only pipelines of the default branch (runs sent with is_default_branch true). */
	defaultBranchOnly?: boolean;
	outcomes?: PipelineOutcome[] | undefined;
	/** Only this pipeline id. */
	pipelineId?: string | undefined;
	page: number;
	pageSize: number;
}

export type RunStatusName = 'running' | 'passed' | 'failed' | 'timedout' | 'interrupted' | 'incomplete';

export interface PipelineJob {
	runId: string;
	jobId: string | null;
	jobName: string | null;
	jobUrl: string | null;
	shardIndex: number | null;
	shardTotal: number | null;
	status: RunStatusName;
	attempt: number;
	attempts: number;
	counts: boolean;
	startedAt: Date;
	durationMs: number | null;
	total: number;
	expected: number;
	unexpected: number;
	flaky: number;
	skipped: number;
	infraFailure: boolean;
}

export interface PipelineRow {
	provider: string;
	pipelineId: string;
	pipelineIid: string | null;
	branch: string | null;
	isDefaultBranch: boolean | null;
	commitSha: string | null;
	commitTitle: string | null;
	mrIid: number | null;
	startedAt: Date;
	endedAt: Date | null;
	durationMs: number | null;
	outcome: PipelineOutcome;
	infraFailure: boolean;
	tests: number;
	passed: number;
	failed: number;
	flaky: number;
	skipped: number;
	jobs: PipelineJob[];
	retriedJobs: number;
	missingShards: { job: string; shardIndex: number; shardTotal: number }[];
	gitlabUrl: string | null;
}

/** Every run of the project's pipelines with its attempt number in its job slot. */
const SLOTTED = `
  SELECT ru.*, coalesce(ru.ci_provider, 'other') AS provider,
         row_number() OVER (PARTITION BY coalesce(ru.ci_provider, 'other'), ru.pipeline_id, coalesce(ru.group_key, ''), ru.shard_index
                            ORDER BY ru.started_at, ru.id) AS attempt,
         count(*) OVER (PARTITION BY coalesce(ru.ci_provider, 'other'), ru.pipeline_id, coalesce(ru.group_key, ''), ru.shard_index) AS attempts
  FROM runs ru
  WHERE ru.project_id = $1 AND ru.pipeline_id IS NOT NULL`;

/**
 * One row per pipeline with its outcome: running when a counted job runs; failed when a counted
 * job failed or timed out or has a failed test; incomplete when a sharded job lacks a shard or a
 * counted job was interrupted or never completed; flaky when it passed only thanks to retries
 * (a test passed on retry, or a job failed and passed when run again); passed otherwise.
 */
const PIPELINES = `
  WITH slotted AS (${SLOTTED}),
  shards AS (
    SELECT provider, pipeline_id, group_key, max(shard_total) AS expected, count(DISTINCT shard_index) AS present
    FROM slotted WHERE shard_total IS NOT NULL GROUP BY 1, 2, 3
  ),
  missing AS (
    SELECT provider, pipeline_id, sum(expected - present)::int AS n FROM shards WHERE present < expected GROUP BY 1, 2
  ),
  agg AS (
    SELECT s.provider, s.pipeline_id,
           min(s.started_at) AS started_at,
           -- The reported duration, not ended_at: a run completed late (an upload after the job) ends when its tests did.
           max(CASE WHEN s.duration_ms IS NOT NULL THEN s.started_at + make_interval(secs => s.duration_ms / 1000.0) ELSE s.ended_at END) AS ended_at,
           bool_or(s.status = 'running' AND s.attempt = s.attempts) AS running,
           bool_or(s.attempt = s.attempts AND (s.status IN ('failed', 'timedout') OR s.unexpected > 0)) AS failed,
           bool_or(s.attempt = s.attempts AND s.status IN ('interrupted', 'incomplete')) AS cut,
           bool_or(s.attempt = s.attempts AND s.flaky > 0) OR bool_or(s.attempt < s.attempts AND s.status <> 'passed') AS retried,
           bool_or(s.attempt = s.attempts AND s.infra_failure) AS infra,
           bool_or(s.is_default_branch) AS is_default,
           sum(s.total) FILTER (WHERE s.attempt = s.attempts)::int AS tests,
           sum(s.expected) FILTER (WHERE s.attempt = s.attempts)::int AS passed,
           sum(s.unexpected) FILTER (WHERE s.attempt = s.attempts)::int AS failed_tests,
           sum(s.flaky) FILTER (WHERE s.attempt = s.attempts)::int AS flaky_tests,
           sum(s.skipped) FILTER (WHERE s.attempt = s.attempts)::int AS skipped,
           count(*) FILTER (WHERE s.attempt < s.attempts)::int AS retried_jobs,
           (array_agg(s.id ORDER BY s.started_at DESC, s.id))[1] AS latest_run,
           bool_or(s.branch = $2) AS on_branch
    FROM slotted s GROUP BY 1, 2
  )
  SELECT a.*, coalesce(m.n, 0) AS missing,
         CASE WHEN a.running THEN 'running' WHEN a.failed THEN 'failed' WHEN a.cut OR m.n > 0 THEN 'incomplete'
              WHEN a.retried THEN 'flaky' ELSE 'passed' END AS outcome
  FROM agg a LEFT JOIN missing m ON m.provider = a.provider AND m.pipeline_id = a.pipeline_id`;

export async function listPipelines(db: Db, projectId: string, f: PipelineFilter, gitlabUrl: string | null) {
	const where: string[] = [];
	const params: unknown[] = [projectId, f.branch ?? null];
	if (f.branch) where.push('p.on_branch');
	if (f.defaultBranchOnly) where.push('p.is_default');
	if (f.outcomes?.length) {
		params.push(f.outcomes);
		where.push(`p.outcome = ANY($${params.length}::text[])`);
	}
	if (f.pipelineId) {
		params.push(f.pipelineId);
		where.push(`p.pipeline_id = $${params.length}`);
	}
	params.push(f.pageSize, (f.page - 1) * f.pageSize);
	const { rows } = await db.query(
		`WITH p AS (${PIPELINES})
		 SELECT p.provider, p.pipeline_id AS "pipelineId", p.started_at AS "startedAt", p.ended_at AS "endedAt", p.running, p.outcome,
		        p.infra AS "infraFailure", coalesce(p.tests, 0) AS tests, coalesce(p.passed, 0) AS passed,
		        coalesce(p.failed_tests, 0) AS failed, coalesce(p.flaky_tests, 0) AS flaky, coalesce(p.skipped, 0) AS skipped,
		        p.retried_jobs AS "retriedJobs", p.is_default AS "isDefaultBranch",
		        l.pipeline_iid AS "pipelineIid", l.branch, l.commit_sha AS "commitSha", l.commit_title AS "commitTitle", l.mr_iid AS "mrIid",
		        count(*) OVER ()::int AS "totalPipelines"
		 FROM p JOIN runs l ON l.id = p.latest_run
		 ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
		 ORDER BY p.started_at DESC, p.pipeline_id
		 LIMIT $${params.length - 1} OFFSET $${params.length}`,
		params
	);
	const total: number = rows[0]?.totalPipelines ?? (f.page > 1 ? await countPipelines(db, where, params.slice(0, -2)) : 0);
	const jobs = await jobsOf(db, projectId, rows.map((r) => r.pipelineId as string));
	const items: PipelineRow[] = rows.map(({ totalPipelines: _t, running, ...r }) => {
		const own = jobs.filter((j) => j.provider === r.provider && j.pipelineId === r.pipelineId);
		return {
			...r,
			durationMs: running || !r.endedAt ? null : Math.max(0, r.endedAt.getTime() - r.startedAt.getTime()),
			endedAt: running ? null : r.endedAt,
			jobs: own.map(({ provider: _p, pipelineId: _id, groupKey: _g, pipelineUrl: _u, projectPath: _pp, ...j }) => j),
			missingShards: missingShards(own),
			gitlabUrl: gitlabLink(r.provider, r.pipelineId, own, gitlabUrl)
		};
	});
	return { items, total, page: f.page, pageSize: f.pageSize };
}

async function countPipelines(db: Db, where: string[], params: unknown[]): Promise<number> {
	const { rows } = await db.query(`WITH p AS (${PIPELINES}) SELECT count(*)::int AS n FROM p ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`, params);
	return rows[0].n;
}

type JobRow = PipelineJob & { provider: string; pipelineId: string; groupKey: string | null; pipelineUrl: string | null; projectPath: string | null };

async function jobsOf(db: Db, projectId: string, pipelineIds: string[]): Promise<JobRow[]> {
	if (pipelineIds.length === 0) return [];
	const { rows } = await db.query<JobRow>(
		`WITH slotted AS (${SLOTTED} AND ru.pipeline_id = ANY($2::text[]))
		 SELECT provider, pipeline_id AS "pipelineId", group_key AS "groupKey", pipeline_url AS "pipelineUrl", project_path AS "projectPath",
		        id AS "runId", job_id AS "jobId", job_name AS "jobName", job_url AS "jobUrl", shard_index AS "shardIndex",
		        shard_total AS "shardTotal", status, attempt::int, attempts::int, attempt = attempts AS counts, started_at AS "startedAt",
		        duration_ms AS "durationMs", total, expected, unexpected, flaky, skipped, infra_failure AS "infraFailure"
		 FROM slotted
		 ORDER BY group_key NULLS FIRST, shard_index NULLS FIRST, attempt`,
		[projectId, pipelineIds]
	);
	return rows;
}

/** Shards 1..n of a sharded job that no run of the pipeline reported. */
function missingShards(jobs: JobRow[]): PipelineRow['missingShards'] {
	const byGroup = new Map<string, { name: string; total: number; present: Set<number> }>();
	for (const j of jobs) {
		if (j.shardTotal === null) continue;
		const key = j.groupKey ?? '';
		const g = byGroup.get(key) ?? { name: baseJobName(j.jobName ?? ''), total: 0, present: new Set<number>() };
		g.total = Math.max(g.total, j.shardTotal);
		if (j.shardIndex !== null) g.present.add(j.shardIndex);
		byGroup.set(key, g);
	}
	const out: PipelineRow['missingShards'] = [];
	for (const g of byGroup.values()) {
		for (let i = 1; i <= g.total; i++) if (!g.present.has(i)) out.push({ job: g.name, shardIndex: i, shardTotal: g.total });
	}
	return out;
}

/**
 * The pipeline's GitLab page: the pipeline URL a run sent; else derived from a job URL
 * (`<project>/-/jobs/<id>` → `<project>/-/pipelines/<id>`); else from the GitLab connection's address
 * and the project path a run sent. Null for other CI providers or when nothing names the project.
 */
export function gitlabLink(
	provider: string,
	pipelineId: string,
	jobs: { pipelineUrl: string | null; jobUrl: string | null; projectPath: string | null }[],
	gitlabUrl: string | null
): string | null {
	const sent = jobs.find((j) => j.pipelineUrl && /^https?:\/\//i.test(j.pipelineUrl))?.pipelineUrl;
	if (sent) return sent;
	if (provider !== 'gitlab') return null;
	const id = encodeURIComponent(pipelineId);
	for (const j of jobs) {
		const m = j.jobUrl ? /^(https?:\/\/.+?\/-\/)jobs\/[^/]+\/?$/i.exec(j.jobUrl) : null;
		if (m) return `${m[1]}pipelines/${id}`;
	}
	const path = jobs.find((j) => j.projectPath)?.projectPath;
	if (gitlabUrl && path && /^https?:\/\//i.test(gitlabUrl)) return `${gitlabUrl.replace(/\/+$/, '')}/${path}/-/pipelines/${id}`;
	return null;
}

/** The GitLab connection's address, for links to pipelines whose runs sent none. */
export async function gitlabUrlOf(db: Db, projectId: string): Promise<string | null> {
	const { rows } = await db.query<{ url: string }>(`SELECT url FROM gitlab_integrations WHERE project_id = $1`, [projectId]);
	return rows[0]?.url ?? null;
}

/** A run as one shard of its pipeline: its pipeline id (null when it has none) and what the per-shard view needs. */
export async function runAsShard(db: Db, runId: string) {
	const { rows } = await db.query<{ pipelineId: string | null; runId: string; jobName: string | null; shardIndex: number | null; shardTotal: number | null; status: string; durationMs: number | null }>(
		`SELECT pipeline_id AS "pipelineId", id AS "runId", job_name AS "jobName", shard_index AS "shardIndex", shard_total AS "shardTotal",
		        status, duration_ms AS "durationMs"
		 FROM runs WHERE id = $1`,
		[runId]
	);
	return rows[0] ?? null;
}
