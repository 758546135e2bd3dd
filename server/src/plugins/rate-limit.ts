import { createHash } from 'node:crypto';
import fp from 'fastify-plugin';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';

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

/** Per-route limits (per minute, from the configuration); routes opt in with `config.rateLimit`. */
export function routeLimits(config: Config) {
	const perMinute = (max: number, keyGenerator: (r: FastifyRequest) => string) => ({ max, timeWindow: '1 minute', keyGenerator });
	return {
		/** Opening runs and uploading reports: a CI job stuck in a loop is stopped. */
		ingestRuns: perMinute(config.RATE_LIMIT_RUNS, callerKey),
		/** Result batches of streaming runs: a 50-shard pipeline sends many of these at once. */
		ingestBatches: perMinute(config.RATE_LIMIT_BATCHES, callerKey),
		reads: perMinute(config.RATE_LIMIT_READS, callerKey),
		admin: perMinute(config.RATE_LIMIT_ADMIN, callerKey)
	};
}

declare module 'fastify' {
	interface FastifyInstance {
		limits: ReturnType<typeof routeLimits>;
	}
}

export default fp(
	async function limits(app: FastifyInstance) {
		app.decorate('limits', routeLimits(app.config));
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
