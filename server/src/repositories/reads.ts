import type pg from 'pg';

/** Read queries behind the dashboard's API. Each returns plain rows, or null when nothing matches. */

type Db = pg.Pool | pg.ClientBase;

export const HEALTH_STATES = ['healthy', 'flaky', 'broken', 'suspect', 'failing', 'fixed', 'quarantined', 'skipped'] as const;
export type HealthStateName = (typeof HEALTH_STATES)[number];

const likePattern = (q: string) => `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export async function projectsVisible(db: Db, projectId: string | null) {
	const { rows } = await db.query(
		`SELECT p.id, p.slug, p.name, p.is_demo AS "isDemo", p.created_at AS "createdAt",
		        (SELECT max(started_at) FROM runs r WHERE r.project_id = p.id) AS "lastRunAt",
		        (SELECT count(*)::int FROM tests t WHERE t.project_id = p.id) AS tests,
		        (SELECT count(*)::int FROM test_health h WHERE h.project_id = p.id AND h.state = 'flaky' AND h.inactive_since IS NULL) AS flaky,
		        (SELECT count(*)::int FROM test_health h WHERE h.project_id = p.id AND h.state = 'broken' AND h.inactive_since IS NULL) AS broken
		 FROM projects p WHERE $1::uuid IS NULL OR p.id = $1 ORDER BY p.is_demo, p.created_at`,
		[projectId]
	);
	return rows;
}

/** A test still in the suite: seen in the recent complete default-branch pipelines (see repositories/activity.ts). */
const ACTIVE = 'h.inactive_since IS NULL';

export async function projectStats(db: Db, projectId: string, days: number) {
	const cards = await db.query(
		`SELECT count(*)::int AS "testsTracked",
		        count(*) FILTER (WHERE h.state = 'flaky' AND ${ACTIVE})::int AS "activeFlaky",
		        count(*) FILTER (WHERE h.state = 'broken' AND ${ACTIVE})::int AS "brokenNow",
		        count(*) FILTER (WHERE h.state = 'suspect' AND ${ACTIVE})::int AS suspect,
		        count(*) FILTER (WHERE h.state = 'failing' AND ${ACTIVE})::int AS failing,
		        count(*) FILTER (WHERE h.state = 'quarantined' AND ${ACTIVE})::int AS quarantined,
		        count(*) FILTER (WHERE h.inactive_since IS NOT NULL)::int AS inactive,
		        (SELECT count(DISTINCT e.test_id)::int FROM test_events e
		         WHERE e.project_id = $1 AND e.kind = 'fixed' AND e.created_at > now() - interval '7 days') AS "fixedThisWeek",
		        coalesce(sum(h.impact_minutes) FILTER (WHERE h.state IN ('flaky', 'quarantined', 'suspect') AND ${ACTIVE}), 0)::float8 AS "impactMinutesPerDay"
		 FROM tests t LEFT JOIN test_health h ON h.test_id = t.id
		 WHERE t.project_id = $1`,
		[projectId]
	);
	// Daily figures come from the runs' own counters, not from the results: a day of a busy
	// project is hundreds of thousands of results but only a few hundred runs. The flake rate is
	// the share of results that failed and then passed on retry, in jobs not judged to be
	// infrastructure failures.
	const trend = await db.query(
		`SELECT to_char(d.day, 'YYYY-MM-DD') AS day,
		        coalesce(x.results, 0)::int AS results,
		        coalesce(x.flaky, 0)::int AS flaky,
		        coalesce(x.failed, 0)::int AS failed,
		        coalesce(x.runs, 0)::int AS runs,
		        coalesce(x.infra_runs, 0)::int AS "infraRuns",
		        CASE WHEN coalesce(x.results, 0) = 0 THEN NULL ELSE x.flaky::float8 / x.results END AS "flakeRate"
		 FROM generate_series(date_trunc('day', now()) - make_interval(days => $2 - 1), date_trunc('day', now()), interval '1 day') AS d(day)
		 LEFT JOIN (
		   SELECT date_trunc('day', ru.started_at) AS day,
		          sum(ru.total - ru.skipped) FILTER (WHERE NOT ru.infra_failure) AS results,
		          sum(ru.flaky) FILTER (WHERE NOT ru.infra_failure) AS flaky,
		          sum(ru.unexpected) AS failed,
		          count(*) AS runs,
		          count(*) FILTER (WHERE ru.infra_failure) AS infra_runs
		   FROM runs ru
		   WHERE ru.project_id = $1 AND ru.started_at >= date_trunc('day', now()) - make_interval(days => $2 - 1)
		   GROUP BY 1
		 ) x ON x.day = d.day
		 ORDER BY d.day`,
		[projectId, days]
	);
	const share = (rows: typeof trend.rows) => {
		const t = rows.reduce((a, r) => ({ results: a.results + r.results, flaky: a.flaky + r.flaky }), { results: 0, flaky: 0 });
		return t.results === 0 ? 0 : t.flaky / t.results;
	};
	return {
		...cards.rows[0],
		overallFlakeRate: share(trend.rows),
		flakeRateLast30Days: share(trend.rows.slice(-30)),
		days,
		trend: trend.rows
	};
}

export interface FlakyTestFilter {
	states: HealthStateName[];
	branch?: string | undefined;
	playwrightProject?: string | undefined;
	/** Tests this owner owns (exactly as stored: `@team-x`, `jane@example.com`). */
	owner?: string | undefined;
	q?: string | undefined;
	/** `active` (the default): tests still in the suite; `inactive`: gone ones; `all`. */
	activity?: 'active' | 'inactive' | 'all' | undefined;
	sort: 'impact' | 'score' | 'lastSeen' | 'flakeRate' | 'name';
	order: 'asc' | 'desc';
	page: number;
	pageSize: number;
}

const SORTS: Record<FlakyTestFilter['sort'], string> = {
	impact: 'h.impact_minutes',
	score: 'h.score',
	lastSeen: 'h.last_seen_at',
	flakeRate: 'h.flake_rate',
	name: 't.title'
};

export async function flakyTests(db: Db, projectId: string, f: FlakyTestFilter) {
	const where = [`t.project_id = $1`, `h.state = ANY($2::health_state[])`];
	const params: unknown[] = [projectId, f.states];
	if (f.playwrightProject !== undefined) {
		params.push(f.playwrightProject);
		where.push(`t.project_name = $${params.length}`);
	}
	if (f.owner !== undefined) {
		params.push([f.owner]);
		// @> rather than = ANY so that the GIN index on owners serves it.
		where.push(`t.owners @> $${params.length}::text[]`);
	}
	if (f.q) {
		params.push(likePattern(f.q));
		where.push(`(t.title ILIKE $${params.length} OR t.file ILIKE $${params.length} OR array_to_string(t.title_path, ' ') ILIKE $${params.length})`);
	}
	if (f.branch) {
		params.push(f.branch);
		// Ran on the branch; a `failing` test names its failing branches in its evidence.
		where.push(
			`(h.evidence->'failingBranches' @> jsonb_build_array(jsonb_build_object('branch', $${params.length}::text))
			  OR EXISTS (SELECT 1 FROM test_results r JOIN runs ru ON ru.id = r.run_id WHERE r.test_id = t.id AND ru.branch = $${params.length}))`
		);
	}
	const activity = f.activity ?? 'active';
	if (activity !== 'all') where.push(activity === 'active' ? ACTIVE : `NOT ${ACTIVE}`);
	const order = `${SORTS[f.sort]} ${f.order === 'asc' ? 'ASC' : 'DESC'} NULLS LAST, t.id`;
	params.push(f.pageSize, (f.page - 1) * f.pageSize);
	const { rows } = await db.query(
		`SELECT t.id AS "testId", t.title, t.title_path AS "titlePath", t.file, t.project_name AS "projectName", t.tags, COALESCE(t.owners, '{}') AS owners,
		        h.state, h.state_since AS "stateSince", h.score, h.score_low AS "scoreLow", h.score_high AS "scoreHigh",
		        h.flake_rate AS "flakeRate", h.impact_minutes AS "impactMinutes", h.runs, h.failures, h.flaky_runs AS "flakyRuns",
		        h.mixed_commits AS "mixedCommits", h.last_seen_at AS "lastSeenAt", h.last_flaky_at AS "lastFlakyAt",
		        h.change_point_sha AS "changePointSha", h.inactive_since AS "inactiveSince",
		        COALESCE(h.evidence->'failingBranches', '[]'::jsonb) AS "failingBranches", count(*) OVER ()::int AS total
		 FROM tests t JOIN test_health h ON h.test_id = t.id
		 WHERE ${where.join(' AND ')}
		 ORDER BY ${order}
		 LIMIT $${params.length - 1} OFFSET $${params.length}`,
		params
	);
	const total = rows[0]?.total ?? (f.page > 1 ? await countFlaky(db, where, params.slice(0, -2)) : 0);
	return { items: rows.map(({ total: _t, ...r }) => r), total, page: f.page, pageSize: f.pageSize };
}

async function countFlaky(db: Db, where: string[], params: unknown[]): Promise<number> {
	const { rows } = await db.query(
		`SELECT count(*)::int AS n FROM tests t JOIN test_health h ON h.test_id = t.id WHERE ${where.join(' AND ')}`,
		params
	);
	return rows[0].n;
}

/** Branches and Playwright projects seen, for the dashboard's filters. */
export async function facets(db: Db, projectId: string) {
	const branches = await db.query<{ branch: string }>(
		`SELECT branch FROM runs WHERE project_id = $1 AND branch IS NOT NULL GROUP BY branch ORDER BY max(started_at) DESC LIMIT 50`,
		[projectId]
	);
	const projects = await db.query<{ name: string }>(
		`SELECT DISTINCT project_name AS name FROM tests WHERE project_id = $1 ORDER BY 1 LIMIT 100`,
		[projectId]
	);
	return { branches: branches.rows.map((r) => r.branch), playwrightProjects: projects.rows.map((r) => r.name) };
}

export interface OwnerCounts {
	owner: string;
	tests: number;
	flaky: number;
	broken: number;
}

/**
 * Every owner of the project's tests with how many tests it owns, and how many of them are flaky
 * or broken now; the most troubled first. `unowned` counts the tests nobody owns.
 */
export async function ownersOfProject(db: Db, projectId: string): Promise<{ owners: OwnerCounts[]; unowned: number }> {
	const owners = await db.query<OwnerCounts>(
		`SELECT o.owner, count(*)::int AS tests,
		        count(*) FILTER (WHERE h.state = 'flaky' AND ${ACTIVE})::int AS flaky,
		        count(*) FILTER (WHERE h.state = 'broken' AND ${ACTIVE})::int AS broken
		 FROM tests t CROSS JOIN LATERAL unnest(t.owners) AS o(owner) LEFT JOIN test_health h ON h.test_id = t.id
		 WHERE t.project_id = $1
		 GROUP BY o.owner
		 ORDER BY flaky DESC, broken DESC, tests DESC, o.owner
		 LIMIT 1000`,
		[projectId]
	);
	const unowned = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM tests WHERE project_id = $1 AND (owners IS NULL OR owners = '{}')`, [projectId]);
	return { owners: owners.rows, unowned: unowned.rows[0]!.n };
}

