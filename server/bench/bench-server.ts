import Fastify from 'fastify';
import app from '../src/app.js';
import { loadConfig } from '../src/config.js';
import type { Database } from '../src/db/database.js';
import { migrate } from '../src/db/migrate.js';

/** The application on a fresh benchmark database over HTTP, with a project "bench" created through the API. */
export async function benchServer(db: Database, adminToken: string) {
	await migrate(db.pool);
	const config = loadConfig({ LOG_LEVEL: 'silent', DEMO: 'false', ADMIN_TOKEN: adminToken, ANALYSIS_WORKER: 'false', RATE_LIMIT_READS: '1000000' });
	const server = Fastify({ logger: false, pluginTimeout: 120_000 });
	await server.register(app, { config, db, version: 'bench' });
	const base = await server.listen({ host: '127.0.0.1', port: 0 });
	const headers = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
	const created = await fetch(`${base}/api/v1/admin/projects`, { method: 'POST', headers, body: JSON.stringify({ slug: 'bench' }) });
	const { project } = (await created.json()) as { project: { id: string } };
	return { server, base, headers, project };
}
