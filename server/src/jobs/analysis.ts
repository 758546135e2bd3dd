import type pg from 'pg';
import {
	analyzeTest,
	judgeJobInfra,
	type QuarantinePolicy,
	type InfraGuardSettings,
	type RunObservation,
	type Verdict
} from '../analysis/index.js';
import { transaction } from '../db/database.js';
import { anyDefaultBranchRun, reactivateTestsOfRuns, refreshInactiveTests } from '../repositories/activity.js';
import { healthBefore, recordEvents, type HealthBefore, type TestEventInput } from '../repositories/events.js';
import { requestReportsForRuns } from '../repositories/gitlab-reports.js';
import { projectContext, projectInfraFingerprints, type ProjectContext } from '../repositories/project-context.js';
import { quarantineTest, releaseByPolicy } from '../repositories/quarantine.js';
import { POLICY, policyAction, verdictEvent } from './verdict-events.js';

/**
 * The analysis queue's consumer. Jobs (one per finished run, or a list of tests) are claimed with
 * SKIP LOCKED, so any number of server instances can work the queue; a job whose worker died is
 * claimed again after LOCK_TIMEOUT. Analysing a test is idempotent: it rewrites its TestHealth
 * row from the stored history.
 */

const LOCK_TIMEOUT = '5 minutes';
const MAX_ATTEMPTS = 5;
/**
 * Results per test the engine looks at (most recent first). Older results weigh little in the
 * decayed estimate, but the limit must not cut short what a verdict rests on: with 300, tests that
 * run in many merge-request pipelines lost the start of their regressions and their rare failures
 * (the quality harness through HTTP located 60% of regression starts exactly against 91% with the
 * whole history; from 1,000 on it matched the whole history).
 */
export const HISTORY_LIMIT = 2000;
/**
 * A test found broken on a cut history is analysed again on up to this many results, so that
 * "broken since" names the commit where it began, not the oldest one loaded.
 */
export const EXTENDED_HISTORY_LIMIT = 50_000;
const TEST_CHUNK = 500;

interface ClaimedJob {
	id: string;
	project_id: string;
	run_id: string | null;
	test_ids: string[] | null;
}

export interface AnalysisStats {
	jobs: number;
	tests: number;
	fastPath: number;
	analysed: number;
}

/** Marks a run as an infrastructure failure (or not) from all of its results. */
export async function judgeRun(db: pg.Pool | pg.ClientBase, runId: string, guard: InfraGuardSettings): Promise<boolean> {
	const { rows } = await db.query<{ outcome: 'expected' | 'unexpected' | 'flaky' | 'skipped'; fp: string | null; at: Date }>(
		`SELECT outcome, error_fingerprint AS fp, started_at AS at FROM test_results WHERE run_id = $1`,
		[runId]
	);
	// Start times feed the burst rule (a short outage failing a few consecutive tests with one error).
	const j = judgeJobInfra(
		rows.map((r) => ({ outcome: r.outcome, errorFingerprint: r.fp, startedAt: r.at })),
		guard
	);
	await db.query(`UPDATE runs SET infra_failure = $2, infra_reason = $3 WHERE id = $1`, [runId, j.infra, j.reason.slice(0, 500)]);
	return j.infra;
}

interface RunRow {
	id: string;
	at: Date;
	commit_sha: string | null;
	branch: string | null;
	is_default: boolean;
	pipeline_id: string | null;
	job_id: string | null;
	is_mr: boolean;
	infra: boolean;
}

const OUTCOME_CODES: Record<string, RunObservation['outcome']> = { e: 'expected', u: 'unexpected', f: 'flaky', s: 'skipped' };

/**
 * Each test's recent history as ONE text row ("run,outcome,attempts,failed,ms,fingerprint;…"),
 * and the runs it mentions fetched once: decoding millions of result rows field by field in the
 * driver would cost far more than the analysis itself.
 */
