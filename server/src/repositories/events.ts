import type pg from 'pg';

type Db = pg.Pool | pg.ClientBase;

/** flaky, broken, fixed: the verdict changed; quarantined, released, quarantine_expiring: the quarantine did. */
export type TestEventKind = 'flaky' | 'broken' | 'fixed' | 'quarantined' | 'released' | 'quarantine_expiring';

export interface TestEventInput {
	projectId: string;
	testId: string;
	kind: TestEventKind;
	fromState: string | null;
	toState: string | null;
	details: Record<string, unknown>;
}

/** Appends events in one statement. */
export async function recordEvents(db: Db, events: readonly TestEventInput[]): Promise<void> {
	if (events.length === 0) return;
	await db.query(
		`INSERT INTO test_events (project_id, test_id, kind, from_state, to_state, details)
		 SELECT e.project_id, e.test_id, e.kind, e.from_state, e.to_state, e.details
		 FROM jsonb_to_recordset($1::jsonb) AS e(project_id uuid, test_id uuid, kind text, from_state text, to_state text, details jsonb)`,
		[
			JSON.stringify(
				events.map((e) => ({ project_id: e.projectId, test_id: e.testId, kind: e.kind, from_state: e.fromState, to_state: e.toState, details: e.details }))
			)
		]
	);
}

export interface HealthBefore {
	/** The stored state (null: never analysed). */
	state: string | null;
	/** The active quarantine, if any. */
	quarantine: { id: string; by: string } | null;
	/** When the test's last automatic quarantine ended (expired or released by a person), if one did. */
	lastPolicyRelease: Date | null;
	/** Set while the test is inactive (gone from the recent default-branch pipelines): no events, no automatic quarantine. */
	inactiveSince?: Date | null;
	/** The kind of the test's newest verdict event (flaky, broken or fixed), null when it has none. */
	lastVerdictEvent?: string | null;
}

/** The tests' stored states and active quarantines, read before new verdicts are saved. */
export async function healthBefore(db: Db, testIds: readonly string[]): Promise<Map<string, HealthBefore>> {
	const { rows } = await db.query<{ test_id: string; state: string | null; qid: string | null; qby: string | null; ended: Date | null; inactive: Date | null; last_kind: string | null }>(
		`SELECT t.id AS test_id, h.state::text AS state, h.inactive_since AS inactive, q.id AS qid, q.created_by AS qby,
		        (SELECT max(p.released_at) FROM quarantines p WHERE p.test_id = t.id AND p.created_by = 'policy' AND p.released_at IS NOT NULL) AS ended,
		        (SELECT e.kind FROM test_events e WHERE e.test_id = t.id AND e.kind IN ('flaky', 'broken', 'fixed') ORDER BY e.id DESC LIMIT 1) AS last_kind
		 FROM unnest($1::uuid[]) AS t(id)
		 LEFT JOIN test_health h ON h.test_id = t.id
		 LEFT JOIN LATERAL (
		   SELECT q.id, q.created_by FROM quarantines q
		   WHERE q.test_id = t.id AND q.released_at IS NULL AND (q.expires_at IS NULL OR q.expires_at > now())
		   ORDER BY q.created_at DESC LIMIT 1
		 ) q ON true`,
		[testIds]
	);
	return new Map(
		rows.map((r) => [
			r.test_id,
			{ state: r.state, quarantine: r.qid ? { id: r.qid, by: r.qby ?? '' } : null, lastPolicyRelease: r.ended, inactiveSince: r.inactive, lastVerdictEvent: r.last_kind }
		])
	);
}

/**
 * One `quarantine_expiring` event per active quarantine that ends within `withinHours`, the first
 * time it is seen so.
 */
export async function recordExpiringQuarantines(db: Db, withinHours: number): Promise<number> {
	const { rowCount } = await db.query(
		`INSERT INTO test_events (project_id, test_id, kind, details)
		 SELECT q.project_id, q.test_id, 'quarantine_expiring',
		        jsonb_build_object('quarantineId', q.id, 'until', q.expires_at, 'reason', q.reason, 'by', q.created_by)
		 FROM quarantines q
		 WHERE q.released_at IS NULL AND q.expires_at > now() AND q.expires_at <= now() + make_interval(hours => $1)
		   AND NOT EXISTS (
		     SELECT 1 FROM test_events e
		     WHERE e.test_id = q.test_id AND e.kind = 'quarantine_expiring' AND e.details->>'quarantineId' = q.id::text)`,
		[withinHours]
	);
	return rowCount ?? 0;
}
