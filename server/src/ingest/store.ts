import { createHash } from 'node:crypto';
import type pg from 'pg';
import { clipText, storableText, type CiMetadata, type RunStatus, type TestResultData } from 'flackyness-reporter/protocol';
import { transaction } from '../db/database.js';
import { stripAnsi } from 'flackyness-reporter/playwright-data';
import { errorFingerprint } from './errors.js';

/**
 * Bulk storage of runs and results. Every write is set-based (one statement per table per batch,
 * rows passed as one JSON parameter), and each call runs in the transaction it is given, so that a
 * failed request leaves nothing behind.
 */

export type RunSource = 'reporter' | 'json_upload';

export interface RunIdentity {
	idempotencyKey: string;
	/** Shards of one pipeline job share it: pipeline + job name without the " i/N" suffix. */
	groupKey: string | null;
}

/** "e2e 1/3" (GitLab) and "e2e: [1/3]" (gitlab-ci-local) both name the job "e2e". */
export function baseJobName(jobName: string): string {
	return jobName
		.replace(/:?\s*\[\d+\/\d+\]\s*$/, '')
		.replace(/\s+\d+\/\d+\s*$/, '')
		.trim();
}

export function runIdentity(ci: CiMetadata, opts: { clientKey?: string; contentHash?: string }): RunIdentity {
	const provider = ci.provider ?? 'other';
	const groupKey =
		ci.pipelineId && ci.jobName ? `${provider}:${ci.pipelineId}:${baseJobName(ci.jobName)}` : ci.pipelineId ? `${provider}:${ci.pipelineId}` : null;
	let idempotencyKey: string;
	if (opts.clientKey) idempotencyKey = `client:${opts.clientKey}`;
	else if (ci.jobId) idempotencyKey = `ci:${provider}:${ci.pipelineId ?? ''}:${ci.jobId}:${ci.shardIndex ?? ''}`;
	else if (opts.contentHash) idempotencyKey = `sha256:${opts.contentHash}`;
	else idempotencyKey = `anon:${createHash('sha256').update(`${Date.now()}:${Math.random()}`).digest('hex')}`;
	return { idempotencyKey, groupKey };
}

export interface OpenRunInput {
	projectId: string;
	identity: RunIdentity;
	source: RunSource;
	ci: CiMetadata;
	playwrightVersion?: string | undefined;
	startedAt?: string | undefined;
	/** SHA-256 of an uploaded report. */
	contentHash?: string | undefined;
}

/**
 * Inserts the run unless its idempotency key exists; either way answers its id, and the content
 * hash the existing run was stored with.
 */
export async function openRun(
	client: pg.ClientBase,
	input: OpenRunInput
): Promise<{ id: string; created: boolean; contentHash: string | null }> {
	const { ci } = input;
	const isDefault = ci.branch && ci.defaultBranch ? ci.branch === ci.defaultBranch : null;
	const inserted = await client.query<{ id: string }>(
		`INSERT INTO runs (project_id, idempotency_key, group_key, source, ci_provider, branch, is_default_branch, commit_sha,
		   commit_title, commit_author, commit_timestamp, pipeline_id, pipeline_iid, pipeline_url, pipeline_source, job_id,
		   job_name, job_url, mr_iid, mr_source_branch, mr_target_branch, shard_index, shard_total, playwright_version, started_at,
		   content_hash, project_path)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24,
		   COALESCE($25::timestamptz, now()), $26, $27)
		 ON CONFLICT (project_id, idempotency_key) DO NOTHING
		 RETURNING id`,
		[
			input.projectId,
			input.identity.idempotencyKey,
			input.identity.groupKey,
			input.source,
			ci.provider ?? null,
			ci.branch ?? ci.tag ?? null,
			isDefault,
			ci.commitSha ?? null,
			ci.commitTitle ?? null,
			ci.commitAuthor ?? null,
			ci.commitTimestamp ?? null,
			ci.pipelineId ?? null,
			ci.pipelineIid ?? null,
			ci.pipelineUrl ?? null,
			ci.pipelineSource ?? null,
			ci.jobId ?? null,
			ci.jobName ?? null,
			ci.jobUrl ?? null,
			ci.mrIid ?? null,
			ci.mrSourceBranch ?? null,
			ci.mrTargetBranch ?? null,
			ci.shardIndex ?? null,
			ci.shardTotal ?? null,
			input.playwrightVersion ?? null,
			input.startedAt ?? null,
			input.contentHash ?? null,
			ci.projectPath ?? null
		]
	);
	if (inserted.rows[0]) return { id: inserted.rows[0].id, created: true, contentHash: input.contentHash ?? null };
	const existing = await client.query<{ id: string; content_hash: string | null }>(
		`SELECT id, content_hash FROM runs WHERE project_id = $1 AND idempotency_key = $2`,
		[input.projectId, input.identity.idempotencyKey]
	);
	const run = existing.rows[0]!;
	return { id: run.id, created: false, contentHash: run.content_hash };
}

