import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { applyRetention, ensurePartitions } from '../db/partitions.js';
import { closeStaleRuns } from '../ingest/store.js';
import { requestOverdueReports } from '../repositories/gitlab-reports.js';
import { releaseExpiredQuarantines } from '../jobs/quarantine.js';
import { recordExpiringQuarantines } from '../repositories/events.js';

/**
 * Closes streamed runs that stopped talking (a killed CI job never completes its run), and releases
 * quarantines that expired. Every instance sweeps; each UPDATE decides atomically, so each run or
 * quarantine is handled once.
 */
export default fp(
	async function runSweeper(app: FastifyInstance, opts: { timeoutMinutes: number; retentionDays: number; intervalMs?: number }) {
		let timer: NodeJS.Timeout | undefined;
		let lastHousekeeping = 0;
		/** Partitions ahead and retention: at start, then about every hour. */
		const housekeeping = async () => {
			lastHousekeeping = Date.now();
			const created = await ensurePartitions(app.db.pool, { monthsBack: 1 });
			if (created.length) app.log.info({ event: 'partitions.created', partitions: created }, 'created monthly partitions');
			const r = await applyRetention(app.db.pool, opts.retentionDays);
			if (r.dropped.length || r.deletedFromDefault) app.log.info({ event: 'retention.applied', ...r }, 'dropped results past retention');
		};
		const sweep = async () => {
			try {
				const closed = await closeStaleRuns(app.db.pool, opts.timeoutMinutes);
				if (closed.length) app.log.info({ event: 'runs.closed_incomplete', runs: closed }, 'closed runs that went quiet');
				const overdue = await requestOverdueReports(app.db.pool, opts.timeoutMinutes);
				if (overdue) app.log.info({ event: 'gitlab.report_overdue', count: overdue }, 'reporting pipelines that went quiet with shards missing');
				const released = await releaseExpiredQuarantines(app.db.pool);
				const expiring = await recordExpiringQuarantines(app.db.pool, 48);
				if (expiring) app.log.info({ event: 'quarantine.expiring', count: expiring }, 'quarantines ending within two days');
				if (released) app.log.info({ event: 'quarantine.expired', count: released }, 'released expired quarantines');
				if (Date.now() - lastHousekeeping > 3_600_000) await housekeeping();
			} catch (err) {
				app.log.warn({ err: (err as Error).message }, 'sweeping stale runs failed; will retry');
			}
		};
		app.addHook('onReady', async () => {
			await housekeeping();
			timer = setInterval(() => void sweep(), opts.intervalMs ?? 60_000);
			timer.unref();
		});
		app.addHook('onClose', async () => clearInterval(timer));
		app.decorate('sweepStaleRuns', sweep);
	},
	{ name: 'run-sweeper' }
);

declare module 'fastify' {
	interface FastifyInstance {
		sweepStaleRuns(): Promise<void>;
	}
}
