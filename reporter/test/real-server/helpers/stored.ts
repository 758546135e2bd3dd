/**
 * What the real server stored, read with SQL, in the shapes the tests compare: per test (the
 * `Comparable` of Playwright's JSON report, or every stored column), per run, and as text to search
 * for credentials.
 */
import { readFileSync } from 'node:fs';
import type { Comparable } from '../../helpers/json-report.js';
import type { Project, RealServer } from './server.js';

/** Every column the server stores for one test in one run, with the test's identity. */
export interface StoredResult extends Omit<Comparable, 'startedAt' | 'errorFirstLine'> {
	startedAt: string;
	errorMessage: string | null;
	errorStack: string | null;
	errorLocation: string | null;
	errorFingerprint: string | null;
	attachments: { name: string; contentType: string; path: string; attempt: number }[] | null;
}

interface Row {
	file: string;
	title_path: string[];
	project_name: string;
	tags: string[] | null;
	outcome: string;
	expected_status: string;
	status: string;
	attempts: number;
	failed_attempts: number;
	duration_ms: number;
	started_at: Date;
	annotations: { type: string; description?: string }[] | null;
	error_message: string | null;
	error_stack: string | null;
	error_location: string | null;
	error_fingerprint: string | null;
	attachments: StoredResult['attachments'];
}

const identity = (r: { projectName: string; file: string; titlePath: string[] }) => JSON.stringify([r.projectName, r.file, r.titlePath]);

function byIdentity<T extends { projectName: string; file: string; titlePath: string[] }>(list: T[]): T[] {
	return list.sort((a, b) => (identity(a) < identity(b) ? -1 : identity(a) > identity(b) ? 1 : 0));
}

/** The results of these runs, one per test and run, in a stable order. */
export async function storedResults(server: RealServer, runIds: string[]): Promise<StoredResult[]> {
	const rows = await server.query<Row>(
		`SELECT t.file, t.title_path, t.project_name, t.tags, r.outcome::text AS outcome, r.expected_status, r.status, r.attempts,
		        r.failed_attempts, r.duration_ms, r.started_at, r.annotations, r.error_message, r.error_stack, r.error_location,
		        r.error_fingerprint, r.attachments
		 FROM test_results r JOIN tests t ON t.id = r.test_id
		 WHERE r.run_id = ANY($1::uuid[])`,
		[runIds]
	);
	return byIdentity(
		rows.map((r) => ({
			file: r.file,
			titlePath: r.title_path,
			projectName: r.project_name,
			tags: r.tags ?? [],
			outcome: r.outcome,
			expectedStatus: r.expected_status,
			status: r.status,
			attempts: r.attempts,
			failedAttempts: r.failed_attempts,
			durationMs: r.duration_ms,
			startedAt: r.started_at.toISOString(),
			annotations: (r.annotations ?? []).map((a) => (a.description === undefined ? { type: a.type } : { type: a.type, description: a.description })),
			errorMessage: r.error_message,
			errorStack: r.error_stack,
			errorLocation: r.error_location,
			errorFingerprint: r.error_fingerprint,
			attachments: r.attachments
		}))
	);
}

/** Stored results in the shape `fromJsonReport` gives Playwright's JSON report. */
export function asComparable(results: StoredResult[]): Comparable[] {
	return results.map((r) => ({
		file: r.file,
		titlePath: r.titlePath,
		projectName: r.projectName,
		tags: r.tags,
		outcome: r.outcome,
		expectedStatus: r.expectedStatus,
		status: r.status,
		attempts: r.attempts,
		failedAttempts: r.failedAttempts,
		durationMs: r.durationMs,
		startedAt: r.attempts > 0 ? r.startedAt : undefined,
		annotations: r.annotations,
		errorFirstLine: r.errorMessage?.split('\n')[0]
	}));
}

export interface StoredRun {
	id: string;
	idempotency_key: string;
	group_key: string | null;
	source: string;
	status: string;
	ci_provider: string | null;
	branch: string | null;
	is_default_branch: boolean | null;
	commit_sha: string | null;
	commit_title: string | null;
	pipeline_id: string | null;
	pipeline_iid: string | null;
	pipeline_url: string | null;
	pipeline_source: string | null;
	job_id: string | null;
	job_name: string | null;
	job_url: string | null;
	mr_iid: number | null;
	mr_source_branch: string | null;
	mr_target_branch: string | null;
	shard_index: number | null;
	shard_total: number | null;
	playwright_version: string | null;
	total: number;
	expected: number;
	unexpected: number;
	flaky: number;
	skipped: number;
}

/** The project's runs, oldest first. */
export async function storedRuns(server: RealServer, project: Project): Promise<StoredRun[]> {
	return server.query<StoredRun>(`SELECT * FROM runs WHERE project_id = $1 ORDER BY created_at, shard_index NULLS FIRST`, [project.id]);
}

export async function resultCount(server: RealServer, project: Project): Promise<number> {
	const [row] = await server.query<{ n: number }>(`SELECT count(*)::int AS n FROM test_results WHERE project_id = $1`, [project.id]);
	return row!.n;
}

/** Every row of every table that holds what the reporter sent, as JSON text. */
export async function dumpIngestedText(server: RealServer): Promise<string> {
	const tables = ['runs', 'test_results', 'tests', 'error_clusters'];
	const parts: string[] = [];
	for (const table of tables) {
		const rows = await server.query<{ j: string }>(`SELECT row_to_json(x)::text AS j FROM ${table} x`);
		parts.push(...rows.map((r) => r.j));
	}
	return parts.join('\n');
}

export interface Receipt {
	runId: string;
	created: boolean;
	counts: { total: number; expected: number; unexpected: number; flaky: number; skipped: number };
	url: string;
}

/** Sends a Playwright JSON report, as it is, to `POST /api/v1/reports` of the project. */
export async function uploadJsonReport(server: RealServer, project: Project, reportFile: string): Promise<Receipt> {
	const res = await fetch(`${server.url}/api/v1/reports`, {
		method: 'POST',
		headers: { authorization: `Bearer ${project.token}`, 'content-type': 'application/json' },
		body: readFileSync(reportFile)
	});
	if (res.status !== 201) throw new Error(`uploading ${reportFile}: HTTP ${res.status} ${await res.text()}`);
	return (await res.json()) as Receipt;
}