async function loadHistories(
	db: pg.Pool | pg.ClientBase,
	testIds: string[],
	ctx: ProjectContext,
	runCache: Map<string, RunRow>,
	limit = HISTORY_LIMIT
): Promise<Map<string, RunObservation[]>> {
	// One pass over each partition's (test_id, started_at) index for the whole chunk: a lateral
	// probe per test would visit every partition once per test.
	const { rows } = await db.query<{ id: string; h: string | null }>(
		`SELECT x.test_id AS id,
		        string_agg(concat_ws(',', x.run_id, left(x.outcome::text, 1), x.attempts, x.failed_attempts, x.duration_ms, x.error_fingerprint), ';') AS h
		 FROM (
		   SELECT test_id, run_id, outcome, attempts, failed_attempts, duration_ms, error_fingerprint,
		          row_number() OVER (PARTITION BY test_id ORDER BY started_at DESC) AS n
		   FROM test_results WHERE test_id = ANY($1::uuid[])
		 ) x
		 WHERE x.n <= $2
		 GROUP BY x.test_id`,
		[testIds, limit]
	);
	const parsed = rows.map((r) => ({ id: r.id, items: r.h ? r.h.split(';').map((e) => e.split(',')) : [] }));
	const missing = new Set<string>();
	for (const p of parsed) for (const e of p.items) if (!runCache.has(e[0]!)) missing.add(e[0]!);
	if (missing.size > 0) {
		const runs = await db.query<RunRow>(
			`SELECT id, started_at AS at, commit_sha, branch,
			        COALESCE(is_default_branch, branch = ANY($2::text[]), false) AS is_default,
			        pipeline_id, job_id, mr_iid IS NOT NULL AS is_mr, infra_failure AS infra
			 FROM runs WHERE id = ANY($1::uuid[])`,
			[[...missing], ctx.defaultBranches]
		);
		for (const r of runs.rows) runCache.set(r.id, r);
	}
	const byTest = new Map<string, RunObservation[]>();
	for (const p of parsed) {
		const list: RunObservation[] = [];
		for (const [runId, o, attempts, failed, ms, fp] of p.items) {
			const run = runCache.get(runId!);
			if (!run) continue;
			list.push({
				runId: run.id,
				at: run.at,
				// A run without a commit is its own commit: it cannot share one with another run.
				commitSha: run.commit_sha ?? `run:${run.id}`,
				branch: run.branch ?? '',
				isDefaultBranch: run.is_default,
				pipelineId: run.pipeline_id ?? run.id,
				jobId: run.job_id ?? run.id,
				isMergeRequest: run.is_mr,
				outcome: OUTCOME_CODES[o!]!,
				attempts: Number(attempts),
				failedAttempts: Number(failed),
				durationMs: Number(ms),
				errorFingerprint: fp || null,
				infra: run.infra
			});
		}
		if (list.length > 0) byTest.set(p.id, list);
	}
	return byTest;
}