export async function testDetail(db: Db, testId: string) {
	const { rows } = await db.query(
		`SELECT t.id, t.project_id AS "projectId", t.title, t.title_path AS "titlePath", t.file, t.project_name AS "projectName",
		        t.tags, COALESCE(t.owners, '{}') AS owners, t.first_seen_at AS "firstSeenAt", t.last_seen_at AS "lastSeenAt",
		        h.test_id IS NOT NULL AS analysed, h.state::text AS state, h.state_since AS "stateSince", h.score, h.score_low AS "scoreLow",
		        h.score_high AS "scoreHigh", h.flake_rate AS "flakeRate", h.runs, h.failures, h.flaky_runs AS "flakyRuns",
		        h.mixed_commits AS "mixedCommits", h.impact_minutes AS "impactMinutes", h.first_detected_at AS "firstDetectedAt",
		        h.last_flaky_at AS "lastFlakyAt", h.change_point_sha AS "changePointSha", h.change_point_at AS "changePointAt",
		        h.analyzed_at AS "analyzedAt", h.inactive_since AS "inactiveSince", h.evidence,
		        (SELECT p.settings->'analysis'->'inactiveAfterPipelines' FROM projects p WHERE p.id = t.project_id) AS "inactiveAfterPipelines",
		        (SELECT json_build_object('id', q.id, 'reason', q.reason, 'createdBy', q.created_by, 'createdAt', q.created_at,
		                                  'expiresAt', q.expires_at)
		         FROM quarantines q WHERE q.test_id = t.id AND q.released_at IS NULL AND (q.expires_at IS NULL OR q.expires_at > now())
		         ORDER BY q.created_at DESC LIMIT 1) AS quarantine
		 FROM tests t LEFT JOIN test_health h ON h.test_id = t.id
		 WHERE t.id = $1`,
		[testId]
	);
	const r = rows[0];
	if (!r) return null;
	const { id, projectId, title, titlePath, file, projectName, tags, owners, firstSeenAt, lastSeenAt, quarantine, analysed, evidence, inactiveAfterPipelines, ...health } = r;
	return {
		id,
		projectId,
		title,
		titlePath,
		file,
		projectName,
		tags,
		owners,
		firstSeenAt,
		lastSeenAt,
		inactiveAfterPipelines,
		health: analysed ? { ...health, figures: evidence?.figures ?? null, evidence: evidence ?? {} } : null,
		quarantine: quarantine
			? { ...quarantine, createdAt: new Date(quarantine.createdAt), expiresAt: quarantine.expiresAt ? new Date(quarantine.expiresAt) : null }
			: null
	};
}

