import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import jwt from '@fastify/jwt';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import auth from './auth/plugin.js';
import { sessionSecret } from './bootstrap.js';
import analysisWorker from './plugins/analysis-worker.js';
import errors from './plugins/errors.js';
import openapi from './plugins/openapi.js';
import rateLimit from './plugins/rate-limit.js';
import runSweeper from './plugins/run-sweeper.js';
import security from './plugins/security.js';
import admin from './routes/api/admin.js';
import reports from './routes/api/reports.js';
import runs from './routes/api/runs.js';
import health from './routes/health.js';
import read from './routes/api/read.js';
import authRoutes, { dashboardKey } from './routes/api/auth.js';
import settings from './routes/api/settings.js';
import users from './routes/api/users.js';

declare module 'fastify' {
	interface FastifyInstance {
		db: Database;
		config: Config;
	}
}

export interface AppOptions {
	config: Config;
	db: Database;
	version: string;
	migrationsDir?: string;
	/** Signs session tokens; default: JWT_SECRET, or the secret kept in DATA_DIR. */
	sessionSecret?: string;
}

/**
 * Where a dashboard running in this process finds the key that lets it pass on the address of the
 * person signing in (see routes/api/auth.ts); a dashboard of its own derives it from JWT_SECRET.
 */
export const DASHBOARD_KEY = Symbol.for('flackyness.dashboardKey');

/** The whole application as one plugin; server.ts only adds logging, listening and shutdown. */
async function app(instance: FastifyInstance, opts: AppOptions) {
	instance.setValidatorCompiler(validatorCompiler);
	instance.setSerializerCompiler(serializerCompiler);
	instance.decorate('db', opts.db);
	instance.decorate('config', opts.config);

	await instance.register(errors);
	await instance.register(security, { corsOrigins: opts.config.CORS_ORIGINS });
	await instance.register(rateLimit);
	const secret = opts.sessionSecret ?? (await sessionSecret(opts.config));
	await instance.register(jwt, {
		secret,
		sign: { algorithm: 'HS256', iss: 'flackyness', expiresIn: opts.config.SESSION_MINUTES * 60 },
		verify: { algorithms: ['HS256'], allowedIss: 'flackyness' }
	});
	(globalThis as Record<symbol, unknown>)[DASHBOARD_KEY] = dashboardKey(secret);
	await instance.register(auth);
	await instance.register(openapi, { version: opts.version });
	await instance.register(runSweeper, { timeoutMinutes: opts.config.RUN_TIMEOUT_MINUTES });
	await instance.register(analysisWorker, { enabled: opts.config.ANALYSIS_WORKER, pollMs: opts.config.ANALYSIS_POLL_MS });

	await instance.register(health, { version: opts.version, migrationsDir: opts.migrationsDir });
	await instance.register(reports);
	await instance.register(runs);
	await instance.register(admin);
	await instance.register(read);
	await instance.register(authRoutes, { secret });
	await instance.register(users);
	await instance.register(settings);
}

export default fp(app, { name: 'flackyness-app', fastify: '5.x' });