async function saveVerdicts(db: pg.Pool | pg.ClientBase, projectId: string, verdicts: Array<[string, Verdict]>): Promise<void> {
	if (verdicts.length === 0) return;
	// A quarantined test keeps its state until released; the verdict still updates its numbers.
	await db.query(
		// state_since is when the evidence for the state began (the verdict's stateSince); only a state
		// the engine cannot date starts when the analysis first saw it (inserted as now(), the
		// statement's analyzed_at: that equality marks it undated).
		`INSERT INTO test_health AS h (test_id, project_id, state, state_since, score, score_low, score_high, flake_rate, runs, failures,
		   flaky_runs, mixed_commits, impact_minutes, first_detected_at, last_flaky_at, last_seen_at, change_point_sha,
		   change_point_at, evidence, analyzed_at)
		 SELECT v.test_id, $1, v.state::health_state, COALESCE(v.state_since, now()), v.score, v.score_low, v.score_high, v.flake_rate, v.runs, v.failures,
		   v.flaky_runs, v.mixed_commits, v.impact_minutes, v.first_detected_at, v.last_flaky_at, v.last_seen_at,
		   v.change_point_sha, v.change_point_at, v.evidence, now()
		 FROM jsonb_to_recordset($2::jsonb) AS v(test_id uuid, state text, state_since timestamptz, score float8, score_low float8, score_high float8,
		   flake_rate float8, runs int, failures int, flaky_runs int, mixed_commits int, impact_minutes float8,
		   first_detected_at timestamptz, last_flaky_at timestamptz, last_seen_at timestamptz, change_point_sha text,
		   change_point_at timestamptz, evidence jsonb)
		 ON CONFLICT (test_id) DO UPDATE SET
		   state = CASE WHEN h.state = 'quarantined' THEN h.state ELSE EXCLUDED.state END,
		   state_since = CASE WHEN h.state = 'quarantined' THEN h.state_since
		     WHEN EXCLUDED.state_since <> EXCLUDED.analyzed_at THEN EXCLUDED.state_since
		     WHEN h.state = EXCLUDED.state THEN h.state_since ELSE now() END,
		   score = EXCLUDED.score, score_low = EXCLUDED.score_low, score_high = EXCLUDED.score_high,
		   flake_rate = EXCLUDED.flake_rate, runs = EXCLUDED.runs, failures = EXCLUDED.failures,
		   flaky_runs = EXCLUDED.flaky_runs, mixed_commits = EXCLUDED.mixed_commits, impact_minutes = EXCLUDED.impact_minutes,
		   first_detected_at = EXCLUDED.first_detected_at, last_flaky_at = EXCLUDED.last_flaky_at,
		   last_seen_at = EXCLUDED.last_seen_at, change_point_sha = EXCLUDED.change_point_sha,
		   change_point_at = EXCLUDED.change_point_at, evidence = EXCLUDED.evidence, analyzed_at = now()`,
		[
			projectId,
			JSON.stringify(
				verdicts.map(([testId, v]) => ({
					test_id: testId,
					state: v.state,
					state_since: v.stateSince,
					// A test skipped in every run has no failure chance (null sorts after every score).
					score: v.state === 'skipped' ? null : v.score,
					score_low: v.state === 'skipped' ? null : v.scoreLow,
					score_high: v.state === 'skipped' ? null : v.scoreHigh,
					flake_rate: v.state === 'skipped' ? null : v.flakeRate,
					runs: v.runs,
					failures: v.failures,
					flaky_runs: v.flakyRuns,
					mixed_commits: v.mixedCommits,
					impact_minutes: v.impactMinutes,
					first_detected_at: v.firstDetectedAt,
					last_flaky_at: v.lastFlakyAt,
					last_seen_at: v.lastSeenAt,
					change_point_sha: v.changePointSha,
					change_point_at: v.changePointAt,
					evidence: v.evidence
				}))
			)
		]
	);
}

/** Re-analyses the given tests of one project from their stored histories. */
export async function analyseTests(db: pg.Pool | pg.ClientBase, projectId: string, testIds: string[], ctx?: ProjectContext): Promise<number> {
	const context = ctx ?? (await projectContext(db, projectId));
	const runCache = new Map<string, RunRow>();
	let done = 0;
	for (let i = 0; i < testIds.length; i += TEST_CHUNK) {
		const chunk = testIds.slice(i, i + TEST_CHUNK);
		const histories = await loadHistories(db, chunk, context, runCache);
		const verdicts: Array<[string, Verdict]> = [];
		const cutBroken: string[] = [];
		for (const [testId, obs] of histories) {
			// Infrastructure is judged per job (runs.infra_failure), and by error: fingerprints seen (nearly)
			// only in such jobs (a generic message that also fails ordinary tests never qualifies).
			const verdict = analyzeTest(obs, context.settings, { infraFingerprints: context.infraFingerprints });
			if (verdict.state === 'broken' && obs.length >= HISTORY_LIMIT) cutBroken.push(testId);
			else verdicts.push([testId, verdict]);
		}
		if (cutBroken.length > 0) {
			for (const [testId, obs] of await loadHistories(db, cutBroken, context, runCache, EXTENDED_HISTORY_LIMIT)) {
				verdicts.push([testId, analyzeTest(obs, context.settings, { infraFingerprints: context.infraFingerprints })]);
			}
		}
		const before = await healthBefore(db, verdicts.map(([id]) => id));
		await saveVerdicts(db, projectId, verdicts);
		await afterVerdicts(db, projectId, verdicts, before, context.quarantinePolicy);
		done += verdicts.length;
	}
	return done;
}

/**
 * Records what the new verdicts changed (a test became flaky or broken, or was fixed) and applies
 * the automatic quarantine. Each event is written once: by the analysis that saw the change.
 */
