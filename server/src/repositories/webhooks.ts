import type pg from 'pg';
import { clipText, storableText } from 'flackyness-reporter/protocol';
import type { PrismaClient } from '../generated/prisma/client.js';
import { transaction } from '../db/database.js';

type Db = pg.Pool | pg.ClientBase;

/**
 * Notification webhooks and the queue of their deliveries (webhook_deliveries: one row per event per
 * webhook, so an event is told once). A dispatcher fans new test events out into deliveries; workers
 * claim due deliveries with SKIP LOCKED, like the GitLab report queue.
 */

export const WEBHOOK_KINDS = ['slack', 'mattermost', 'teams', 'generic'] as const;
export type WebhookKind = (typeof WEBHOOK_KINDS)[number];
export const WEBHOOK_EVENTS = ['flaky', 'broken', 'fixed', 'quarantined', 'released', 'quarantine_expiring', 'digest'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export const MAX_WEBHOOKS_PER_PROJECT = 20;
export const MAX_DELIVERY_ATTEMPTS = 8;
const LOCK_TIMEOUT = '5 minutes';
/** Events fanned out per webhook per round. */
const FAN_OUT = 500;
/**
 * Event ids come from a sequence, and a transaction may commit a lower id after a higher one was
 * seen: events this recent are looked at again even below the cursor (the unique key keeps them from
 * being queued twice).
 */
const LOOKBACK = '10 minutes';
/** ...and at most this many ids below it, so that a round reads a bounded slice of events. */
const LOOKBACK_IDS = 1000;

export interface WebhookRow {
	id: string;
	projectId: string;
	kind: string;
	urlSealed: string;
	urlHost: string;
	secretSealed: string | null;
	events: string[];
	owners: string[];
	lastDigestAt: Date;
	createdAt: Date;
}

const select = {
	id: true,
	projectId: true,
	kind: true,
	urlSealed: true,
	urlHost: true,
	secretSealed: true,
	events: true,
	owners: true,
	lastDigestAt: true,
	createdAt: true
} as const;

export function listWebhooks(prisma: PrismaClient, projectId: string): Promise<WebhookRow[]> {
	return prisma.webhook.findMany({ where: { projectId }, orderBy: { createdAt: 'asc' }, select });
}

export function findWebhook(prisma: PrismaClient, projectId: string, id: string): Promise<WebhookRow | null> {
	return prisma.webhook.findFirst({ where: { id, projectId }, select });
}

export function countWebhooks(prisma: PrismaClient, projectId: string): Promise<number> {
	return prisma.webhook.count({ where: { projectId } });
}

/** A new webhook starts after the newest event of its project: it is not told the history. */
export async function createWebhook(
	pool: pg.Pool,
	w: { id: string; projectId: string; kind: WebhookKind; urlSealed: string; urlHost: string; secretSealed: string | null; events: string[]; owners: string[] }
): Promise<void> {
	await pool.query(
		`INSERT INTO webhooks (id, project_id, kind, url_sealed, url_host, secret_sealed, events, owners, start_event_id, last_event_id)
		 SELECT $1, $2, $3, $4, $5, $6, $7, $8, m.id, m.id
		 FROM (SELECT COALESCE(max(id), 0) AS id FROM test_events WHERE project_id = $2) m`,
		[w.id, w.projectId, w.kind, w.urlSealed, w.urlHost, w.secretSealed, w.events, w.owners]
	);
}

export async function deleteWebhook(prisma: PrismaClient, projectId: string, id: string): Promise<boolean> {
	const { count } = await prisma.webhook.deleteMany({ where: { id, projectId } });
	return count > 0;
}

export interface DeliverySummary {
	pending: number;
	failed: number;
	lastDoneAt: Date | null;
}

/** Per webhook of the project: deliveries waiting and given up, and the last success. */
export async function deliverySummaries(db: Db, projectId: string): Promise<Map<string, DeliverySummary>> {
	const { rows } = await db.query<{ webhook_id: string; pending: number; failed: number; last_done_at: Date | null }>(
		`SELECT d.webhook_id, count(*) FILTER (WHERE d.state = 'pending')::int AS pending, count(*) FILTER (WHERE d.state = 'failed')::int AS failed,
		        max(d.done_at) AS last_done_at
		 FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE w.project_id = $1 GROUP BY d.webhook_id`,
		[projectId]
	);
	return new Map(rows.map((r) => [r.webhook_id, { pending: r.pending, failed: r.failed, lastDoneAt: r.last_done_at }]));
}

export interface DeliveryRow {
	id: string;
	event: string;
	eventId: string | null;
	state: string;
	attempts: number;
	lastStatus: number | null;
	lastError: string | null;
	runAfter: Date;
	createdAt: Date;
	updatedAt: Date;
	doneAt: Date | null;
}

const deliverySelect = {
	id: true,
	event: true,
	eventId: true,
	state: true,
	attempts: true,
	lastStatus: true,
	lastError: true,
	runAfter: true,
	createdAt: true,
	updatedAt: true,
	doneAt: true
} as const;

const asDelivery = (d: Omit<DeliveryRow, 'eventId'> & { eventId: bigint | null }): DeliveryRow => ({ ...d, eventId: d.eventId === null ? null : String(d.eventId) });

/** The latest deliveries of a webhook, newest first. */
export async function listDeliveries(prisma: PrismaClient, webhookId: string, limit: number): Promise<DeliveryRow[]> {
	const rows = await prisma.webhookDelivery.findMany({ where: { webhookId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: limit, select: deliverySelect });
	return rows.map(asDelivery);
}

/** Due again now with fresh attempts; null when the delivery is not the webhook's. */
export async function resendDelivery(prisma: PrismaClient, webhookId: string, id: string): Promise<DeliveryRow | null> {
	const { count } = await prisma.webhookDelivery.updateMany({
		where: { id, webhookId },
		data: { state: 'pending', attempts: 0, runAfter: new Date(), lockedAt: null, doneAt: null, updatedAt: new Date() }
	});
	if (count === 0) return null;
	const row = await prisma.webhookDelivery.findUnique({ where: { id }, select: deliverySelect });
	return row ? asDelivery(row) : null;
}

/** What every delivery tells of a test event (the generic kind's body; the chat kinds are made from it). */
const EVENT_PAYLOAD = `jsonb_build_object(
	'event', e.kind, 'eventId', e.id::text, 'at', e.created_at,
	'project', jsonb_build_object('id', p.id, 'slug', p.slug, 'name', p.name),
	'test', jsonb_build_object('id', t.id, 'file', t.file, 'titlePath', to_jsonb(t.title_path), 'projectName', t.project_name, 'owners', to_jsonb(t.owners)),
	'fromState', e.from_state, 'toState', e.to_state, 'details', e.details)`;

/**
 * Fans the new events of every webhook's project out into deliveries (only the kinds it asked for,
 * and with an owners filter only tests one of those owners owns), and moves its cursor. A webhook
 * another instance is fanning out is skipped. Answers the number of deliveries queued.
 */
export async function dispatchEvents(pool: pg.Pool): Promise<number> {
	const { rows: hooks } = await pool.query<{ id: string }>(`SELECT id FROM webhooks`);
	let queued = 0;
	for (const { id } of hooks) {
		queued += await transaction(pool, async (client) => {
			const { rows } = await client.query<{ project_id: string; last_event_id: string; start_event_id: string; events: string[]; owners: string[] }>(
				`SELECT project_id, last_event_id::text, start_event_id::text, events, owners FROM webhooks WHERE id = $1 FOR UPDATE SKIP LOCKED`,
				[id]
			);
			const w = rows[0];
			if (!w) return 0;
			const { rows: found } = await client.query<{ id: string }>(
				`WITH ev AS (
				   SELECT e.id FROM test_events e JOIN tests t ON t.id = e.test_id
				   WHERE e.project_id = $2 AND e.id > GREATEST($4::bigint, $3::bigint - ${LOOKBACK_IDS})
				     AND (e.id > $3 OR e.created_at > now() - interval '${LOOKBACK}')
				     AND e.kind = ANY($5::text[])
				     AND (cardinality($6::text[]) = 0 OR t.owners && $6::text[])
				     AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.webhook_id = $1 AND d.event_id = e.id)
				   ORDER BY e.id LIMIT ${FAN_OUT}
				 )
				 INSERT INTO webhook_deliveries (webhook_id, event_id, event, payload)
				 SELECT $1, e.id, e.kind, ${EVENT_PAYLOAD}
				 FROM ev JOIN test_events e ON e.id = ev.id JOIN tests t ON t.id = e.test_id JOIN projects p ON p.id = e.project_id
				 ORDER BY e.id
				 ON CONFLICT (webhook_id, event_id) DO NOTHING
				 RETURNING event_id::text AS id`,
				[id, w.project_id, w.last_event_id, w.start_event_id, w.events, w.owners]
			);
			// A full round may have left events behind: the cursor stops at the last one queued; otherwise
			// every event of the project so far has been looked at.
			await client.query(
				`UPDATE webhooks SET last_event_id = GREATEST(last_event_id, CASE WHEN $3 THEN $4::bigint ELSE (SELECT COALESCE(max(id), 0) FROM test_events WHERE project_id = $2) END)
				 WHERE id = $1`,
				[id, w.project_id, found.length >= FAN_OUT, found.reduce((m, r) => (BigInt(r.id) > m ? BigInt(r.id) : m), 0n).toString()]
			);
			return found.length;
		});
	}
	return queued;
}

/**
 * The weekly digest of the webhooks that asked for one and had none for seven days: new flaky and
 * fixed tests of the week, the CI time flaky tests lose, and the five most costly. Answers how many
 * were queued.
 */
export async function dispatchDigests(pool: pg.Pool, dashboard: string): Promise<number> {
	const { rowCount } = await pool.query(
		`WITH due AS (
		   UPDATE webhooks w SET last_digest_at = now()
		   WHERE 'digest' = ANY(w.events) AND w.last_digest_at <= now() - interval '7 days'
		     AND w.id IN (SELECT id FROM webhooks WHERE 'digest' = ANY(events) FOR UPDATE SKIP LOCKED)
		   RETURNING w.id, w.project_id, w.owners
		 ),
		 scope AS (
		   SELECT d.id AS webhook_id, t.id AS test_id, t.title_path, t.file
		   FROM due d JOIN tests t ON t.project_id = d.project_id
		   WHERE cardinality(d.owners) = 0 OR t.owners && d.owners
		 )
		 INSERT INTO webhook_deliveries (webhook_id, event, payload)
		 SELECT d.id, 'digest', jsonb_build_object(
		   'event', 'digest', 'at', now(), 'from', now() - interval '7 days', 'to', now(),
		   'project', jsonb_build_object('id', p.id, 'slug', p.slug, 'name', p.name, 'url', $1 || '/projects/' || p.slug),
		   'newFlaky', (SELECT COALESCE(jsonb_agg(DISTINCT jsonb_build_object('id', s.test_id, 'titlePath', to_jsonb(s.title_path), 'file', s.file)), '[]'::jsonb)
		                FROM scope s JOIN test_events e ON e.test_id = s.test_id
		                WHERE s.webhook_id = d.id AND e.kind = 'flaky' AND e.created_at > now() - interval '7 days'),
		   'fixed', (SELECT COALESCE(jsonb_agg(DISTINCT jsonb_build_object('id', s.test_id, 'titlePath', to_jsonb(s.title_path), 'file', s.file)), '[]'::jsonb)
		             FROM scope s JOIN test_events e ON e.test_id = s.test_id
		             WHERE s.webhook_id = d.id AND e.kind = 'fixed' AND e.created_at > now() - interval '7 days'),
		   'ciMinutesLostPerDay', (SELECT COALESCE(sum(h.impact_minutes), 0) FROM scope s JOIN test_health h ON h.test_id = s.test_id
		                           WHERE s.webhook_id = d.id AND h.state IN ('flaky', 'quarantined')),
		   'mostCostly', (SELECT COALESCE(jsonb_agg(x ORDER BY x->>'impactMinutes' DESC), '[]'::jsonb) FROM (
		                    SELECT jsonb_build_object('id', s.test_id, 'titlePath', to_jsonb(s.title_path), 'file', s.file,
		                             'impactMinutes', h.impact_minutes, 'score', h.score) AS x
		                    FROM scope s JOIN test_health h ON h.test_id = s.test_id
		                    WHERE s.webhook_id = d.id AND h.state IN ('flaky', 'quarantined') AND h.impact_minutes > 0
		                    ORDER BY h.impact_minutes DESC LIMIT 5) c))
		 FROM due d JOIN projects p ON p.id = d.project_id`,
		[dashboard]
	);
	return rowCount ?? 0;
}

export interface ClaimedDelivery {
	id: string;
	webhookId: string;
	projectId: string;
	kind: WebhookKind;
	event: string;
	payload: Record<string, unknown>;
	attempts: number;
	urlSealed: string;
	urlHost: string;
	secretSealed: string | null;
}

/**
 * Claims due deliveries (SKIP LOCKED: instances share the queue; a dead worker's claim lapses), at
 * most `perWebhook` of each webhook so that one slow receiver does not take the whole round, and none
 * of the `busy` webhooks (still sending).
 */
export async function claimDeliveries(db: Db, limit: number, perWebhook: number, busy: readonly string[] = []): Promise<ClaimedDelivery[]> {
	const { rows } = await db.query<ClaimedDelivery>(
		`WITH due AS (
		   SELECT id, webhook_id, run_after FROM webhook_deliveries
		   WHERE state = 'pending' AND run_after <= now() AND (locked_at IS NULL OR locked_at < now() - interval '${LOCK_TIMEOUT}')
		     AND webhook_id <> ALL($3::uuid[])
		   ORDER BY run_after, created_at LIMIT $1 * 4 FOR UPDATE SKIP LOCKED
		 ),
		 picked AS (
		   SELECT id FROM (SELECT id, run_after, row_number() OVER (PARTITION BY webhook_id ORDER BY run_after) AS n FROM due) x
		   WHERE n <= $2 ORDER BY run_after LIMIT $1
		 )
		 UPDATE webhook_deliveries d SET locked_at = now(), attempts = d.attempts + 1, updated_at = now()
		 FROM webhooks w
		 WHERE d.id IN (SELECT id FROM picked) AND w.id = d.webhook_id
		 RETURNING d.id::text, d.webhook_id::text AS "webhookId", w.project_id::text AS "projectId", w.kind, d.event, d.payload, d.attempts,
		           w.url_sealed AS "urlSealed", w.url_host AS "urlHost", w.secret_sealed AS "secretSealed"`,
		[limit, perWebhook, busy]
	);
	return rows;
}

const words = (s: string) => clipText(storableText(s), 2000);

export async function finishDelivery(db: Db, id: string, status: number): Promise<void> {
	await db.query(
		`UPDATE webhook_deliveries SET state = 'done', locked_at = NULL, done_at = now(), updated_at = now(), last_status = $2, last_error = NULL WHERE id = $1`,
		[id, status]
	);
}

/** Tried again after `delayMs`, or failed for good once out of attempts (or when `final`). */
export async function failDelivery(
	db: Db,
	d: ClaimedDelivery,
	failure: { status: number | null; message: string; delayMs: number; final: boolean }
): Promise<'retry' | 'failed'> {
	const final = failure.final || d.attempts >= MAX_DELIVERY_ATTEMPTS;
	await db.query(
		`UPDATE webhook_deliveries SET locked_at = NULL, updated_at = now(), last_status = $2, last_error = $3, state = $4,
		   run_after = now() + make_interval(secs => $5::float8 / 1000)
		 WHERE id = $1`,
		[d.id, failure.status, words(failure.message), final ? 'failed' : 'pending', failure.delayMs]
	);
	return final ? 'failed' : 'retry';
}

/** Counts by state over every webhook, for the /metrics gauge. */
export async function deliveryCounts(prisma: PrismaClient): Promise<Array<{ state: string; count: number }>> {
	const groups = await prisma.webhookDelivery.groupBy({ by: ['state'], _count: { _all: true } });
	return groups.map((g) => ({ state: g.state, count: g._count._all }));
}
