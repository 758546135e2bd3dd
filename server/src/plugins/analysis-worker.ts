import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { processAnalysisJobs } from '../jobs/analysis.js';

/**
 * Works the analysis queue in the background of every server instance. Ingestion only stores and
 * enqueues; this picks the jobs up (SKIP LOCKED makes instances share them) and writes verdicts.
 */
export default fp(
	async function analysisWorker(app: FastifyInstance, opts: { enabled: boolean; pollMs: number }) {
		if (!opts.enabled) return;
		let stopped = false;
		let timer: NodeJS.Timeout | undefined;
		let running: Promise<void> | undefined;

		const tick = async () => {
			try {
				for (;;) {
					const started = performance.now();
					const s = await processAnalysisJobs(app.db.pool);
					if (s.jobs === 0 || stopped) break;
					app.metrics.analysisDuration.observe((performance.now() - started) / 1000);
					app.metrics.analysisJobs.inc({ outcome: 'done' }, s.jobs);
					app.metrics.testsAnalysed.inc({ path: 'full' }, s.analysed);
					app.metrics.testsAnalysed.inc({ path: 'fast' }, s.fastPath);
					app.log.info(
						{ event: 'analysis.batch', ...s, ms: Math.round(performance.now() - started) },
						'analysed tests touched by finished runs'
					);
				}
			} catch (err) {
				app.metrics.analysisJobs.inc({ outcome: 'failed' });
				app.log.warn({ err: (err as Error).message }, 'analysis batch failed; its jobs will be retried');
			}
		};
		const schedule = () => {
			if (stopped) return;
			timer = setTimeout(() => {
				running = tick().finally(schedule);
			}, opts.pollMs);
			timer.unref();
		};
		app.addHook('onReady', async () => schedule());
		app.addHook('preClose', async () => {
			stopped = true;
			clearTimeout(timer);
			await running;
		});
	},
	{ name: 'analysis-worker' }
);