async function afterVerdicts(
	db: pg.Pool | pg.ClientBase,
	projectId: string,
	verdicts: Array<[string, Verdict]>,
	before: Map<string, HealthBefore>,
	policy: QuarantinePolicy
): Promise<void> {
	const events: TestEventInput[] = [];
	const now = new Date();
	for (const [testId, v] of verdicts) {
		const event = verdictEvent(projectId, testId, before.get(testId), v);
		if (event) events.push(event);
	}
	await recordEvents(db, events);
	for (const [testId, v] of verdicts) {
		const action = policyAction(policy, before.get(testId), v, now);
		if (!action) continue;
		const evidence = { score: v.score, scoreLow: v.scoreLow, scoreHigh: v.scoreHigh };
		// Each quarantine change (its row, the test's state, its event) is one transaction.
		const atomically = (fn: (c: pg.ClientBase) => Promise<unknown>) => ('totalCount' in db ? transaction(db as pg.Pool, fn) : fn(db));
		if ('release' in action) await atomically((c) => releaseByPolicy(c, { projectId, testId, quarantineId: action.release, state: v.state, evidence }));
		else await atomically((c) => quarantineTest(c, { projectId, testId, reason: action.quarantine.reason, by: POLICY, expiresAt: action.quarantine.expiresAt, evidence }));
	}
}

/**
 * The tests a finished run touched that need a full analysis. Most of a run cannot change a
 * verdict, and only gets its counters bumped — that is what keeps the analysis after a 10k-test
 * run within a second or two:
 *  - a healthy test that passed (or was skipped) stays healthy — unless it failed on the same commit
 *    in another run of the project: a pass there is "mixed outcomes on one commit";
 *  - a broken test that failed on every attempt stays broken;
 *  - a flaky test that passed stays flaky while its clean streak is short of what the "fixed"
 *    rule asks (the streak is counted on, so the run that completes it gets a full analysis);
 *  - a test skipped in every run that is skipped again stays skipped.
 * Healthy and flaky tests whose figures cover all branches (too few default-branch runs yet), and
 * broken ones failing off the default branch, get a full analysis: where such a run counts needs it.
 */
async function splitRunTests(db: pg.Pool | pg.ClientBase, runId: string, defaultBranches: string[]): Promise<{ full: string[]; fast: number }> {
	// Tests that failed (or passed only on retry) on this run's commit in another run of the project.
	const failedOnCommit = await db.query<{ test_id: string }>(
		`SELECT DISTINCT x.test_id
		 FROM runs ru JOIN runs o ON o.project_id = ru.project_id AND o.commit_sha = ru.commit_sha AND o.id <> ru.id
		 JOIN test_results x ON x.run_id = o.id
		 WHERE ru.id = $1 AND x.outcome IN ('unexpected', 'flaky')`,
		[runId]
	);
	const mixed = failedOnCommit.rows.map((r) => r.test_id);
	// The verdict's figures (evidence.figures) are bumped too, into the bucket the engine would put
	// the run in; a test whose run set is not yet the default branch's gets a full analysis.
	const onDefault = `COALESCE(ru.is_default_branch, ru.branch = ANY($3::text[]), false)`;
	const defaultRunSet = `h.evidence->'figures'->>'runSet' = 'default-branch'`;
	// Only a run newer than every run the stored verdict saw can be added to it: an older one may
	// already be in it (a full analysis reads every stored result, also of runs still queued).
	const fastPath = `ru.started_at > h.last_seen_at AND (
		(h.state = 'healthy' AND r.outcome IN ('expected', 'skipped') AND NOT (r.test_id = ANY($2::uuid[])) AND ${defaultRunSet})
		OR (h.state = 'skipped' AND r.outcome = 'skipped' AND jsonb_typeof(h.evidence->'figures') = 'object')
		OR (h.state = 'broken' AND r.outcome = 'unexpected' AND r.failed_attempts >= r.attempts AND ${onDefault}
		    AND jsonb_typeof(h.evidence->'figures') = 'object')
		OR (h.state = 'flaky' AND r.outcome = 'expected' AND ${defaultRunSet}
		    AND jsonb_typeof(h.evidence->'fixedRule') = 'object'
		    AND (h.evidence->'fixedRule'->>'cleanRunsSince')::int + 1 < (h.evidence->'fixedRule'->>'requiredRuns')::int)
	)`;
	const bucket = `(CASE WHEN r.outcome = 'skipped' THEN '{figures,notCounted,skipped}'
		WHEN r.outcome = 'unexpected' THEN '{figures,notCounted,broken}'
		WHEN ${onDefault} THEN '{figures,countedRuns}'
		ELSE '{figures,notCounted,otherBranches}' END)::text[]`;
	const figures = `jsonb_set(jsonb_set(h.evidence, '{figures,totalRuns}', to_jsonb((h.evidence#>>'{figures,totalRuns}')::int + 1)),
		${bucket}, to_jsonb(COALESCE((h.evidence#>>${bucket})::int, 0) + 1))`;
	const bumped = await db.query(
		`UPDATE test_health h SET
		   runs = h.runs + CASE WHEN r.outcome = 'skipped' THEN 0 ELSE 1 END,
		   failures = h.failures + CASE WHEN r.outcome = 'unexpected' THEN 1 ELSE 0 END,
		   flake_rate = CASE WHEN ${bucket} = '{figures,countedRuns}'
		     THEN (h.evidence#>>'{figures,failedRuns}')::float8 / ((h.evidence#>>'{figures,countedRuns}')::int + 1) ELSE h.flake_rate END,
		   last_seen_at = GREATEST(h.last_seen_at, ru.started_at),
		   evidence = CASE WHEN h.state = 'flaky' AND ${onDefault}
		     THEN jsonb_set(${figures}, '{fixedRule,cleanRunsSince}', to_jsonb((h.evidence->'fixedRule'->>'cleanRunsSince')::int + 1))
		     ELSE ${figures} END,
		   analyzed_at = now()
		 FROM test_results r JOIN runs ru ON ru.id = r.run_id
		 WHERE r.run_id = $1 AND h.test_id = r.test_id AND ${fastPath}`,
		[runId, mixed, defaultBranches]
	);
	const { rows } = await db.query<{ test_id: string }>(
		`SELECT r.test_id FROM test_results r JOIN runs ru ON ru.id = r.run_id LEFT JOIN test_health h ON h.test_id = r.test_id
		 WHERE r.run_id = $1 AND (h.test_id IS NULL OR NOT COALESCE(${fastPath}, false))`,
		[runId, mixed, defaultBranches]
	);
	return { full: rows.map((r) => r.test_id), fast: bumped.rowCount ?? 0 };
}

