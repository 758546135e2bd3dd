import type pg from 'pg';
import { analyseTests } from '../jobs/analysis.js';

/** Puts a test in quarantine (replacing an active quarantine of it); answers the record's id. */
export async function quarantineTest(
	client: pg.ClientBase,
	input: { projectId: string; testId: string; reason: string; by: string; expiresAt: Date | null }
): Promise<string> {
	await client.query(
		`UPDATE quarantines SET released_at = now(), released_by = $2 WHERE test_id = $1 AND released_at IS NULL`,
		[input.testId, input.by]
	);
	const { rows } = await client.query<{ id: string }>(
		`INSERT INTO quarantines (project_id, test_id, reason, created_by, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		[input.projectId, input.testId, input.reason, input.by, input.expiresAt]
	);
	await client.query(
		`INSERT INTO test_health (test_id, project_id, state, state_since) VALUES ($1, $2, 'quarantined', now())
		 ON CONFLICT (test_id) DO UPDATE SET state = 'quarantined',
		   state_since = CASE WHEN test_health.state = 'quarantined' THEN test_health.state_since ELSE now() END`,
		[input.testId, input.projectId]
	);
	return rows[0]!.id;
}

/** Releases a test's active quarantine and lets the analysis decide its state again. */
export async function releaseTest(pool: pg.Pool, projectId: string, testId: string, by: string): Promise<boolean> {
	const { rowCount } = await pool.query(
		`UPDATE quarantines SET released_at = now(), released_by = $2
		 WHERE test_id = $1 AND released_at IS NULL AND (expires_at IS NULL OR expires_at > now())`,
		[testId, by]
	);
	if (!rowCount) return false;
	await pool.query(`UPDATE test_health SET state = 'healthy' WHERE test_id = $1 AND state = 'quarantined'`, [testId]);
	await analyseTests(pool, projectId, [testId]);
	return true;
}

/** Quarantines whose expiry passed: released, and their tests analysed again. */
export async function releaseExpiredQuarantines(pool: pg.Pool): Promise<number> {
	const { rows } = await pool.query<{ project_id: string; test_id: string }>(
		`UPDATE quarantines SET released_at = expires_at, released_by = 'expiry'
		 WHERE released_at IS NULL AND expires_at IS NOT NULL AND expires_at <= now()
		 RETURNING project_id, test_id`
	);
	for (const r of rows) {
		const active = await pool.query(
			`SELECT 1 FROM quarantines WHERE test_id = $1 AND released_at IS NULL AND (expires_at IS NULL OR expires_at > now())`,
			[r.test_id]
		);
		if (active.rowCount) continue;
		await pool.query(`UPDATE test_health SET state = 'healthy' WHERE test_id = $1 AND state = 'quarantined'`, [r.test_id]);
		await analyseTests(pool, r.project_id, [r.test_id]);
	}
	return rows.length;
}