export interface RunFilter {
	branch?: string | undefined;
	status?: string | undefined;
	page: number;
	pageSize: number;
}

export async function runsOfProject(db: Db, projectId: string, f: RunFilter) {
	const where = ['ru.project_id = $1'];
	const params: unknown[] = [projectId];
	if (f.branch) {
		params.push(f.branch);
		where.push(`ru.branch = $${params.length}`);
	}
	if (f.status) {
		params.push(f.status);
		where.push(`ru.status = $${params.length}::run_status`);
	}
	params.push(f.pageSize, (f.page - 1) * f.pageSize);
	const { rows } = await db.query(
		`SELECT ru.id, ru.status, ru.source, ru.branch, ru.commit_sha AS "commitSha", ru.commit_title AS "commitTitle",
		        ru.pipeline_id AS "pipelineId", ru.pipeline_url AS "pipelineUrl", ru.job_name AS "jobName", ru.job_url AS "jobUrl",
		        ru.mr_iid AS "mrIid", ru.shard_index AS "shardIndex", ru.shard_total AS "shardTotal", ru.group_key AS "groupKey",
		        ru.started_at AS "startedAt", ru.duration_ms AS "durationMs", ru.total, ru.expected, ru.unexpected, ru.flaky,
		        ru.skipped, ru.infra_failure AS "infraFailure", ru.infra_reason AS "infraReason", count(*) OVER ()::int AS "totalRuns"
		 FROM runs ru WHERE ${where.join(' AND ')}
		 ORDER BY ru.started_at DESC, ru.id
		 LIMIT $${params.length - 1} OFFSET $${params.length}`,
		params
	);
	return { items: rows.map(({ totalRuns: _t, ...r }) => r), total: rows[0]?.totalRuns ?? 0, page: f.page, pageSize: f.pageSize };
}