/**
 * How much one batch takes on: up to this many jobs, and jobs covering up to this many results
 * (always at least one job). Many small runs of one project mostly touch the same tests, so a big
 * batch analyses each of them once for all its runs — that is what lets the queue keep up with
 * a hundred runs a second; a few 10k-test runs fill a batch on their own, which keeps it short.
 */
export const BATCH_JOBS = 200;
export const BATCH_RESULTS = 20_000;

async function claim(pool: pg.Pool, limit: number, results: number): Promise<ClaimedJob[]> {
	const { rows } = await pool.query<ClaimedJob>(
		`UPDATE analysis_jobs SET locked_at = now(), attempts = attempts + 1
		 WHERE id IN (
		   SELECT id FROM (
		     SELECT j.id, row_number() OVER (ORDER BY j.id) AS n,
		            sum(COALESCE(r.total, cardinality(j.test_ids), 0)) OVER (ORDER BY j.id) AS covered
		     FROM (
		       SELECT id, run_id, test_ids FROM analysis_jobs
		       WHERE (locked_at IS NULL OR locked_at < now() - interval '${LOCK_TIMEOUT}') AND attempts < ${MAX_ATTEMPTS}
		       ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED
		     ) j LEFT JOIN runs r ON r.id = j.run_id
		   ) c
		   WHERE c.n = 1 OR c.covered <= $2)
		 RETURNING id, project_id, run_id, test_ids`,
		[limit, results]
	);
	return rows;
}