/** sha256(project name, file, title path) — the test's identity inside a project. */
export function testKey(r: Pick<TestResultData, 'file' | 'titlePath' | 'projectName'>): string {
	return createHash('sha256')
		.update(JSON.stringify([r.projectName, r.file, r.titlePath]))
		.digest('hex');
}

interface PreparedResult {
	key: string;
	data: TestResultData;
	message: string | null;
	stack: string | null;
	fingerprint: string | null;
}

/** Strips ANSI codes, fingerprints errors and keeps one result per identity (the last one). */
function prepare(results: TestResultData[]): PreparedResult[] {
	const byKey = new Map<string, PreparedResult>();
	for (const data of results) {
		const key = testKey(data);
		const message = data.error ? storableText(stripAnsi(data.error.message)) : null;
		byKey.set(key, {
			key,
			data,
			message,
			stack: data.error?.stack ? storableText(stripAnsi(data.error.stack)) : null,
			fingerprint: message !== null ? errorFingerprint(message) : null
		});
	}
	// A stable order keeps concurrent uploads of overlapping tests from deadlocking on row locks.
	return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export interface StoredBatch {
	accepted: number;
	duplicates: number;
	testIds: string[];
	/** With `deferClusters`: the error-cluster counts still to record (recordErrorClusters). */
	clusters: ClusterDelta[];
}

/** New occurrences of one error fingerprint in a batch. */
export interface ClusterDelta {
	fingerprint: string;
	message: string;
	n: number;
	at: string;
}

interface KnownTest {
	id: string;
	key: string;
	tags: string[] | null;
	last_seen_at: Date;
	owners: string[] | null;
	owners_at: Date | null;
}

/** Whether `r` carries owners that differ from the test's and are not older than what it holds. */
function ownersChanged(t: KnownTest, r: PreparedResult): boolean {
	const owners = r.data.owners;
	if (owners === undefined) return false;
	if (t.owners_at !== null && Date.parse(r.data.startedAt) < t.owners_at.getTime()) return false;
	return (t.owners ?? []).join('\u0001') !== owners.join('\u0001');
}

/** Tests are touched at most this often: a write per test per run would dominate ingestion. */
const LAST_SEEN_GRANULARITY_MS = 60 * 60 * 1000;

/**
 * Ids of the batch's tests: one indexed read for those known already, an insert for new ones,
 * and an update only where tags or owners changed or last_seen_at is more than an hour behind.
 * Owners come from the latest result that carried them (`owners_at`): a result without owners,
 * or one older than the owners held, leaves them alone.
 */
async function resolveTests(client: pg.ClientBase, projectId: string, rows: PreparedResult[]): Promise<Map<string, string>> {
	const keys = rows.map((r) => r.key);
	const known = await client.query<KnownTest>(
		`SELECT id, key, tags, last_seen_at, owners, owners_at FROM tests WHERE project_id = $1 AND key = ANY($2::text[])`,
		[projectId, keys]
	);
	const ids = new Map(known.rows.map((t) => [t.key, t.id]));
	const byKey = new Map(known.rows.map((t) => [t.key, t]));

	const fresh = rows.filter((r) => !ids.has(r.key));
	if (fresh.length > 0) {
		const inserted = await client.query<{ id: string; key: string }>(
			`INSERT INTO tests (project_id, key, file, title_path, title, project_name, tags, first_seen_at, last_seen_at, owners, owners_at)
			 SELECT $1, r.key, r.file, r.title_path, r.title, r.project_name, r.tags, r.seen, r.seen, COALESCE(r.owners, '{}'),
			   CASE WHEN r.owners IS NULL THEN NULL ELSE r.seen END
			 FROM jsonb_to_recordset($2::jsonb)
			   AS r(key text, file text, title_path text[], title text, project_name text, tags text[], seen timestamptz, owners text[])
			 ON CONFLICT (project_id, key) DO NOTHING
			 RETURNING id, key`,
			[
				projectId,
				JSON.stringify(
					fresh.map((r) => ({
						key: r.key,
						file: r.data.file,
						title_path: r.data.titlePath,
						title: r.data.titlePath[r.data.titlePath.length - 1],
						project_name: r.data.projectName,
						tags: r.data.tags,
						seen: r.data.startedAt,
						owners: r.data.owners ?? null
					}))
				)
			]
		);
		for (const t of inserted.rows) ids.set(t.key, t.id);
		// Inserted meanwhile by a concurrent upload: its row is committed (ON CONFLICT waited for it).
		const raced = fresh.filter((r) => !ids.has(r.key)).map((r) => r.key);
		if (raced.length > 0) {
			const again = await client.query<{ id: string; key: string }>(
				`SELECT id, key FROM tests WHERE project_id = $1 AND key = ANY($2::text[])`,
				[projectId, raced]
			);
			for (const t of again.rows) ids.set(t.key, t.id);
		}
	}

	const stale = rows.filter((r) => {
		const t = byKey.get(r.key);
		if (!t) return false;
		const seen = Date.parse(r.data.startedAt);
		const tagsChanged = (t.tags ?? []).join('\u0001') !== r.data.tags.join('\u0001');
		return tagsChanged || ownersChanged(t, r) || seen - t.last_seen_at.getTime() > LAST_SEEN_GRANULARITY_MS;
	});
	if (stale.length > 0) {
		// The owners' age is compared again here: a concurrent upload may have written newer ones since the read.
		await client.query(
			`UPDATE tests AS t SET tags = r.tags, last_seen_at = GREATEST(t.last_seen_at, r.seen),
			   owners = CASE WHEN r.owners IS NOT NULL AND (t.owners_at IS NULL OR r.seen >= t.owners_at) THEN r.owners ELSE t.owners END,
			   owners_at = CASE WHEN r.owners IS NOT NULL AND (t.owners_at IS NULL OR r.seen >= t.owners_at) THEN r.seen ELSE t.owners_at END
			 FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, tags text[], seen timestamptz, owners text[])
			 WHERE t.id = r.id`,
			[
				JSON.stringify(
					stale.map((r) => ({ id: byKey.get(r.key)!.id, tags: r.data.tags, seen: r.data.startedAt, owners: r.data.owners ?? null }))
				)
			]
		);
	}
	return ids;
}

/**
 * Upserts the tests and inserts the results of one batch; results already stored are skipped.
 *
 * Every upload of a project with a common failure updates the same error_clusters row, and that
 * row stays locked until the transaction commits: concurrent uploads would queue on it. With
 * `deferClusters` the counts are answered instead, for recordErrorClusters after the commit.
 */
export async function storeResults(
	client: pg.ClientBase,
	projectId: string,
	runId: string,
	results: TestResultData[],
	opts: { deferClusters?: boolean } = {}
): Promise<StoredBatch> {
	if (results.length === 0) return { accepted: 0, duplicates: 0, testIds: [], clusters: [] };
	const rows = prepare(results);
	const idByKey = await resolveTests(client, projectId, rows);

	// Scalar arrays decode much faster in PostgreSQL than one JSON document of the same rows.
	const col = <T>(f: (r: PreparedResult) => T) => rows.map(f);
	const inserted = await client.query<{ test_id: string }>(
		`INSERT INTO test_results (project_id, run_id, test_id, outcome, expected_status, status, attempts, failed_attempts,
		   duration_ms, started_at, error_message, error_stack, error_location, error_fingerprint, annotations, attachments)
		 SELECT $1, $2, r.test_id, r.outcome::outcome, r.expected_status, r.status, r.attempts, r.failed_attempts,
		   r.duration_ms, r.started_at, r.error_message, r.error_stack, r.error_location, r.error_fingerprint, r.annotations::jsonb,
		   r.attachments::jsonb
		 FROM unnest($3::uuid[], $4::text[], $5::text[], $6::text[], $7::int[], $8::int[], $9::int[], $10::timestamptz[],
		   $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[])
		   AS r(test_id, outcome, expected_status, status, attempts, failed_attempts, duration_ms, started_at,
		   error_message, error_stack, error_location, error_fingerprint, annotations, attachments)
		 ON CONFLICT (run_id, test_id, started_at) DO NOTHING
		 RETURNING test_id`,
		[
			projectId,
			runId,
			col((r) => idByKey.get(r.key)!),
			col((r) => r.data.outcome),
			col((r) => r.data.expectedStatus),
			col((r) => r.data.status),
			col((r) => r.data.attempts),
			col((r) => r.data.failedAttempts),
			col((r) => r.data.durationMs),
			col((r) => r.data.startedAt),
			col((r) => r.message),
			col((r) => r.stack),
			col((r) => (r.data.error?.location ? storableText(r.data.error.location) : null)),
			col((r) => r.fingerprint),
			col((r) => (r.data.annotations.length ? JSON.stringify(r.data.annotations) : null)),
			col((r) => (r.data.attachments?.length ? JSON.stringify(r.data.attachments) : null))
		]
	);

	const insertedIds = new Set(inserted.rows.map((r) => r.test_id));
	const fresh = rows.filter((r) => insertedIds.has(idByKey.get(r.key)!));
	await bumpRunCounts(client, runId, fresh);
	const clusters = clusterDeltas(fresh);
	if (!opts.deferClusters) await recordErrorClusters(client, projectId, clusters);
	return {
		accepted: inserted.rows.length,
		duplicates: results.length - inserted.rows.length,
		testIds: [...insertedIds],
		clusters: opts.deferClusters ? clusters : []
	};
}

async function bumpRunCounts(client: pg.ClientBase, runId: string, fresh: PreparedResult[]): Promise<void> {
	const c = { expected: 0, unexpected: 0, flaky: 0, skipped: 0 };
	for (const r of fresh) c[r.data.outcome]++;
	await client.query(
		`UPDATE runs SET total = total + $2, expected = expected + $3, unexpected = unexpected + $4, flaky = flaky + $5,
		   skipped = skipped + $6, last_activity_at = now()
		 WHERE id = $1`,
		[runId, fresh.length, c.expected, c.unexpected, c.flaky, c.skipped]
	);
}

function clusterDeltas(fresh: PreparedResult[]): ClusterDelta[] {
	const one: ClusterDelta[] = [];
	for (const r of fresh) {
		if (r.fingerprint && r.message !== null) one.push({ fingerprint: r.fingerprint, message: clipText(r.message, 4000), n: 1, at: r.data.startedAt });
	}
	return mergeClusterDeltas(one);
}

/** Merges deltas of one fingerprint (of results, or of several batches of one run); the first message stays. */
export function mergeClusterDeltas(deltas: ClusterDelta[]): ClusterDelta[] {
	const out = new Map<string, ClusterDelta>();
	for (const d of deltas) {
		const c = out.get(d.fingerprint);
		if (!c) out.set(d.fingerprint, { ...d });
		else {
			c.n += d.n;
			if (d.at > c.at) c.at = d.at;
		}
	}
	return [...out.values()];
}

/**
 * Adds occurrences to the project's error clusters. Outside a transaction (on the pool) it holds
 * the clusters' rows only for its own statement.
 */
export async function recordErrorClusters(db: pg.ClientBase | pg.Pool, projectId: string, clusters: ClusterDelta[]): Promise<void> {
	if (clusters.length === 0) return;
	// A stable order keeps concurrent upserts of the same fingerprints from deadlocking.
	const rows = [...clusters].sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : a.fingerprint > b.fingerprint ? 1 : 0));
	await db.query(
		`INSERT INTO error_clusters AS e (project_id, fingerprint, message, occurrences, first_seen_at, last_seen_at)
		 SELECT $1, r.fingerprint, r.message, r.n, r.at, r.at
		 FROM jsonb_to_recordset($2::jsonb) AS r(fingerprint text, message text, n int, at timestamptz)
		 ON CONFLICT (project_id, fingerprint) DO UPDATE
		   SET occurrences = e.occurrences + EXCLUDED.occurrences,
		       last_seen_at = GREATEST(e.last_seen_at, EXCLUDED.last_seen_at),
		       first_seen_at = LEAST(e.first_seen_at, EXCLUDED.first_seen_at)`,
		[projectId, JSON.stringify(rows)]
	);
}