export async function runDetail(db: Db, runId: string) {
	const run = await db.query(
		`SELECT ru.id, ru.project_id AS "projectId", ru.status, ru.source, ru.ci_provider AS "ciProvider", ru.branch,
		        ru.commit_sha AS "commitSha", ru.commit_title AS "commitTitle", ru.commit_author AS "commitAuthor",
		        ru.pipeline_id AS "pipelineId", ru.pipeline_url AS "pipelineUrl", ru.job_id AS "jobId", ru.job_name AS "jobName",
		        ru.job_url AS "jobUrl", ru.mr_iid AS "mrIid", ru.mr_target_branch AS "mrTargetBranch", ru.shard_index AS "shardIndex",
		        ru.shard_total AS "shardTotal", ru.group_key AS "groupKey", ru.playwright_version AS "playwrightVersion",
		        ru.started_at AS "startedAt", ru.ended_at AS "endedAt", ru.duration_ms AS "durationMs", ru.total, ru.expected,
		        ru.unexpected, ru.flaky, ru.skipped, ru.infra_failure AS "infraFailure", ru.infra_reason AS "infraReason"
		 FROM runs ru WHERE ru.id = $1`,
		[runId]
	);
	const r = run.rows[0];
	if (!r) return null;
	const shards = r.groupKey
		? (
				await db.query(
					`SELECT id, shard_index AS "shardIndex", shard_total AS "shardTotal", status, total, unexpected, flaky
					 FROM runs WHERE project_id = $1 AND group_key = $2 ORDER BY shard_index NULLS LAST, started_at`,
					[r.projectId, r.groupKey]
				)
			).rows
		: [];
	const notable = await db.query(
		`SELECT t.id AS "testId", t.title, t.file, t.project_name AS "projectName", res.outcome, res.attempts,
		        res.duration_ms AS "durationMs", left(res.error_message, 1000) AS "errorMessage", res.error_fingerprint AS fingerprint,
		        h.state, res.attachments
		 FROM test_results res JOIN tests t ON t.id = res.test_id LEFT JOIN test_health h ON h.test_id = t.id
		 WHERE res.run_id = $1 AND res.outcome IN ('unexpected', 'flaky')
		 ORDER BY res.outcome DESC, t.file, t.title LIMIT 500`,
		[runId]
	);
	return { ...r, shards, notable: notable.rows };
}

