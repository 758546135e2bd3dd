import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import errors from './plugins/errors.js';
import security from './plugins/security.js';
import health from './routes/health.js';

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
}

/** The whole application as one plugin; server.ts only adds logging, listening and shutdown. */
async function app(instance: FastifyInstance, opts: AppOptions) {
	instance.setValidatorCompiler(validatorCompiler);
	instance.setSerializerCompiler(serializerCompiler);
	instance.decorate('db', opts.db);
	instance.decorate('config', opts.config);

	await instance.register(errors);
	await instance.register(security, { corsOrigins: opts.config.CORS_ORIGINS });
	await instance.register(health, { version: opts.version, migrationsDir: opts.migrationsDir });
}

export default fp(app, { name: 'flackyness-app', fastify: '5.x' });
