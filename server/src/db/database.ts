import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.js';

export interface Database {
	pool: pg.Pool;
	prisma: PrismaClient;
	embedded: boolean;
	close(): Promise<void>;
}

/** How long the database may take, in milliseconds; 0 turns a bound off. */
export interface DatabaseTimeouts {
	/** PostgreSQL's statement_timeout: a statement running longer is cancelled (57014). */
	statementMs: number;
	/** PostgreSQL's lock_timeout: a statement waiting longer for a lock is cancelled (55P03). */
	lockMs: number;
	/** Waiting for a pooled connection, or for a new one to open. */
	connectMs: number;
}

/**
 * The server's own bound on a statement when PostgreSQL cannot enforce its own: a server that is
 * frozen (stopped process, saturated host, lost packets) never sends the cancellation, so the
 * client stops waiting a little after statement_timeout would have fired. pg-pool then discards
 * the connection, and the request answers 503 (see plugins/errors.ts).
 */
export const CLIENT_DEADLINE_GRACE_MS = 2_000;

const DEFAULT_CONNECT_MS = 5_000;

/**
 * One pool shared by Prisma and the hand-written SQL (bulk ingestion, migrations, analysis).
 *
 * With `timeouts`, every session starts with statement_timeout and lock_timeout set (startup
 * parameters), and every query has a client-side deadline. PGlite (embedded) ignores both
 * settings: it runs in this process, one statement at a time on one session, so a statement cannot
 * wait for another's lock, and a statement it runs holds the event loop until it ends. There only
 * the connection wait (connectMs) applies, and it is what bounds a request queued behind a long one.
 */
export function createDatabase(opts: { url: string; embedded: boolean; poolSize: number; timeouts?: DatabaseTimeouts }): Database {
	const t = opts.timeouts;
	const bounded = t !== undefined && !opts.embedded;
	const pool = new pg.Pool({
		connectionString: opts.url,
		// PGlite is one session, lent to one connection at a time (db/pglite-wire.ts): more would only queue.
		max: opts.embedded ? 1 : opts.poolSize,
		connectionTimeoutMillis: t?.connectMs || DEFAULT_CONNECT_MS,
		idleTimeoutMillis: 30_000,
		application_name: 'flackyness',
		...(bounded && t.statementMs > 0 ? { statement_timeout: t.statementMs, query_timeout: t.statementMs + CLIENT_DEADLINE_GRACE_MS } : {}),
		...(bounded && t.lockMs > 0 ? { lock_timeout: t.lockMs } : {})
	});
	// An idle client losing its connection (e.g. PostgreSQL restarting) must not crash the process.
	pool.on('error', () => undefined);
	// Nor may a checked-out one (a transaction from pool.connect()): pg-pool listens for errors only
	// on idle clients and inside pool.query, and an 'error' event nobody listens to kills the process.
	// The error still fails the client's queries, and the pool drops the broken client on release.
	pool.on('connect', (client) => {
		client.on('error', () => undefined);
		if (bounded) closeOnDeadline(client);
	});
	const adapter = new PrismaPg(pool);
	const prisma = new PrismaClient({ adapter });
	return {
		pool,
		prisma,
		embedded: opts.embedded,
		async close() {
			await prisma.$disconnect();
			await pool.end();
		}
	};
}

const READ_TIMEOUT = 'Query read timeout';

/**
 * When a query's client-side deadline passes, the server is not answering: the connection is
 * closed at once. The queries queued behind it (a transaction's ROLLBACK) then fail immediately
 * instead of each waiting a deadline of its own, pg-pool discards the client on release, and
 * PostgreSQL rolls back whatever the session had open when it sees the connection gone.
 */
function closeOnDeadline(client: pg.PoolClient): void {
	const close = (err: unknown) => {
		if ((err as Error | null)?.message !== READ_TIMEOUT) return;
		(client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
	};
	const query = client.query.bind(client) as (...args: unknown[]) => unknown;
	(client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
		const last = args.length - 1;
		const callback = args[last];
		if (typeof callback === 'function') {
			args[last] = (err: unknown, ...rest: unknown[]) => {
				close(err);
				return (callback as (...a: unknown[]) => unknown)(err, ...rest);
			};
		}
		const result = query(...args);
		if (result instanceof Promise) result.catch(close);
		return result;
	};
}

/**
 * Lifts the statement and lock timeouts on one checked-out connection, for work that may rightly
 * take long (migrations building an index on a big table, waiting for another instance's migration
 * lock). Release the connection with `release(true)` afterwards: it is closed, never handed to a
 * request without its bounds.
 */
export async function liftTimeouts(client: pg.PoolClient): Promise<void> {
	const params = (client as unknown as { connectionParameters: { query_timeout?: number | false } }).connectionParameters;
	params.query_timeout = false;
	await client.query('SET statement_timeout = 0; SET lock_timeout = 0');
}

/** BEGIN, `fn`, COMMIT on a checked-out connection; ROLLBACK when `fn` throws. */
export async function inTransaction<T>(client: pg.PoolClient, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
	await client.query('BEGIN');
	try {
		const result = await fn(client);
		await client.query('COMMIT');
		return result;
	} catch (err) {
		await client.query('ROLLBACK').catch(() => undefined);
		throw err;
	}
}

/** Runs `fn` in a transaction on a pooled connection. */
export async function transaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
	const client = await pool.connect();
	try {
		return await inTransaction(client, fn);
	} finally {
		client.release();
	}
}

/**
 * Runs `fn` in a transaction on a connection without statement and lock timeouts, for maintenance
 * that grows with the data (deleting a big project, moving or dropping months of results) and must
 * finish rather than be cancelled over and over. The connection is closed afterwards (release(true)).
 */
export async function withoutTimeouts<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
	const client = await pool.connect();
	try {
		await liftTimeouts(client);
		return await inTransaction(client, fn);
	} finally {
		client.release(true);
	}
}
