import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Fastify from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import app from './app.js';
import { bootstrap, firstStartBanner, publicUrl } from './bootstrap.js';
import { ConfigError, databaseTimeouts, loadConfig, type Config } from './config.js';
import { createDatabase, type Database } from './db/database.js';
import { seedDemo } from './demo.js';
import { startEmbeddedDatabase, type EmbeddedDatabase } from './db/embedded.js';
import { MigrationError, migrate } from './db/migrate.js';
import { VERSION } from './version.js';
import { requestSerializer } from './lib/log-safety.js';

type NodeHandler = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

function fail(message: string): never {
	process.stderr.write(`\nflackyness: ${message}\n\n`);
	process.exit(1);
}

async function openDatabase(config: Config): Promise<{ db: Database; embedded?: EmbeddedDatabase; where: string }> {
	if (config.DATABASE_URL) {
		const u = new URL(config.DATABASE_URL);
		const where = `PostgreSQL at ${u.hostname}:${u.port || 5432}${u.pathname}`;
		return { db: createDatabase({ url: config.DATABASE_URL, embedded: false, poolSize: config.DB_POOL_SIZE, timeouts: databaseTimeouts(config) }), where };
	}
	let embedded: EmbeddedDatabase;
	try {
		embedded = await startEmbeddedDatabase({ dataDir: config.DATA_DIR, port: config.EMBEDDED_DB_PORT });
	} catch (err) {
		const e = err as NodeJS.ErrnoException;
		if (e.code === 'EADDRINUSE') {
			fail(
				`port ${config.EMBEDDED_DB_PORT} for the embedded database is in use (is another Flackyness running on ${config.DATA_DIR}?). Set EMBEDDED_DB_PORT to another port.`
			);
		}
		fail(`could not start the embedded database in ${config.DATA_DIR}: ${e.message}`);
	}
	const where = `embedded PGlite in ${embedded.dataDir} (also on ${embedded.url.replace(/\/\/[^@]*@/, '//')})`;
	return { db: createDatabase({ url: embedded.url, embedded: true, poolSize: 1, timeouts: databaseTimeouts(config) }), embedded, where };
}

async function loadDashboard(config: Config): Promise<NodeHandler | null> {
	const dir = config.DASHBOARD_DIR ?? fileURLToPath(new URL('../../dashboard/build', import.meta.url));
	const file = path.join(dir, 'handler.js');
	if (!existsSync(file)) return null;
	const mod = (await import(pathToFileURL(file).href)) as { handler: NodeHandler };
	return mod.handler;
}

async function main() {
	let config: Config;
	try {
		// A `.env` in the working folder (see .env.example); what the environment already says wins.
		if (existsSync('.env')) process.loadEnvFile('.env');
		config = loadConfig();
	} catch (err) {
		if (err instanceof ConfigError) fail(err.message);
		throw err;
	}

	const { db, embedded, where } = await openDatabase(config);
	const closeDb = async () => {
		await db.close().catch(() => undefined);
		await embedded?.close().catch(() => undefined);
	};

	try {
		await db.pool.query('SELECT 1');
	} catch (err) {
		await closeDb();
		fail(`cannot connect to the database (${where}): ${(err as Error).message}`);
	}
	try {
		await migrate(db.pool, { dir: config.MIGRATIONS_DIR, log: (m) => process.stdout.write(`flackyness: ${m}\n`) });
	} catch (err) {
		await closeDb();
		if (err instanceof MigrationError) fail(err.message);
		throw err;
	}
	const boot = await bootstrap(db, config);

	const server = Fastify({
		logger: {
			level: config.LOG_LEVEL,
			redact: {
				paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
				censor: '[redacted]'
			},
			serializers: { req: requestSerializer }
		},
		bodyLimit: config.BODY_LIMIT,
		trustProxy: config.TRUST_PROXY,
		requestIdHeader: 'x-request-id',
		return503OnClosing: true,
		forceCloseConnections: 'idle'
	});
	await server.register(app, { config, db, version: VERSION, migrationsDir: config.MIGRATIONS_DIR });

	const dashboard = await loadDashboard(config);
	if (dashboard) {
		// Everything that is not an API route is the dashboard's: SvelteKit renders pages and 404s.
		server.route({
			method: ['GET', 'HEAD', 'POST'],
			url: '/*',
			config: { rateLimit: false },
			handler: (request, reply) => {
				if (request.url.startsWith('/api/')) {
					return reply.callNotFound();
				}
				reply.hijack();
				dashboard(request.raw, reply.raw, () => {
					reply.raw.statusCode = 404;
					reply.raw.end('Not found');
				});
			}
		});
	}

	let closing = false;
	const demoLoading = new AbortController();
	let demoDone: Promise<unknown> = Promise.resolve();
	// Keep-alive connections that finish a request during shutdown must not hold it open.
	server.addHook('onSend', async (_request, reply) => {
		if (closing) reply.header('connection', 'close');
	});
	const shutdown = async (signal: string) => {
		if (closing) return;
		closing = true;
		server.log.info({ signal }, 'shutting down: no new connections, finishing requests in flight');
		const timer = setTimeout(() => {
			server.log.error('shutdown timed out; exiting');
			process.exit(1);
		}, config.SHUTDOWN_TIMEOUT_MS);
		timer.unref();
		try {
			await server.close();
			demoLoading.abort();
			await demoDone;
			await closeDb();
			server.log.info('shutdown complete');
			process.exit(0);
		} catch (err) {
			server.log.error({ err }, 'shutdown failed');
			process.exit(1);
		}
	};
	process.on('SIGTERM', () => void shutdown('SIGTERM'));
	process.on('SIGINT', () => void shutdown('SIGINT'));

	try {
		await server.listen({ host: config.HOST, port: config.PORT });
	} catch (err) {
		await closeDb();
		const e = err as NodeJS.ErrnoException;
		if (e.code === 'EADDRINUSE') fail(`port ${config.PORT} is already in use; set PORT to another port.`);
		fail(`could not listen on ${config.HOST}:${config.PORT}: ${e.message}`);
	}
	const url = publicUrl(config);
	process.stdout.write(firstStartBanner(boot, url));
	process.stdout.write(
		`\nflackyness ${VERSION} is running at ${url}  (database: ${where}${dashboard ? '' : '; dashboard not built'})\n\n`
	);
	if (boot.demoProject) {
		const demo = boot.demoProject;
		process.stdout.write('flackyness: loading a simulated CI history into the demo project…\n');
		demoDone = seedDemo(db.pool, demo.id, { signal: demoLoading.signal }).then(
			(r) =>
				process.stdout.write(
					`flackyness: demo project ready: ${r.runs} runs, ${r.results} results, ${r.tests} tests analysed (${(r.ms / 1000).toFixed(1)} s). Open ${url}\n`
				),
			(err: unknown) => {
				if (!demoLoading.signal.aborted) server.log.warn({ err: (err as Error).message }, 'loading the demo history failed');
			}
		);
	}
}

main().catch((err: unknown) => {
	process.stderr.write(`flackyness: failed to start: ${(err as Error).stack ?? String(err)}\n`);
	process.exit(1);
});
