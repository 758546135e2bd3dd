import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PgliteWireServer } from './pglite-wire.js';

export interface EmbeddedDatabase {
	url: string;
	dataDir: string;
	/** The PGlite instance itself, for what its socket does not carry (COPY FROM STDIN, in the ingestion benchmark). */
	instance: PGlite;
	close(): Promise<void>;
}

/**
 * Runs PGlite in this process and serves it over the PostgreSQL wire protocol, so that the pool,
 * the migrator and Prisma Studio all take the same `pg` path as with a real server.
 * PGlite is a single session: the wire server lends it to one connection at a time, from a
 * client's first message until it is idle outside a transaction (see pglite-wire.ts).
 */
export async function startEmbeddedDatabase(opts: { dataDir: string; port: number; host?: string }): Promise<EmbeddedDatabase> {
	const dataDir = path.resolve(opts.dataDir, 'pgdata');
	await mkdir(dataDir, { recursive: true });
	const db = await PGlite.create({ dataDir });
	const host = opts.host ?? '127.0.0.1';
	const server = new PgliteWireServer(db);
	let port: number;
	try {
		port = await server.listen(opts.port, host);
	} catch (err) {
		await db.close();
		throw err;
	}
	return {
		url: `postgresql://postgres:postgres@${host}:${port}/postgres?sslmode=disable`,
		dataDir,
		instance: db,
		async close() {
			await server.close();
			await db.close();
		}
	};
}
