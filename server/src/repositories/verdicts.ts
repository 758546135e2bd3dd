import type pg from 'pg';

type Db = pg.Pool | pg.ClientBase;

/** A test's verdict as stored: its health (null before the first analysis) and its active quarantine. */
export interface StoredVerdict {
	key: string;
	testId: string;
	state: string | null;
	score: number | null;
	scoreLow: number | null;
	scoreHigh: number | null;
	changePointSha: string | null;
	changePointAt: Date | null;
	quarantineReason: string | null;
	quarantineUntil: Date | null;
	quarantined: boolean;
}

/**
 * The verdicts of the tests with these keys (see ingest/store.ts testKey) in one project; keys the
 * project does not know are simply absent. One query, whatever the number of keys.
 */
export async function verdictsByKey(db: Db, projectId: string, keys: readonly string[]): Promise<Map<string, StoredVerdict>> {
	const { rows } = await db.query<StoredVerdict>(
		`SELECT t.key, t.id AS "testId", h.state::text AS state, h.score, h.score_low AS "scoreLow", h.score_high AS "scoreHigh",
		        h.change_point_sha AS "changePointSha", h.change_point_at AS "changePointAt",
		        q.reason AS "quarantineReason", q.expires_at AS "quarantineUntil", q.id IS NOT NULL AS quarantined
		 FROM tests t
		 LEFT JOIN test_health h ON h.test_id = t.id
		 LEFT JOIN LATERAL (
		   SELECT q.id, q.reason, q.expires_at FROM quarantines q
		   WHERE q.test_id = t.id AND q.released_at IS NULL AND (q.expires_at IS NULL OR q.expires_at > now())
		   ORDER BY q.created_at DESC LIMIT 1
		 ) q ON true
		 WHERE t.project_id = $1 AND t.key = ANY($2::text[])`,
		[projectId, keys]
	);
	return new Map(rows.map((r) => [r.key.trim(), r]));
}
