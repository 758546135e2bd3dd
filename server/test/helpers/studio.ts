import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { makeReport } from './report-factory.js';
import { freePort, type ServerProcess } from './server-process.js';

const STUDIO = fileURLToPath(new URL('../../scripts/studio.mjs', import.meta.url));

export interface StudioProcess {
	url: string;
	proc: ChildProcess;
	stop(): Promise<void>;
}

/** Starts `pnpm studio` (scripts/studio.mjs) as an admin would, once it says it is running. */
export async function startStudio(env: Record<string, string>, cwd: string): Promise<StudioProcess> {
	const port = await freePort();
	const proc = spawn(process.execPath, [STUDIO], {
		cwd,
		env: { PATH: process.env.PATH, HOME: process.env.HOME, STUDIO_PORT: String(port), ...env },
		stdio: ['ignore', 'pipe', 'pipe']
	});
	const exited = new Promise((r) => proc.once('exit', r));
	const stop = async () => {
		if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
		await exited;
	};
	let out = '';
	proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
	proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
	try {
		await new Promise<void>((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error(`studio did not start:\n${out}`)), 60_000);
			proc.stdout!.on('data', () => out.includes('Prisma Studio is running') && (clearTimeout(timer), resolve()));
			proc.once('exit', (code) => (clearTimeout(timer), reject(new Error(`studio exited ${code}:\n${out}`))));
		});
	} catch (err) {
		await stop();
		throw err;
	}
	return { url: `http://localhost:${port}`, proc, stop };
}

/** Runs SQL through Studio's own backend endpoint, as its UI does; answers [error, result]. */
export async function studioQuery(url: string, sql: string, parameters: unknown[] = []): Promise<[unknown, unknown]> {
	const res = await fetch(`${url}/bff`, {
		method: 'POST',
		headers: { 'content-type': 'application/json', origin: url },
		body: JSON.stringify({ procedure: 'query', query: { sql, parameters } })
	});
	if (res.status !== 200) throw new Error(`studio answered ${res.status}: ${await res.text()}`);
	return (await res.json()) as [unknown, unknown];
}

// What opening Studio asks: the tables and columns of a schema, with parameters, so that its
// driver (postgres.js) sends Parse/Describe/Flush and waits before Bind/Execute/Sync: the sequence
// that another client's message used to cut in two on the embedded database.
const INTROSPECT = `SELECT c.relname AS name, json_agg(a.attname ORDER BY a.attnum) AS columns
	FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
	JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
	WHERE n.nspname = $1 AND c.relkind = ANY($2) GROUP BY c.relname ORDER BY c.relname`;
const BROWSE = 'SELECT r.* FROM runs r ORDER BY r.created_at DESC LIMIT $1';

/** Opens Studio and browses the runs table once; answers what went wrong, or null. */
export async function openAndBrowse(url: string): Promise<string | null> {
	const page = await fetch(url);
	if (page.status !== 200) return `page answered ${page.status}`;
	const [introspectError, tables] = await studioQuery(url, INTROSPECT, ['public', ['r', 'p', 'v']]);
	if (introspectError) return `introspect: ${JSON.stringify(introspectError)}`;
	if (!JSON.stringify(tables).includes('"test_results"')) return `introspect saw no test_results: ${JSON.stringify(tables)}`;
	const [browseError, rows] = await studioQuery(url, BROWSE, [50]);
	if (browseError) return `browse: ${JSON.stringify(browseError)}`;
	return Array.isArray(rows) ? null : `browse answered ${JSON.stringify(rows)}`;
}

/** Creates a project through the admin API of a server process; answers its ingestion token. */
export async function createProject(server: ServerProcess, admin: string, slug: string): Promise<string> {
	const res = await fetch(`${server.url}/api/v1/admin/projects`, {
		method: 'POST',
		headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
		body: JSON.stringify({ slug })
	});
	if (res.status !== 201) throw new Error(`creating project ${slug}: ${res.status} ${await res.text()}`);
	return ((await res.json()) as { token: string }).token;
}

export interface UploadTally {
	stored: number;
	results: number;
	failures: string[];
}

/** Uploads reports one after another until stopped; answers what went in and every refusal. */
export function uploadLoop(server: ServerProcess, token: string, seed: number, tests = 40) {
	let stopped = false;
	const done = (async (): Promise<UploadTally> => {
		const tally: UploadTally = { stored: 0, results: 0, failures: [] };
		for (let i = 0; !stopped; i++) {
			const res = await fetch(`${server.url}/api/v1/reports`, {
				method: 'POST',
				headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
				body: JSON.stringify(makeReport({ tests, retries: 1, flakyRate: 0.1, seed: seed * 100_000 + i }))
			});
			if (res.status !== 201) {
				tally.failures.push(`${res.status} ${await res.text()}`);
				continue;
			}
			tally.stored++;
			tally.results += ((await res.json()) as { counts: { total: number } }).counts.total;
		}
		return tally;
	})();
	return {
		stop: () => {
			stopped = true;
			return done;
		}
	};
}
