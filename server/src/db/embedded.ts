import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

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
 * PGlite is a single session: the socket server's queue keeps a transaction's queries together,
 * and the server's own pool holds a single connection (see database.ts).
 */
export async function startEmbeddedDatabase(opts: { dataDir: string; port: number; host?: string }): Promise<EmbeddedDatabase> {
	const dataDir = path.resolve(opts.dataDir, 'pgdata');
	await mkdir(dataDir, { recursive: true });
	const db = await PGlite.create({ dataDir });
	const host = opts.host ?? '127.0.0.1';
	const server = new PGLiteSocketServer({ db, host, port: opts.port, maxConnections: 8 });
	try {
		await server.start();
	} catch (err) {
		await db.close();
		throw err;
	}
	const conn = server.getServerConn();
	const actualPort = Number(conn.slice(conn.lastIndexOf(':') + 1));
	return {
		url: `postgresql://postgres:postgres@${host}:${actualPort}/postgres?sslmode=disable`,
		dataDir,
		instance: db,
		async close() {
			await server.stop();
			await db.close();
		}
	};
}