/** Marks a run finished and queues the analysis of every test it touched. */
export async function completeRun(
	client: pg.ClientBase,
	runId: string,
	done: { status: RunStatus | 'incomplete'; durationMs?: number | undefined; enqueue?: boolean }
): Promise<void> {
	await client.query(
		`UPDATE runs SET status = $2::run_status, ended_at = COALESCE(ended_at, now()),
		   duration_ms = COALESCE($3::int, duration_ms, LEAST(extract(epoch FROM (now() - started_at)) * 1000, 2147483647)::int),
		   last_activity_at = now()
		 WHERE id = $1`,
		[runId, done.status, done.durationMs === undefined ? null : Math.min(Math.round(done.durationMs), 2_147_483_647)]
	);
	if (done.enqueue !== false) await enqueueRunAnalysis(client, runId);
}

/** One job per finished run; the worker expands it to the tests the run touched. */
export async function enqueueRunAnalysis(client: pg.ClientBase, runId: string): Promise<void> {
	await client.query(`INSERT INTO analysis_jobs (project_id, run_id) SELECT project_id, id FROM runs WHERE id = $1`, [runId]);
}

/** For results that arrive after their run was finished (a late, retried batch). */
export async function enqueueTestAnalysis(client: pg.ClientBase, projectId: string, testIds: string[]): Promise<void> {
	if (testIds.length === 0) return;
	await client.query(`INSERT INTO analysis_jobs (project_id, test_ids) VALUES ($1, $2::uuid[])`, [projectId, testIds]);
}

