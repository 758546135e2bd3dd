import type pg from 'pg';

type Db = pg.Pool | pg.ClientBase;

/** What `projects.settings` may hold; every key is optional and falls back to the defaults. */
export interface StoredSettings {
	analysis?: Record<string, unknown>;
	infraGuard?: Record<string, unknown>;
	defaultBranch?: string;
	quarantinePolicy?: Record<string, unknown>;
}

export async function projectSettings(db: Db, projectId: string): Promise<StoredSettings | null> {
	const { rows } = await db.query<{ settings: StoredSettings }>(`SELECT settings FROM projects WHERE id = $1`, [projectId]);
	return rows[0] ? (rows[0].settings ?? {}) : null;
}

/** Replaces the analysis keys of the project's settings, leaving any other key alone. */
export async function saveProjectSettings(db: Db, projectId: string, settings: StoredSettings): Promise<StoredSettings | null> {
	const { rows } = await db.query<{ settings: StoredSettings }>(
		`UPDATE projects SET settings = (settings - 'analysis' - 'infraGuard' - 'defaultBranch' - 'quarantinePolicy') || $2::jsonb, updated_at = now()
		 WHERE id = $1 RETURNING settings`,
		[projectId, JSON.stringify(settings)]
	);
	return rows[0]?.settings ?? null;
}

/** Queues every test of the project for analysis (after its thresholds changed, or on an admin's request), in chunks. */
export async function enqueueProjectAnalysis(db: Db, projectId: string, chunk = 500): Promise<{ jobs: number; tests: number }> {
	const { rows } = await db.query<{ jobs: number; tests: number }>(
		`WITH t AS (SELECT id, (row_number() OVER (ORDER BY id) - 1) / $2 AS part FROM tests WHERE project_id = $1),
		      ins AS (INSERT INTO analysis_jobs (project_id, test_ids)
		              SELECT $1, array_agg(id) FROM t GROUP BY part RETURNING cardinality(test_ids) AS n)
		 SELECT count(*)::int AS jobs, coalesce(sum(n), 0)::int AS tests FROM ins`,
		[projectId, chunk]
	);
	return rows[0]!;
}
