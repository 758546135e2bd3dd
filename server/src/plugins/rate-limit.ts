import fp from 'fastify-plugin';
import rateLimit from '@fastify/rate-limit';
import { Redis } from 'ioredis';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { principalKey } from '../auth/plugin.js';
import type { Config } from '../config.js';

/**
 * Who is calling, for rate limits: the authenticated principal (API token id, user id, the admin
 * token), never the header's spelling, which authentication reads loosely ("bearer", a tab...). The
 * dashboard's server calls the API for every user from one address, so keying its requests by IP
 * would throttle everyone at once. A request that does not authenticate (no header, a wrong or
 * revoked token, the database unreachable) counts against its address; the route then refuses it.
 * The limiter runs on onRequest, before a byte of the body is read: the principal is resolved here
 * (one lookup, shared with the route's own check) so that a flood answers 429 without uploading.
 */
export async function callerKey(request: FastifyRequest): Promise<string> {
	if (request.headers.authorization === undefined) return `ip:${request.ip}`;
	try {
		return principalKey(await request.server.authenticate(request));
	} catch {
		return `ip:${request.ip}`;
	}
}

/** Per-route limits (per minute, from the configuration); routes opt in with `config.rateLimit`. */
export function routeLimits(config: Config) {
	const perMinute = (max: number, keyGenerator: (r: FastifyRequest) => Promise<string>) => ({ max, timeWindow: '1 minute', keyGenerator });
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
		const redis = app.config.REDIS_URL ? connectRedis(app, app.config.REDIS_URL) : undefined;
		await app.register(rateLimit, {
			global: false,
			...(redis
				? {
						redis,
						nameSpace: 'flackyness-rl:',
						// Redis down: requests are served without limits rather than refused (logged below).
						skipOnError: true
					}
				: {}),
			errorResponseBuilder: (_request, context) => ({
				statusCode: 429,
				error: 'Too Many Requests',
				message: `Rate limit of ${context.max} requests per ${context.after} exceeded; retry in ${Math.ceil(context.ttl / 1000)} s.`
			})
		});
	},
	{ name: 'rate-limit' }
);

/**
 * One Redis connection for the rate-limit counters. It never queues commands while disconnected
 * and gives up on a command quickly, so an unreachable Redis costs a request milliseconds, not
 * seconds; the limits then stop applying until it is back (skipOnError), which is logged once per
 * outage.
 */
function connectRedis(app: FastifyInstance, url: string): Redis {
	const redis = new Redis(url, {
		enableOfflineQueue: false,
		maxRetriesPerRequest: 0,
		connectTimeout: 1000,
		commandTimeout: 500,
		lazyConnect: false,
		retryStrategy: (times) => Math.min(times * 200, 2000)
	});
	let down = false;
	redis.on('error', (err) => {
		if (down) return;
		down = true;
		app.log.warn({ event: 'ratelimit.redis_down', err: err.message }, 'Redis is unreachable: rate limits are not enforced until it is back');
	});
	redis.on('ready', () => {
		if (down) app.log.info({ event: 'ratelimit.redis_up' }, 'Redis is back: rate limits are enforced again');
		down = false;
	});
	app.addHook('onClose', async () => {
		redis.disconnect();
	});
	return redis;
}
