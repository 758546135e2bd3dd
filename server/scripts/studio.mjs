// `pnpm studio`: Prisma Studio against the database the server uses.
//  - DATABASE_URL set: that PostgreSQL.
//  - otherwise the embedded PGlite: through the running server's wire-protocol port when it is up
//    (its wire server lends PGlite's one session to one connection at a time, between
//    transactions; a second process must not open the folder), else opened here.
import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const serverDir = fileURLToPath(new URL('..', import.meta.url));
const studioPort = process.env.STUDIO_PORT ?? '5555';
const dbPort = Number(process.env.EMBEDDED_DB_PORT ?? 54329);

function listening(port) {
	return new Promise((resolve) => {
		const s = createConnection({ host: '127.0.0.1', port });
		s.once('connect', () => (s.end(), resolve(true)));
		s.once('error', () => resolve(false));
	});
}

let url = process.env.DATABASE_URL;
let embedded;
if (!url) {
	if (await listening(dbPort)) {
		url = `postgresql://postgres:postgres@127.0.0.1:${dbPort}/postgres?sslmode=disable`;
		console.log(`Using the running server's embedded database on port ${dbPort}.`);
	} else {
		const { startEmbeddedDatabase } = await import('../dist/db/embedded.js');
		const dataDir = process.env.DATA_DIR ?? `${process.env.INIT_CWD ?? process.cwd()}/.flackyness`;
		embedded = await startEmbeddedDatabase({ dataDir, port: dbPort });
		url = embedded.url;
		console.log(`Opened the embedded database in ${embedded.dataDir} (the server is not running).`);
	}
}

const env = { ...process.env, DATABASE_URL: url, PRISMA_HIDE_UPDATE_MESSAGE: '1' };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= fileURLToPath(new URL('./no-schema-engine.sh', import.meta.url));
const args = [require.resolve('prisma/build/index.js'), 'studio', '--port', studioPort, '--browser', 'none', ...process.argv.slice(2)];
const child = spawn(process.execPath, args, { stdio: 'inherit', env, cwd: serverDir });
const stop = async (code) => {
	await embedded?.close();
	process.exit(code ?? 0);
};
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code) => void stop(code));
