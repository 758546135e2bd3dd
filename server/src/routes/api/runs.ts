import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
	batchReceiptSchema,
	completeRunSchema,
	errorBodySchema,
	openRunSchema,
	resultBatchSchema,
	runReceiptSchema
} from 'flackyness-reporter/protocol';
import { projectOf } from '../../auth/plugin.js';
import { publicUrl } from '../../bootstrap.js';
import { receiptOf } from '../../ingest/receipt.js';
import {
	completeRun,
	enqueueTestAnalysis,
	findRun,
	openRun,
	recordErrorClusters,
	runIdentity,
	storeResults
} from '../../ingest/store.js';
import { transaction } from '../../db/database.js';
import { HttpError } from '../../lib/http-errors.js';
import { refuseExpired } from '../../ingest/retention-guard.js';

const runParams = z.object({ runId: z.uuid('must be a run id (UUID)') });

/** The reporter's streaming protocol: open a run, append result batches, complete it. */
const runs: FastifyPluginAsyncZod = async (app) => {
	async function ownRun(projectId: string, runId: string) {
		const run = await findRun(app.db.pool, runId);
		if (!run || run.projectId !== projectId) throw new HttpError(404, `No run ${runId} in this project.`);
		return run;
	}

	app.post(
		'/api/v1/runs',
		{
			config: { rateLimit: app.limits.ingestRuns },
			preValidation: app.requireProjectToken,
			schema: {
				summary: 'Open a run (idempotent by idempotencyKey or CI identity)',
				tags: ['ingestion'],
				security: [{ bearer: [] }],
				body: openRunSchema,
				description:
					'A run that started more than RETENTION_DAYS days ago is refused with 422 (its results would be deleted by the next retention pass).',
				response: { 200: runReceiptSchema, 201: runReceiptSchema, '4xx': errorBodySchema }
			}
		},
		async (request, reply) => {
			const principal = projectOf(request);
			const { ci, idempotencyKey, playwrightVersion, startedAt } = request.body;
			refuseExpired(app.config.RETENTION_DAYS, [startedAt], 'This run');
			const identity = runIdentity(ci, { clientKey: idempotencyKey });
			const opened = await transaction(app.db.pool, (client) =>
				openRun(client, { projectId: principal.projectId, identity, source: 'reporter', ci, playwrightVersion, startedAt })
			);
			const run = await findRun(app.db.pool, opened.id);
			app.metrics.runsIngested.inc({ source: 'reporter', created: String(opened.created) });
			request.log.info({ event: 'run.opened', runId: opened.id, created: opened.created }, 'run opened');
			return reply.code(opened.created ? 201 : 200).send(receiptOf(run!, opened.created, publicUrl(app.config)));
		}
	);

	app.post(
		'/api/v1/runs/:runId/results',
		{
			config: { rateLimit: app.limits.ingestBatches },
			preValidation: app.requireProjectToken,
			schema: {
				summary: 'Append a batch of results; a result already stored for the run is skipped',
				tags: ['ingestion'],
				security: [{ bearer: [] }],
				params: runParams,
				description: 'A batch holding a result that started more than RETENTION_DAYS days ago is refused with 422, and none of it is stored.',
				body: resultBatchSchema,
				response: { 200: batchReceiptSchema, '4xx': errorBodySchema }
			}
		},
		async (request) => {
			const principal = projectOf(request);
			const run = await ownRun(principal.projectId, request.params.runId);
			refuseExpired(app.config.RETENTION_DAYS, request.body.results.map((r) => r.startedAt), 'A result of this batch');
			const stored = await transaction(app.db.pool, async (client) => {
				const batch = await storeResults(client, principal.projectId, run.id, request.body.results, { deferClusters: true });
				// Results arriving after completion (a late retry of a batch) still reach the analysis.
				if (run.status !== 'running') await enqueueTestAnalysis(client, principal.projectId, batch.testIds);
				return batch;
			});
			// After the commit: the clusters' rows are shared by every upload of the project. The batch
			// is stored whatever happens here: a lost cluster count is logged, not answered.
			await recordErrorClusters(app.db.pool, principal.projectId, stored.clusters).catch((err: unknown) =>
				request.log.warn({ err: (err as Error).message }, 'could not count error clusters')
			);
			app.metrics.resultsIngested.inc({ source: 'reporter' }, stored.accepted);
			request.log.info({ event: 'results.stored', runId: run.id, accepted: stored.accepted, duplicates: stored.duplicates }, 'results stored');
			return { accepted: stored.accepted, duplicates: stored.duplicates };
		}
	);

	app.post(
		'/api/v1/runs/:runId/complete',
		{
			config: { rateLimit: app.limits.ingestBatches },
			preValidation: app.requireProjectToken,
			schema: {
				summary: 'Complete a run with its final status',
				tags: ['ingestion'],
				security: [{ bearer: [] }],
				params: runParams,
				body: completeRunSchema,
				response: { 200: runReceiptSchema, '4xx': errorBodySchema }
			}
		},
		async (request) => {
			const principal = projectOf(request);
			const run = await ownRun(principal.projectId, request.params.runId);
			await transaction(app.db.pool, (client) =>
				completeRun(client, run.id, { status: request.body.status, durationMs: request.body.durationMs })
			);
			const done = await findRun(app.db.pool, run.id);
			request.log.info({ event: 'run.completed', runId: run.id, status: request.body.status }, 'run completed');
			return receiptOf(done!, false, publicUrl(app.config));
		}
	);
};

export default runs;
