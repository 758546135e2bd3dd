import type pg from 'pg';
import { recordEvents } from './events.js';

/** Puts a test in quarantine (replacing an active quarantine of it); answers the record's id. */
export async function quarantineTest(
	client: pg.Pool | pg.ClientBase,
	input: { projectId: string; testId: string; reason: string; by: string; expiresAt: Date | null; evidence?: Record<string, unknown> }
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
	await recordEvents(client, [
		{
			projectId: input.projectId,
			testId: input.testId,
			kind: 'quarantined',
			fromState: null,
			toState: 'quarantined',
			details: { quarantineId: rows[0]!.id, reason: input.reason, by: input.by, until: input.expiresAt, ...(input.evidence ?? {}) }
		}
	]);
	return rows[0]!.id;
}

/**
 * Ends an automatic quarantine whose test was fixed: the test takes the state its verdict says
 * (the analysis kept it quarantined until now).
 */
export async function releaseByPolicy(client: pg.Pool | pg.ClientBase, input: { projectId: string; testId: string; quarantineId: string; state: string; evidence: Record<string, unknown> }): Promise<boolean> {
	const { rowCount } = await client.query(`UPDATE quarantines SET released_at = now(), released_by = 'policy' WHERE id = $1 AND released_at IS NULL`, [input.quarantineId]);
	if (!rowCount) return false;
	await client.query(`UPDATE test_health SET state = $2::health_state, state_since = now() WHERE test_id = $1 AND state = 'quarantined'`, [input.testId, input.state]);
	const released = { quarantineId: input.quarantineId, by: 'policy', reason: `the test is ${input.state}`, ...input.evidence };
	await recordEvents(client, [
		// The fix is news of its own (the analysis kept the test quarantined, so it saw no change).
		{ projectId: input.projectId, testId: input.testId, kind: 'fixed', fromState: 'flaky', toState: input.state, details: input.evidence },
		{ projectId: input.projectId, testId: input.testId, kind: 'released', fromState: 'quarantined', toState: input.state, details: released }
	]);
	return true;
}

/** Ends a test's active quarantine (a person releasing it); false when it had none. */
export async function releaseActive(db: pg.Pool | pg.ClientBase, projectId: string, testId: string, by: string): Promise<boolean> {
	const { rowCount } = await db.query(
		`UPDATE quarantines SET released_at = now(), released_by = $2
		 WHERE test_id = $1 AND released_at IS NULL AND (expires_at IS NULL OR expires_at > now())`,
		[testId, by]
	);
	if (!rowCount) return false;
	await db.query(`UPDATE test_health SET state = 'healthy' WHERE test_id = $1 AND state = 'quarantined'`, [testId]);
	await recordEvents(db, [{ projectId, testId, kind: 'released', fromState: 'quarantined', toState: null, details: { by } }]);
	return true;
}

/**
 * Quarantines whose expiry passed: released. Answers the tests left without an active quarantine,
 * whose state the analysis must decide again.
 */
export async function releaseExpired(db: pg.Pool | pg.ClientBase): Promise<Array<{ projectId: string; testId: string }>> {
	const { rows } = await db.query<{ project_id: string; test_id: string }>(
		`UPDATE quarantines SET released_at = expires_at, released_by = 'expiry'
		 WHERE released_at IS NULL AND expires_at IS NOT NULL AND expires_at <= now()
		 RETURNING project_id, test_id`
	);
	const freed: Array<{ projectId: string; testId: string }> = [];
	for (const r of rows) {
		const active = await db.query(
			`SELECT 1 FROM quarantines WHERE test_id = $1 AND released_at IS NULL AND (expires_at IS NULL OR expires_at > now())`,
			[r.test_id]
		);
		if (active.rowCount) continue;
		await db.query(`UPDATE test_health SET state = 'healthy' WHERE test_id = $1 AND state = 'quarantined'`, [r.test_id]);
		await recordEvents(db, [{ projectId: r.project_id, testId: r.test_id, kind: 'released', fromState: 'quarantined', toState: null, details: { by: 'expiry' } }]);
		freed.push({ projectId: r.project_id, testId: r.test_id });
	}
	return freed;
}
