import Fastify, { type FastifyInstance } from 'fastify';
import app from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { Database } from '../../src/db/database.js';
import { createMigratedDatabase, type Backend, type TestDatabase } from './db.js';

export interface TestApp {
	app: FastifyInstance;
	db: Database;
	test: TestDatabase;
	config: Config;
	close(): Promise<void>;
}

/** The real application plugin on a fresh migrated database; requests go through app.inject(). */
export async function buildTestApp(
	backend: Backend,
	env: Record<string, string> = {},
	extend?: (app: FastifyInstance) => Promise<void> | void
): Promise<TestApp> {
	const { db, test, close } = await createMigratedDatabase(backend);
	const config = loadConfig({ LOG_LEVEL: 'silent', DEMO: 'false', ...env });
	const instance = Fastify({ logger: { level: config.LOG_LEVEL }, bodyLimit: config.BODY_LIMIT });
	await instance.register(app, { config, db, version: 'test' });
	if (extend) await instance.register(async (scope) => extend(scope));
	await instance.ready();
	return {
		app: instance,
		db,
		test,
		config,
		async close() {
			await instance.close();
			await close();
		}
	};
}