export interface RunSummary {
	id: string;
	projectId: string;
	status: string;
	total: number;
	expected: number;
	unexpected: number;
	flaky: number;
	skipped: number;
}

export async function findRun(client: pg.ClientBase | pg.Pool, runId: string): Promise<RunSummary | null> {
	const { rows } = await client.query<RunSummary>(
		`SELECT id, project_id AS "projectId", status, total, expected, unexpected, flaky, skipped FROM runs WHERE id = $1`,
		[runId]
	);
	return rows[0] ?? null;
}

/** Closes streamed runs that went quiet; safe to run on every instance at once. */
export async function closeStaleRuns(pool: pg.Pool, olderThanMinutes: number): Promise<string[]> {
	return transaction(pool, async (client) => {
		const { rows } = await client.query<{ id: string }>(
			`UPDATE runs SET status = 'incomplete', ended_at = last_activity_at,
			   duration_ms = LEAST(extract(epoch FROM (last_activity_at - started_at)) * 1000, 2147483647)::int
			 WHERE status = 'running' AND last_activity_at < now() - make_interval(mins => $1)
			 RETURNING id`,
			[olderThanMinutes]
		);
		for (const r of rows) await enqueueRunAnalysis(client, r.id);
		return rows.map((r) => r.id);
	});
}

