import type pg from 'pg';

type Db = pg.Pool | pg.ClientBase;

/** How a quarantine ended: its test was fixed (the policy released it), it expired, someone released it, or a new quarantine replaced it. */
export type QuarantineEnd = 'fixed' | 'expired' | 'released' | 'replaced';

export interface QuarantineView {
	id: string;
	test: { id: string; title: string; file: string; titlePath: string[]; projectName: string };
	createdBy: string;
	automatic: boolean;
	reason: string;
	createdAt: Date;
	expiresAt: Date | null;
	releasedAt: Date | null;
	releasedBy: string | null;
	ended: QuarantineEnd | null;
	failuresIgnored: number;
	savedMinutes: number;
}

interface Row {
	id: string;
	test_id: string;
	title: string;
	file: string;
	title_path: string[];
	project_name: string;
	created_by: string;
	reason: string;
	created_at: Date;
	expires_at: Date | null;
	released_at: Date | null;
	released_by: string | null;
	replaced: boolean;
	failures: number;
	failed_ms: string;
}

/**
 * A project's active quarantines and those that ended in the last `days` days, each with what it
 * saved: the failed results of its test while it was in force. A quarantine whose expiry passed
 * but that the hourly job has not released yet counts as ended then, as the job will record it.
 * The lateral sum reads one test's results in a time range: the (test_id, started_at) index.
 */
export async function projectQuarantines(db: Db, projectId: string, days: number): Promise<{ active: QuarantineView[]; ended: QuarantineView[] }> {
	const { rows } = await db.query<Row>(
		`WITH q AS (
		   SELECT q.*,
		          CASE WHEN q.released_at IS NULL AND q.expires_at <= now() THEN q.expires_at ELSE q.released_at END AS ended_at
		   FROM quarantines q
		   WHERE q.project_id = $1 AND (q.released_at IS NULL OR q.released_at > now() - make_interval(days => $2))
		 )
		 SELECT q.id, q.test_id, t.title, t.file, t.title_path, t.project_name, q.created_by, q.reason, q.created_at, q.expires_at,
		        q.ended_at AS released_at,
		        CASE WHEN q.released_at IS NULL AND q.ended_at IS NOT NULL THEN 'expiry' ELSE q.released_by END AS released_by,
		        (q.released_at IS NOT NULL AND EXISTS (
		          SELECT 1 FROM quarantines n WHERE n.test_id = q.test_id AND n.id <> q.id AND n.created_at = q.released_at
		        )) AS replaced,
		        s.failures, s.failed_ms
		 FROM q
		 JOIN tests t ON t.id = q.test_id
		 CROSS JOIN LATERAL (
		   SELECT count(*)::int AS failures, coalesce(sum(r.duration_ms), 0)::bigint AS failed_ms
		   FROM test_results r
		   WHERE r.test_id = q.test_id AND r.outcome = 'unexpected'
		     AND r.started_at >= q.created_at AND r.started_at <= coalesce(q.released_at, q.expires_at, now())
		 ) s
		 WHERE q.ended_at IS NULL OR q.ended_at > now() - make_interval(days => $2)
		 ORDER BY coalesce(q.ended_at, q.created_at) DESC, q.id`,
		[projectId, days]
	);
	const active: QuarantineView[] = [];
	const ended: QuarantineView[] = [];
	for (const r of rows) {
		const view: QuarantineView = {
			id: r.id,
			test: { id: r.test_id, title: r.title, file: r.file, titlePath: r.title_path, projectName: r.project_name },
			createdBy: r.created_by,
			automatic: r.created_by === 'policy',
			reason: r.reason,
			createdAt: r.created_at,
			expiresAt: r.expires_at,
			releasedAt: r.released_at,
			releasedBy: r.released_by,
			ended: r.released_at === null ? null : endOf(r),
			failuresIgnored: r.failures,
			savedMinutes: Number(r.failed_ms) / 60_000
		};
		(view.ended === null ? active : ended).push(view);
	}
	return { active, ended };
}

function endOf(r: Row): QuarantineEnd {
	if (r.replaced) return 'replaced';
	if (r.released_by === 'expiry') return 'expired';
	if (r.released_by === 'policy') return 'fixed';
	return 'released';
}
