import { createHash } from 'node:crypto';
import fp from 'fastify-plugin';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/**
 * Who is calling, for rate limits: the bearer token (hashed, never the token itself) for API
 * clients, the IP only for anonymous requests. The dashboard's server calls the API for every user
 * from one address, so keying its requests by IP would throttle everyone at once.
 */
export function callerKey(request: FastifyRequest): string {
	const auth = request.headers.authorization;
	if (auth) return `t:${createHash('sha256').update(auth).digest('hex').slice(0, 32)}`;
	return `ip:${request.ip}`;
}

/** Per-route limits; routes opt in with `config.rateLimit`. */
export const LIMITS = {
	/** Opening runs and uploading reports: a CI job stuck in a loop is stopped. */
	ingestRuns: { max: 60, timeWindow: '1 minute', keyGenerator: callerKey },
	/** Result batches of streaming runs: a 50-shard pipeline sends many of these at once. */
	ingestBatches: { max: 3000, timeWindow: '1 minute', keyGenerator: callerKey },
	reads: { max: 100, timeWindow: '1 minute', keyGenerator: (r: FastifyRequest) => `ip:${r.ip}` },
	admin: { max: 20, timeWindow: '1 minute', keyGenerator: callerKey }
} as const;

export default fp(
	async function limits(app: FastifyInstance) {
		await app.register(rateLimit, {
			global: false,
			errorResponseBuilder: (_request, context) => ({
				statusCode: 429,
				error: 'Too Many Requests',
				message: `Rate limit of ${context.max} requests per ${context.after} exceeded; retry in ${Math.ceil(context.ttl / 1000)} s.`
			})
		});
	},
	{ name: 'rate-limit' }
);
