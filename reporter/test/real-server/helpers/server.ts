/**
 * The real Flackyness server for the reporter's end-to-end tests: the built `server/dist/server.js`
 * as its own process, on a fresh PostgreSQL database of its own, with projects created through the
 * admin API. What it stored is read back with SQL.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startServer, type ServerProcess } from '../../../../server/test/helpers/server-process.js';

export const ADMIN_TOKEN = 'reporter-e2e-admin-token-0123456789abcdef';
const PG_ADMIN_URL = process.env.TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

async function adminQuery(sql: string): Promise<void> {
	const client = new pg.Client({ connectionString: PG_ADMIN_URL });
	await client.connect();
	try {
		await client.query(sql);
	} finally {
		await client.end();
	}
}

export interface Project {
	id: string;
	slug: string;
	/** Ingestion token. */
	token: string;
}

export interface RealServer {
	readonly url: string;
	readonly port: number;
	readonly databaseUrl: string;
	/** The server process of the moment (a new one after `restart`). */
	readonly process: ServerProcess;
	createProject(slug: string): Promise<Project>;
	query<T extends object = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
	/** `kill -9`: no graceful shutdown, requests in flight are cut. */
	kill(): Promise<void>;
	/** Starts the server again on the same port and database. */
	restart(): Promise<void>;
	/** Stops the server and drops its database. */
	destroy(): Promise<void>;
}

/**
 * Rate limits are raised: the tests open many runs from one address within a minute, which the
 * defaults (meant for CI fleets) would refuse. The analysis worker runs, as in production.
 */
const SERVER_ENV = {
	ADMIN_TOKEN,
	DEMO: 'false',
	RATE_LIMIT_RUNS: '10000',
	RATE_LIMIT_BATCHES: '100000',
	RATE_LIMIT_READS: '10000',
	RATE_LIMIT_ADMIN: '10000'
};

/** `env` adds to or overrides the server's environment (the benchmark turns the analysis worker off). */
export async function startRealServer(env: Record<string, string> = {}): Promise<RealServer> {
	const name = `fk_reporter_${randomBytes(6).toString('hex')}`;
	await adminQuery(`CREATE DATABASE ${name}`);
	const dbUrl = new URL(PG_ADMIN_URL);
	dbUrl.pathname = `/${name}`;
	const databaseUrl = dbUrl.toString();
	const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
	// Idle connections are cut when the database is dropped at the end: not an error of the test.
	pool.on('error', () => {});
	let proc: ServerProcess;
	try {
		proc = await startServer({ ...SERVER_ENV, ...env, DATABASE_URL: databaseUrl });
	} catch (err) {
		await pool.end();
		await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
		throw err;
	}
	const port = proc.port;
	const url = proc.url;

	return {
		url,
		port,
		databaseUrl,
		get process() {
			return proc;
		},
		async createProject(slug) {
			const res = await fetch(`${url}/api/v1/admin/projects`, {
				method: 'POST',
				headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
				body: JSON.stringify({ slug })
			});
			if (res.status !== 201) throw new Error(`creating project ${slug}: HTTP ${res.status} ${await res.text()}`);
			const body = (await res.json()) as { project: { id: string }; token: string };
			return { id: body.project.id, slug, token: body.token };
		},
		async query<T extends object>(sql: string, params: unknown[] = []) {
			return (await pool.query(sql, params)).rows as T[];
		},
		async kill() {
			await proc.stop('SIGKILL');
		},
		async restart() {
			proc = await startServer({ ...SERVER_ENV, ...env, DATABASE_URL: databaseUrl, PORT: String(port) });
		},
		async destroy() {
			await proc.stop('SIGKILL');
			await pool.end();
			await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
		}
	};
}

/** Waits until `check` holds, polling; fails with `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
	const until = Date.now() + timeoutMs;
	while (!(await check())) {
		if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 100));
	}
}
