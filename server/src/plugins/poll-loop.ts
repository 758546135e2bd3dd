import { Gauge, type Registry } from 'prom-client';
import type { FastifyInstance } from 'fastify';

/**
 * The loop of a background queue worker: `work` runs `pollMs` after the previous round ended (never
 * two rounds at once), from the app's start until it closes; closing waits for the round in flight.
 * `work` is told whether the app is closing, to stop between jobs, and must not throw.
 */
export function pollLoop(app: FastifyInstance, pollMs: number, work: (closing: () => boolean) => Promise<void>): void {
	let stopped = false;
	let timer: NodeJS.Timeout | undefined;
	let running: Promise<void> | undefined;
	const closing = () => stopped;
	const schedule = () => {
		if (stopped) return;
		timer = setTimeout(() => {
			running = work(closing).finally(schedule);
		}, pollMs);
		timer.unref();
	};
	app.addHook('onReady', async () => schedule());
	app.addHook('preClose', async () => {
		stopped = true;
		clearTimeout(timer);
		await running;
	});
}

/**
 * A queue's rows by state as a gauge, read from the database at scrape time: every state named is
 * reported (0 when empty). A database that is down leaves the gauge as it was: /health says so.
 */
export function queueStateGauge(registry: Registry, name: string, help: string, states: readonly string[], counts: () => Promise<Array<{ state: string; count: number }>>): void {
	new Gauge({
		name,
		help,
		labelNames: ['state'] as const,
		registers: [registry],
		async collect() {
			try {
				const found = await counts();
				this.reset();
				for (const s of states) this.set({ state: s }, 0);
				for (const c of found) this.set({ state: c.state }, c.count);
			} catch {
				// The database is down: metrics keep answering.
			}
		}
	});
}
