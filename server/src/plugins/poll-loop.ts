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
