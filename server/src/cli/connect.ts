import { createConnection } from 'node:net';
import { loadConfig, type Config } from '../config.js';
import { createDatabase, type Database } from '../db/database.js';
import { startEmbeddedDatabase, type EmbeddedDatabase } from '../db/embedded.js';

function listening(port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const s = createConnection({ host: '127.0.0.1', port });
		s.once('connect', () => {
			s.end();
			resolve(true);
		});
		s.once('error', () => resolve(false));
	});
}

/**
 * The database a command-line tool should use: DATABASE_URL, else the running server's embedded
 * database through its socket (PGlite cannot be opened twice), else the data folder itself.
 */
export async function connectForCli(): Promise<{ db: Database; config: Config; close(): Promise<void> }> {
	const config = loadConfig();
	let embedded: EmbeddedDatabase | undefined;
	let url = config.DATABASE_URL;
	if (!url) {
		if (await listening(config.EMBEDDED_DB_PORT)) {
			url = `postgresql://postgres:postgres@127.0.0.1:${config.EMBEDDED_DB_PORT}/postgres?sslmode=disable`;
		} else {
			embedded = await startEmbeddedDatabase({ dataDir: config.DATA_DIR, port: 0 });
			url = embedded.url;
		}
	}
	const db = createDatabase({ url, embedded: !config.DATABASE_URL, poolSize: 4 });
	return {
		db,
		config,
		async close() {
			await db.close();
			await embedded?.close();
		}
	};
}
