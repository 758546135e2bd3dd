import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { Counter } from 'prom-client';
import { publicUrl } from '../bootstrap.js';
import { gitlabCallCounter } from '../integrations/gitlab-metrics.js';
import type { ReportDeps } from '../integrations/gitlab-connection.js';
import { processReport } from '../integrations/gitlab-reports.js';
import { claimReports, reportCounts, requestIssueUpdates } from '../repositories/gitlab-reports.js';
import { pollLoop, queueStateGauge } from './poll-loop.js';

/** Reports claimed per look at the queue. */
const CLAIM = 5;

/**
 * Works the GitLab report queue (MR notes and commit statuses) in the background of every instance
 * that works the analysis queue. Nothing else waits for it: ingestion and analysis only enqueue.
 */
export default fp(
	async function gitlabWorker(app: FastifyInstance, opts: { enabled: boolean; pollMs: number }) {
		const reports = new Counter({
			name: 'flackyness_gitlab_reports_total',
			help: 'Pipeline reports to GitLab (MR note and commit status) by outcome: done, retry (failed, tried again later), failed (given up)',
			labelNames: ['outcome'] as const,
			registers: [app.metrics.registry]
		});
		queueStateGauge(app.metrics.registry, 'flackyness_gitlab_report_queue', 'Pipeline reports to GitLab by state: pending (due or waiting for a retry), failed (given up), done', ['pending', 'failed', 'done'], () => reportCounts(app.db.prisma));
		if (!opts.enabled) return;

		const deps: ReportDeps = {
			pool: app.db.pool,
			prisma: app.db.prisma,
			secrets: app.secretBox,
			dashboard: publicUrl(app.config),
			timeoutMs: app.config.GITLAB_TIMEOUT_MS,
			retryBaseMs: app.config.GITLAB_RETRY_BASE_MS,
			observe: gitlabCallCounter(app.metrics.registry)
		};
		pollLoop(app, opts.pollMs, async (closing) => {
			try {
				await requestIssueUpdates(app.db.pool);
				while (!closing()) {
					const jobs = await claimReports(app.db.pool, CLAIM);
					if (jobs.length === 0) break;
					for (const job of jobs) {
						const r = await processReport(deps, job);
						reports.inc({ outcome: r.outcome });
						const fields = { event: 'gitlab.report', kind: job.kind, projectId: job.projectId, subject: job.pipelineId, attempt: job.attempts, outcome: r.outcome, failure: r.kind };
						if (r.outcome === 'done') app.log.info({ ...fields, wrote: r.message }, 'pipeline reported to GitLab');
						else app.log.warn({ ...fields, err: r.message }, r.outcome === 'retry' ? 'GitLab report failed; will retry' : 'GitLab report failed; given up');
					}
				}
			} catch (err) {
				app.log.warn({ err: (err as Error).message }, 'working the GitLab report queue failed; will retry');
			}
		});
	},
	{ name: 'gitlab-worker', dependencies: ['metrics'] }
);