/** Claims and processes a batch of jobs (see BATCH_JOBS and BATCH_RESULTS); answers what it did. */
export async function processAnalysisJobs(pool: pg.Pool, limit = BATCH_JOBS, results = BATCH_RESULTS): Promise<AnalysisStats> {
	const jobs = await claim(pool, limit, results);
	const stats: AnalysisStats = { jobs: jobs.length, tests: 0, fastPath: 0, analysed: 0 };
	const byProject = new Map<string, ClaimedJob[]>();
	for (const j of jobs) {
		if (!byProject.has(j.project_id)) byProject.set(j.project_id, []);
		byProject.get(j.project_id)!.push(j);
	}
	for (const [projectId, list] of byProject) {
		try {
			const ctx = await projectContext(pool, projectId, { infraFingerprints: false });
			const tests = new Set<string>();
			for (const job of list) {
				if (job.run_id) {
					const infra = await judgeRun(pool, job.run_id, ctx.guard);
					if (infra) {
						// Its failures are now infrastructure: every test of the run needs a new verdict.
						const all = await pool.query<{ test_id: string }>(`SELECT test_id FROM test_results WHERE run_id = $1`, [job.run_id]);
						for (const r of all.rows) tests.add(r.test_id);
					} else {
						const split = await splitRunTests(pool, job.run_id, ctx.defaultBranches);
						stats.fastPath += split.fast;
						for (const t of split.full) tests.add(t);
					}
				}
				for (const t of job.test_ids ?? []) tests.add(t);
			}
			// After judging: the runs just judged count towards the infrastructure fingerprints.
			ctx.infraFingerprints = await projectInfraFingerprints(pool, projectId, ctx.guard);
			stats.tests += tests.size;
			// Tests that ran are active again, before their verdicts (events and quarantine skip inactive tests).
			await reactivateTestsOfRuns(pool, list.flatMap((j) => (j.run_id ? [j.run_id] : [])));
			stats.analysed += await analyseTests(pool, projectId, [...tests], ctx);
			await pool.query(`DELETE FROM analysis_jobs WHERE id = ANY($1::bigint[])`, [list.map((j) => j.id)]);
			// After the delete: the last worker to finish a pipeline's runs sees it complete.
			const runIds = list.flatMap((j) => (j.run_id ? [j.run_id] : []));
			await requestReportsForRuns(pool, runIds);
			await refreshActivity(pool, projectId, runIds, ctx);
		} catch (err) {
			await pool.query(`UPDATE analysis_jobs SET locked_at = NULL, last_error = $2 WHERE id = ANY($1::bigint[])`, [
				list.map((j) => j.id),
				(err as Error).message.slice(0, 2000)
			]);
			throw err;
		}
	}
	return stats;
}

/**
 * When a default-branch run was among these, its pipeline may have completed the window of
 * `inactiveAfterPipelines`: which tests are inactive is recomputed.
 */
async function refreshActivity(db: pg.Pool, projectId: string, runIds: string[], ctx: ProjectContext): Promise<void> {
	if (await anyDefaultBranchRun(db, runIds, ctx.defaultBranches)) {
		await refreshInactiveTests(db, projectId, ctx.defaultBranches, ctx.settings.inactiveAfterPipelines);
	}
}

/** Works the queue until it is empty (tests, the recompute command and benchmarks use this). */
export async function drainAnalysisQueue(pool: pg.Pool): Promise<AnalysisStats> {
	const total: AnalysisStats = { jobs: 0, tests: 0, fastPath: 0, analysed: 0 };
	for (;;) {
		const s = await processAnalysisJobs(pool);
		if (s.jobs === 0) return total;
		total.jobs += s.jobs;
		total.tests += s.tests;
		total.fastPath += s.fastPath;
		total.analysed += s.analysed;
	}
}

/** Judges every run again and re-analyses every test of a project (or of all projects). */
export async function recompute(pool: pg.Pool, projectId?: string): Promise<{ projects: number; runs: number; tests: number }> {
	const projects = projectId
		? [projectId]
		: (await pool.query<{ id: string }>(`SELECT id FROM projects ORDER BY created_at`)).rows.map((r) => r.id);
	let runs = 0;
	let tests = 0;
	for (const id of projects) {
		const ctx = await projectContext(pool, id, { infraFingerprints: false });
		const runIds = (await pool.query<{ id: string }>(`SELECT id FROM runs WHERE project_id = $1 AND status <> 'running'`, [id])).rows;
		for (const r of runIds) await judgeRun(pool, r.id, ctx.guard);
		runs += runIds.length;
		// After judging: the runs' new verdicts decide the infrastructure fingerprints.
		ctx.infraFingerprints = await projectInfraFingerprints(pool, id, ctx.guard);
		const testIds = (await pool.query<{ id: string }>(`SELECT id FROM tests WHERE project_id = $1`, [id])).rows.map((r) => r.id);
		tests += await analyseTests(pool, id, testIds, ctx);
		await refreshInactiveTests(pool, id, ctx.defaultBranches, ctx.settings.inactiveAfterPipelines);
	}
	return { projects: projects.length, runs, tests };
}
