import { expect } from 'vitest';
import type { TestApp } from './app.js';

export const ADMIN = 'test-admin-token-0123456789abcdef';

/** Creates a project through the admin API and answers its id and ingestion token. */
export async function newProject(t: TestApp, slug: string): Promise<{ id: string; token: string }> {
	const res = await t.app.inject({
		method: 'POST',
		url: '/api/v1/admin/projects',
		headers: { authorization: `Bearer ${ADMIN}` },
		payload: { slug }
	});
	expect(res.statusCode).toBe(201);
	const body = res.json();
	return { id: body.project.id, token: body.token };
}

/** Row counts of what ingestion writes, to prove that a refused request stored nothing. */
export async function counts(t: TestApp) {
	const { rows } = await t.db.pool.query(
		`SELECT (SELECT count(*)::int FROM runs) AS runs, (SELECT count(*)::int FROM test_results) AS results,
		        (SELECT count(*)::int FROM tests) AS tests, (SELECT count(*)::int FROM error_clusters) AS clusters`
	);
	return rows[0] as { runs: number; results: number; tests: number; clusters: number };
}
