import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { processAnalysisJobs } from '../jobs/analysis.js';
import { pollLoop } from './poll-loop.js';

/**
 * Works the analysis queue in the background of every server instance. Ingestion only stores and
 * enqueues; this picks the jobs up (SKIP LOCKED makes instances share them) and writes verdicts.
 */
export default fp(
	async function analysisWorker(app: FastifyInstance, opts: { enabled: boolean; pollMs: number }) {
		if (!opts.enabled) return;
		pollLoop(app, opts.pollMs, async (closing) => {
			try {
				for (;;) {
					const started = performance.now();
					const s = await processAnalysisJobs(app.db.pool);
					if (s.jobs === 0 || closing()) break;
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
		});
	},
	{ name: 'analysis-worker' }
);
