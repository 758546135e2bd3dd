import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { migrationState, type MigrationState } from '../db/migrate.js';

const healthSchema = z.object({
	status: z.enum(['ok', 'unavailable']),
	database: z.object({
		reachable: z.boolean(),
		embedded: z.boolean(),
		error: z.string().optional()
	}),
	migrations: z.object({ applied: z.array(z.string()), pending: z.array(z.string()) }),
	version: z.string()
});

class ProbeTimeout extends Error {}

/** Resolves as `work` does, or rejects with ProbeTimeout after `ms`; `work` itself goes on. */
async function within<T>(work: Promise<T>, ms: number): Promise<T> {
	let timer: NodeJS.Timeout | undefined;
	const deadline = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(new ProbeTimeout(`The database did not answer within ${ms} ms.`)), ms);
	});
	try {
		return await Promise.race([work, deadline]);
	} finally {
		clearTimeout(timer);
	}
}

const health: FastifyPluginAsyncZod<{ version: string; migrationsDir?: string }> = async (app, opts) => {
	// One probe at a time: while the database does not answer, every /health call waits on the same
	// query (ended by the pool's own deadlines) instead of taking one more connection each.
	let inflight: Promise<MigrationState> | null = null;
	const probe = () => {
		inflight ??= migrationState(app.db.pool, opts.migrationsDir).finally(() => {
			inflight = null;
		});
		return inflight;
	};
	app.get(
		'/health',
		{
			config: { rateLimit: false },
			schema: {
				summary: 'Liveness and readiness: database reachable and every migration applied',
				description: 'Answers within HEALTH_TIMEOUT_MS (2 s by default) whatever the database does: 503 with database.reachable false when it is down or too slow.',
				tags: ['system'],
				response: { 200: healthSchema, 503: healthSchema }
			}
		},
		async (_request, reply) => {
			const embedded = app.db.embedded;
			try {
				const state = await within(probe(), app.config.HEALTH_TIMEOUT_MS);
				const ready = state.pending.length === 0;
				return reply.code(ready ? 200 : 503).send({
					status: ready ? 'ok' : 'unavailable',
					database: { reachable: true, embedded },
					migrations: state,
					version: opts.version
				});
			} catch (err) {
				return reply.code(503).send({
					status: 'unavailable',
					database: { reachable: false, embedded, error: (err as Error).message.slice(0, 200) },
					migrations: { applied: [], pending: [] },
					version: opts.version
				});
			}
		}
	);
};

export default health;
