import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { Counter } from 'prom-client';
import { publicUrl } from '../bootstrap.js';
import { processDelivery, type DeliveryDeps } from '../integrations/webhooks.js';
import { claimDeliveries, type ClaimedDelivery, deliveryCounts, dispatchDigests, dispatchEvents } from '../repositories/webhooks.js';
import { pollLoop, queueStateGauge } from './poll-loop.js';

/** Deliveries sent at once per round, and at most this many of one webhook (one slow receiver cannot take the round). */
const CLAIM = 10;
const PER_WEBHOOK = 3;
/** Deliveries being sent at once by this instance. */
const MAX_IN_FLIGHT = 50;

/**
 * Notifications: fans new test events (and weekly digests) out into deliveries, and sends the due
 * ones, in the background of every instance that works the analysis queue. Ingestion and analysis
 * only write events; a dead or slow receiver delays only its own deliveries.
 */
export default fp(
	async function webhookWorker(app: FastifyInstance, opts: { enabled: boolean; pollMs: number }) {
		const sent = new Counter({
			name: 'flackyness_webhook_deliveries_total',
			help: 'Notification deliveries by receiver kind and outcome: done, retry (failed, tried again later), failed (given up)',
			labelNames: ['kind', 'outcome'] as const,
			registers: [app.metrics.registry]
		});
		queueStateGauge(app.metrics.registry, 'flackyness_webhook_delivery_queue', 'Notification deliveries by state: pending (due or waiting for a retry), failed (given up), done', ['pending', 'failed', 'done'], () => deliveryCounts(app.db.prisma));
		if (!opts.enabled) return;

		const deps: DeliveryDeps = {
			pool: app.db.pool,
			secrets: app.secretBox,
			dashboard: publicUrl(app.config),
			timeoutMs: app.config.WEBHOOK_TIMEOUT_MS,
			retryBaseMs: app.config.WEBHOOK_RETRY_BASE_MS
		};
		// Deliveries being sent, by webhook. A round does not wait for them: a receiver that hangs until
		// the timeout holds only its own deliveries, while the others' keep going out.
		const inFlight = new Map<string, Set<Promise<void>>>();
		let total = 0;
		const deliver = (d: ClaimedDelivery) => {
			const p = processDelivery(deps, d)
				.then((r) => {
					sent.inc({ kind: d.kind, outcome: r.outcome });
					// The host only: the URL of a chat webhook is its secret.
					const fields = { event: 'webhook.delivery', projectId: d.projectId, webhookId: d.webhookId, deliveryId: d.id, kind: d.kind, host: d.urlHost, on: d.event, attempt: d.attempts, outcome: r.outcome };
					if (r.outcome === 'done') app.log.info({ ...fields, status: r.status }, 'notification delivered');
					else app.log.warn({ ...fields, err: r.message }, r.outcome === 'retry' ? 'notification failed; will retry' : 'notification failed; given up');
				})
				.catch((err: unknown) => app.log.warn({ event: 'webhook.delivery', deliveryId: d.id, err: (err as Error).message }, 'recording a notification delivery failed'))
				.finally(() => {
					set.delete(p);
					total--;
					if (set.size === 0) inFlight.delete(d.webhookId);
				});
			const set = inFlight.get(d.webhookId) ?? new Set();
			inFlight.set(d.webhookId, set);
			set.add(p);
			total++;
		};
		pollLoop(app, opts.pollMs, async (closing) => {
			try {
				await dispatchEvents(app.db.pool);
				await dispatchDigests(app.db.pool, deps.dashboard);
				while (!closing() && total < MAX_IN_FLIGHT) {
					const due = await claimDeliveries(app.db.pool, Math.min(CLAIM, MAX_IN_FLIGHT - total), PER_WEBHOOK, [...inFlight.keys()]);
					if (due.length === 0) break;
					for (const d of due) deliver(d);
				}
			} catch (err) {
				app.log.warn({ err: (err as Error).message }, 'working the notification queue failed; will retry');
			}
		});
		app.addHook('preClose', async () => {
			await Promise.all([...inFlight.values()].flatMap((s) => [...s]));
		});
	},
	{ name: 'webhook-worker', dependencies: ['metrics'] }
);
