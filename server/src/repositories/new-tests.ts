import type pg from 'pg';

type Db = pg.Pool | pg.ClientBase;

/** Where a known test has results: on the default branch, and at all. */
export interface TestSightings {
	testId: string;
	onDefaultBranch: boolean;
	anywhere: boolean;
}

/**
 * Where the tests with these keys (see ingest/store.ts testKey) of one project have results. A run
 * is on the default branch as the analysis decides: by what it said (`is_default_branch`), else by
 * its branch being one of `defaultBranches`. Keys the project does not know are absent.
 */
export async function sightingsByKey(db: Db, projectId: string, keys: readonly string[], defaultBranches: readonly string[]): Promise<Map<string, TestSightings>> {
	const { rows } = await db.query<TestSightings & { key: string }>(
		`SELECT t.key, t.id AS "testId",
		        EXISTS (
		          SELECT 1 FROM test_results r JOIN runs ru ON ru.id = r.run_id
		          WHERE r.test_id = t.id AND COALESCE(ru.is_default_branch, ru.branch = ANY($3::text[]), false)
		        ) AS "onDefaultBranch",
		        EXISTS (SELECT 1 FROM test_results r WHERE r.test_id = t.id) AS anywhere
		 FROM tests t
		 WHERE t.project_id = $1 AND t.key = ANY($2::text[])`,
		[projectId, keys, defaultBranches]
	);
	return new Map(rows.map(({ key, ...seen }) => [key.trim(), seen]));
}
