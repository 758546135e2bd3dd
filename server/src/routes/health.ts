import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { migrationState } from '../db/migrate.js';

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

const health: FastifyPluginAsyncZod<{ version: string; migrationsDir?: string }> = async (app, opts) => {
	app.get(
		'/health',
		{
			config: { rateLimit: false },
			schema: {
				summary: 'Liveness and readiness: database reachable and every migration applied',
				tags: ['system'],
				response: { 200: healthSchema, 503: healthSchema }
			}
		},
		async (_request, reply) => {
			const embedded = app.db.embedded;
			try {
				const state = await migrationState(app.db.pool, opts.migrationsDir);
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
