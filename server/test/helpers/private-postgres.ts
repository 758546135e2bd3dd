/**
 * A PostgreSQL cluster of a test's own (Debian's binaries, a temporary folder, a free loopback
 * port, trust authentication), for tests that stop and start PostgreSQL: the shared server on 5432
 * serves every other test file running in parallel and must never be touched.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './server-process.js';

const run = promisify(execFile);

/** Debian's PostgreSQL binaries, newest major version first. */
export function postgresBinDir(): string {
	const root = '/usr/lib/postgresql';
	const versions = existsSync(root)
		? readdirSync(root)
				.filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')))
				.sort((a, b) => Number(b) - Number(a))
		: [];
	if (versions.length === 0) throw new Error(`no PostgreSQL binaries under ${root} (apt-get install postgresql)`);
	return path.join(root, versions[0]!, 'bin');
}

export interface PrivatePostgres {
	port: number;
	/** URL of the database `name` given at creation. */
	url: string;
	running(): boolean;
	/** pg_ctl stop (mode fast: open sessions are ended, as a restart or failover does). */
	stop(mode?: 'fast' | 'immediate'): Promise<void>;
	/** Starts it again, on the same port with the same data. */
	start(): Promise<void>;
	/** Stops it if running and removes its folder. */
	destroy(): Promise<void>;
	log(): Promise<string>;
}

export async function startPrivatePostgres(opts: { database?: string } = {}): Promise<PrivatePostgres> {
	const bin = postgresBinDir();
	const root = await mkdtemp(path.join(tmpdir(), 'fk-private-pg-'));
	const data = path.join(root, 'data');
	const logFile = path.join(root, 'server.log');
	const port = await freePort();
	const asRoot = process.getuid?.() === 0;
	// PostgreSQL refuses to run as root: as root, run its tools as the `postgres` user.
	const pgTool = (tool: string, args: string[], timeout = 120_000) =>
		asRoot
			? run('runuser', ['-u', 'postgres', '--', path.join(bin, tool), ...args], { timeout })
			: run(path.join(bin, tool), args, { timeout });
	if (asRoot) await run('chown', ['postgres:postgres', root]);
	await chmod(root, 0o700);
	let up = false;
	const start = async () => {
		await pgTool('pg_ctl', [
			'-D',
			data,
			'-l',
			logFile,
			'-w',
			'-t',
			'90',
			'-o',
			`-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50`,
			'start'
		]);
		up = true;
	};
	const stop = async (mode: 'fast' | 'immediate' = 'fast') => {
		if (!up) return;
		await pgTool('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '90', 'stop']);
		up = false;
	};
	try {
		await pgTool('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync', '--locale=C']);
		await start();
		const database = opts.database ?? 'postgres';
		if (database !== 'postgres') await pgTool('createdb', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', database]);
		return {
			port,
			url: `postgresql://postgres@127.0.0.1:${port}/${database}`,
			running: () => up,
			start,
			stop,
			async destroy() {
				await stop('immediate').catch(() => undefined);
				await rm(root, { recursive: true, force: true });
			},
			async log() {
				const { readFile } = await import('node:fs/promises');
				return readFile(logFile, 'utf8').catch(() => '');
			}
		};
	} catch (err) {
		await stop('immediate').catch(() => undefined);
		await rm(root, { recursive: true, force: true });
		throw err;
	}
}
