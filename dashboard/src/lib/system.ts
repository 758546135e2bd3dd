/** What the admin API's health endpoint answers (GET /api/v1/admin/health). */
export interface SystemHealth {
	databaseBytes: number;
	tables: Array<{ table: string; rows: number; rowsExact: boolean; bytes: number }>;
	partitions: Array<{ name: string; from: string | null; to: string | null; rows: number; rowsExact: boolean; bytes: number }>;
	analysisQueue: { pending: number; oldestEnqueuedAt: string | null };
	runningRuns: number;
	retentionDays: number;
	/** Pipeline reports to GitLab (MR notes, commit statuses) over every project. */
	gitlabReports: {
		pending: number;
		retrying: number;
		failed: number;
		lastFailure: { at: string; pipelineId: string; kind: string | null; message: string } | null;
		lastSuccess: { at: string; pipelineId: string; outcome: string | null } | null;
	};
}

/** 1536 → "1.5 KiB": sizes as `du -h` and psql's pg_size_pretty write them. */
export function bytes(n: number): string {
	const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
	let v = n;
	let i = 0;
	while (v >= 1024 && i < units.length - 1) {
		v /= 1024;
		i++;
	}
	return i === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/**
 * A table's rows: the count, or the planner's estimate marked "≈" (the API estimates only tables of
 * a million rows or more, where counting would scan them all on every look).
 */
export function rowsLabel(rows: number, exact: boolean): string {
	return exact ? rows.toLocaleString('en') : `≈ ${rows.toLocaleString('en')}`;
}