export async function errorClusters(db: Db, projectId: string, days: number, limit: number) {
	const { rows } = await db.query(
		`WITH recent AS (
		   SELECT r.error_fingerprint AS fp, r.test_id, r.started_at
		   FROM test_results r
		   WHERE r.project_id = $1 AND r.error_fingerprint IS NOT NULL AND r.started_at > now() - make_interval(days => $2)
		 ), top AS (
		   SELECT fp, count(*)::int AS occurrences, count(DISTINCT test_id)::int AS tests, max(started_at) AS "lastSeenAt"
		   FROM recent GROUP BY fp ORDER BY occurrences DESC LIMIT $3
		 )
		 SELECT top.fp AS fingerprint, top.occurrences, top.tests, top."lastSeenAt", e.message, e.first_seen_at AS "firstSeenAt",
		        e.occurrences AS "allTimeOccurrences",
		        (SELECT json_agg(x) FROM (
		           SELECT t.id AS "testId", t.title, t.file, t.project_name AS "projectName", count(*)::int AS occurrences
		           FROM recent rc JOIN tests t ON t.id = rc.test_id WHERE rc.fp = top.fp
		           GROUP BY t.id ORDER BY count(*) DESC LIMIT 10) x) AS "topTests"
		 FROM top LEFT JOIN error_clusters e ON e.project_id = $1 AND e.fingerprint = top.fp
		 ORDER BY top.occurrences DESC`,
		[projectId, days, limit]
	);
	return rows;
}

export async function activeQuarantines(db: Db, projectId: string) {
	const { rows } = await db.query(
		`SELECT q.id, q.test_id AS "testId", t.file, t.title_path AS "titlePath", t.project_name AS "projectName", q.reason,
		        q.created_by AS "createdBy", q.created_at AS "createdAt", q.expires_at AS "expiresAt"
		 FROM quarantines q JOIN tests t ON t.id = q.test_id
		 WHERE q.project_id = $1 AND q.released_at IS NULL AND (q.expires_at IS NULL OR q.expires_at > now())
		 ORDER BY q.created_at`,
		[projectId]
	);
	return rows;
}

/** The project a test or run belongs to, for access checks; null when it does not exist. */
export async function projectOfTest(db: Db, testId: string): Promise<string | null> {
	const { rows } = await db.query<{ project_id: string }>(`SELECT project_id FROM tests WHERE id = $1`, [testId]);
	return rows[0]?.project_id ?? null;
}

export async function projectOfRun(db: Db, runId: string): Promise<string | null> {
	const { rows } = await db.query<{ project_id: string }>(`SELECT project_id FROM runs WHERE id = $1`, [runId]);
	return rows[0]?.project_id ?? null;
}
