import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.js';

export interface Database {
	pool: pg.Pool;
	prisma: PrismaClient;
	embedded: boolean;
	close(): Promise<void>;
}

/** One pool shared by Prisma and the hand-written SQL (bulk ingestion, migrations, analysis). */
export function createDatabase(opts: { url: string; embedded: boolean; poolSize: number }): Database {
	const pool = new pg.Pool({
		connectionString: opts.url,
		// PGlite is one session: a second pooled connection would interleave transactions.
		max: opts.embedded ? 1 : opts.poolSize,
		connectionTimeoutMillis: 5_000,
		idleTimeoutMillis: 30_000,
		application_name: 'flackyness'
	});
	// An idle client losing its connection (e.g. PostgreSQL restarting) must not crash the process.
	pool.on('error', () => undefined);
	// Nor may a checked-out one (a transaction from pool.connect()): pg-pool listens for errors only
	// on idle clients and inside pool.query, and an 'error' event nobody listens to kills the process.
	// The error still fails the client's queries, and the pool drops the broken client on release.
	pool.on('connect', (client) => client.on('error', () => undefined));
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
