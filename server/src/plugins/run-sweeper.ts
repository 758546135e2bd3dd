import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { closeStaleRuns } from '../ingest/store.js';

/**
 * Closes streamed runs that stopped talking (a killed CI job never completes its run). Every
 * instance sweeps; the UPDATE decides atomically, so each run is closed once.
 */
export default fp(
	async function runSweeper(app: FastifyInstance, opts: { timeoutMinutes: number; intervalMs?: number }) {
		let timer: NodeJS.Timeout | undefined;
		const sweep = async () => {
			try {
				const closed = await closeStaleRuns(app.db.pool, opts.timeoutMinutes);
				if (closed.length) app.log.info({ event: 'runs.closed_incomplete', runs: closed }, 'closed runs that went quiet');
			} catch (err) {
				app.log.warn({ err: (err as Error).message }, 'sweeping stale runs failed; will retry');
			}
		};
		app.addHook('onReady', async () => {
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
