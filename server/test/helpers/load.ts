/**
 * An open-loop load generator for the load test and `pnpm --filter ./server bench:load`: uploads of
 * Playwright JSON reports and read-API requests at fixed rates, over keep-alive HTTP on loopback.
 *
 * Open loop: request i is due at start + i / rate whatever happened to the ones before it, and its
 * latency is measured from that due time, so a slow server shows up in the figures instead of
 * quietly lowering the rate (no coordinated omission). The number of requests is fixed in advance
 * (rate × seconds), each has a timeout, and the generator stops by itself.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createPostgresDatabase } from './db.js';
import { makeReport } from './report-factory.js';
import { startServer, type ServerProcess } from './server-process.js';

export interface LoadOptions {
	/** Base URLs of the server instances; requests go round-robin. Loopback only. */
	bases: string[];
	uploadToken: string;
	readToken: string;
	/** Project id (read routes take it in the path). */
	projectId: string;
	uploadsPerSecond: number;
	readsPerSecond: number;
	seconds: number;
	/** Tests per uploaded report. */
	reportTests: number;
	/** Prefix of the idempotency keys, so that the rows of this load can be counted. */
	tag: string;
	/** Test ids for the test-detail reads. */
	testIds: string[];
	timeoutMs?: number;
	/** Whether reports carry failed and flaky tests (with errors); default true. */
	failing?: boolean;
	/** Connections per instance, for uploads and for reads each. */
	connections?: number;
}

export interface KindResult {
	sent: number;
	ok: number;
	/** Failures by status code or error code. */
	errors: Record<string, number>;
	/** Milliseconds from due time to the end of the response, sorted. */
	latencies: number[];
}

export interface LoadResult {
	uploads: KindResult;
	reads: KindResult;
	/** Per read route, e.g. "stats". */
	readsByRoute: Record<string, KindResult>;
	/** Wall time from the first due request to the last response. */
	elapsedMs: number;
	/** Largest delay between a request's due time and its sending (the generator's own lag). */
	maxSendLagMs: number;
	/** Uploads answered 201 (their idempotency keys). */
	stored: string[];
}

const READ_ROUTES = ['flaky-tests', 'stats', 'runs', 'test'] as const;

function assertLoopback(base: string) {
	const host = new URL(base).hostname;
	if (host !== '127.0.0.1' && host !== '[::1]' && host !== 'localhost') throw new Error(`load only on loopback, not ${host}`);
}

export function percentile(sorted: number[], p: number): number {
	if (sorted.length === 0) return NaN;
	const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
	return sorted[i]!;
}

function emptyKind(): KindResult {
	return { sent: 0, ok: 0, errors: {}, latencies: [] };
}

/** The report bodies to upload: the same suite of tests, with outcomes varying from body to body. */
export function loadReports(tests: number, variants = 16, failing = true): string[] {
	return Array.from({ length: variants }, (_, i) =>
		JSON.stringify(
			makeReport({ tests, retries: 2, failRate: failing ? 0.02 : 0, flakyRate: failing ? 0.08 : 0, seed: 1000 + i, titlePrefix: 'load ' })
		)
	);
}

interface Answer {
	status: number;
	body: string;
}

function request(
	agent: http.Agent,
	base: string,
	opts: { method: string; path: string; headers: Record<string, string>; body?: string; timeoutMs: number }
): Promise<Answer> {
	return new Promise((resolve, reject) => {
		const url = new URL(opts.path, base);
		const req = http.request(
			{ agent, method: opts.method, hostname: url.hostname, port: url.port, path: url.pathname + url.search, headers: opts.headers },
			(res) => {
				const chunks: Buffer[] = [];
				res.on('data', (c: Buffer) => chunks.push(c));
				res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
				res.on('error', reject);
			}
		);
		req.setTimeout(opts.timeoutMs, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
		req.on('error', reject);
		req.end(opts.body);
	});
}

/** Runs the load and answers what happened; never throws for a failed request (it is counted). */
export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
	opts.bases.forEach(assertLoopback);
	if (opts.testIds.length === 0) throw new Error('runLoad needs test ids for the test-detail reads');
	const timeoutMs = opts.timeoutMs ?? 30_000;
	// Uploaders (CI jobs) and readers (dashboard users) are different clients: separate connection
	// pools, so that neither queues behind the other on this side.
	const uploadAgent = new http.Agent({ keepAlive: true, maxSockets: opts.connections ?? 48 });
	const readAgent = new http.Agent({ keepAlive: true, maxSockets: opts.connections ?? 48 });
	const bodies = loadReports(opts.reportTests, 16, opts.failing ?? true);
	const expectedTotal = opts.reportTests;
	const uploads = emptyKind();
	const reads = emptyKind();
	const readsByRoute: Record<string, KindResult> = Object.fromEntries(READ_ROUTES.map((r) => [r, emptyKind()]));
	const stored: string[] = [];
	const uploadCount = Math.round(opts.uploadsPerSecond * opts.seconds);
	const readCount = Math.round(opts.readsPerSecond * opts.seconds);
	const inFlight = new Set<Promise<void>>();
	let maxSendLagMs = 0;
	const start = performance.now();
	let lastEnd = start;

	const track = (kind: KindResult[], due: number, p: Promise<Answer>, check: (a: Answer) => boolean) => {
		for (const k of kind) k.sent++;
		const done = p.then(
			(a) => {
				const ms = performance.now() - due;
				lastEnd = Math.max(lastEnd, performance.now());
				const good = check(a);
				for (const k of kind) {
					if (good) {
						k.ok++;
						k.latencies.push(ms);
					} else k.errors[String(a.status)] = (k.errors[String(a.status)] ?? 0) + 1;
				}
			},
			(err: unknown) => {
				lastEnd = Math.max(lastEnd, performance.now());
				const code = (err as { code?: string }).code ?? 'error';
				for (const k of kind) k.errors[code] = (k.errors[code] ?? 0) + 1;
			}
		);
		inFlight.add(done);
		void done.finally(() => inFlight.delete(done));
	};

	const sendUpload = (i: number, due: number) => {
		const key = `${opts.tag}-${String(i).padStart(6, '0')}`;
		const base = opts.bases[i % opts.bases.length]!;
		const p = request(uploadAgent, base, {
			method: 'POST',
			path: '/api/v1/reports',
			headers: {
				authorization: `Bearer ${opts.uploadToken}`,
				'content-type': 'application/json',
				'x-flackyness-idempotency-key': key,
				'x-flackyness-branch': i % 5 === 0 ? `feature-${i % 7}` : 'main',
				'x-flackyness-commit-sha': (0x10000000 + i).toString(16).padEnd(40, '0')
			},
			body: bodies[i % bodies.length],
			timeoutMs
		});
		track([uploads], due, p, (a) => {
			if (a.status !== 201) return false;
			const receipt = JSON.parse(a.body) as { counts?: { total?: number } };
			if (receipt.counts?.total !== expectedTotal) return false;
			stored.push(key);
			return true;
		});
	};

	const sendRead = (i: number, due: number) => {
		const route = READ_ROUTES[i % READ_ROUTES.length]!;
		const base = opts.bases[(i + 1) % opts.bases.length]!;
		const path =
			route === 'test'
				? `/api/v1/tests/${opts.testIds[i % opts.testIds.length]}`
				: route === 'runs'
					? `/api/v1/projects/${opts.projectId}/runs?pageSize=50`
					: route === 'stats'
						? `/api/v1/projects/${opts.projectId}/stats?days=30`
						: `/api/v1/projects/${opts.projectId}/flaky-tests?pageSize=50`;
		const p = request(readAgent, base, { method: 'GET', path, headers: { authorization: `Bearer ${opts.readToken}` }, timeoutMs });
		track([reads, readsByRoute[route]!], due, p, (a) => a.status === 200);
	};

	let uploadsSent = 0;
	let readsSent = 0;
	await new Promise<void>((resolve) => {
		const tick = () => {
			const now = performance.now();
			while (uploadsSent < uploadCount) {
				const due = start + (uploadsSent * 1000) / opts.uploadsPerSecond;
				if (due > now) break;
				maxSendLagMs = Math.max(maxSendLagMs, now - due);
				sendUpload(uploadsSent++, due);
			}
			while (readsSent < readCount) {
				const due = start + (readsSent * 1000) / opts.readsPerSecond;
				if (due > now) break;
				maxSendLagMs = Math.max(maxSendLagMs, now - due);
				sendRead(readsSent++, due);
			}
			if (uploadsSent >= uploadCount && readsSent >= readCount) {
				clearInterval(timer);
				resolve();
			}
		};
		const timer = setInterval(tick, 2);
		tick();
	});
	while (inFlight.size > 0) await Promise.all([...inFlight]);
	uploadAgent.destroy();
	readAgent.destroy();
	for (const k of [uploads, reads, ...Object.values(readsByRoute)]) k.latencies.sort((a, b) => a - b);
	return { uploads, reads, readsByRoute, elapsedMs: lastEnd - start, maxSendLagMs, stored };
}

export interface RowCheck {
	runs: number;
	results: number;
	/** Runs whose stored results differ from what their report held. */
	incompleteRuns: number;
	/** Runs whose `total` column disagrees with their rows. */
	wrongTotals: number;
}

/** Counts what the load stored, straight from the database. */
export async function countLoadRows(databaseUrl: string, projectId: string, tag: string, perRun: number): Promise<RowCheck> {
	const client = new pg.Client({ connectionString: databaseUrl });
	await client.connect();
	try {
		const { rows } = await client.query<RowCheck>(
			`WITH r AS (
			   SELECT id, total FROM runs WHERE project_id = $1 AND idempotency_key LIKE $2
			 ), c AS (
			   SELECT r.id, r.total, count(tr.run_id)::int AS n FROM r LEFT JOIN test_results tr ON tr.run_id = r.id AND tr.project_id = $1 GROUP BY r.id, r.total
			 )
			 SELECT count(*)::int AS runs, coalesce(sum(n), 0)::int AS results,
			        count(*) FILTER (WHERE n <> $3)::int AS "incompleteRuns",
			        count(*) FILTER (WHERE total <> n)::int AS "wrongTotals"
			 FROM c`,
			[projectId, `client:${tag}-%`, perRun]
		);
		return rows[0]!;
	} finally {
		await client.end();
	}
}

/** CPU time (user + system, ms) a process has used so far, from /proc (Linux); NaN elsewhere. */
export function cpuMsOf(pid: number | undefined): number {
	if (pid === undefined) return NaN;
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
		const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		// utime and stime are fields 14 and 15 of the whole line, 12 and 13 after "pid (comm) ".
		return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
	} catch {
		return NaN;
	}
}

/** CPU time (ms) used so far by the PostgreSQL sessions open on `databaseUrl`'s database, from /proc. */
export async function postgresCpuMs(databaseUrl: string): Promise<Map<number, number>> {
	const client = new pg.Client({ connectionString: databaseUrl });
	await client.connect();
	try {
		const { rows } = await client.query<{ pid: number }>(
			`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`
		);
		return new Map(rows.map((r) => [r.pid, cpuMsOf(r.pid)]));
	} finally {
		await client.end();
	}
}

/** CPU used between two postgresCpuMs readings by the sessions open at the second (new ones count from zero). */
export function cpuBetween(before: Map<number, number>, after: Map<number, number>): number {
	let total = 0;
	for (const [pid, ms] of after) if (Number.isFinite(ms)) total += ms - (before.get(pid) ?? 0);
	return total;
}

/** Formats milliseconds for the printed table. */
export const ms = (x: number) => (Number.isFinite(x) ? (x >= 100 ? x.toFixed(0) : x.toFixed(1)) : '-');

export interface LoadTarget {
	databaseUrl: string;
	servers: ServerProcess[];
	projectId: string;
	token: string;
	testIds: string[];
	close(): Promise<void>;
}

export const LOAD_ADMIN = 'load-admin-token-0123456789abcdef';

/**
 * A fresh database on the local PostgreSQL, `instances` server processes on it (the built server,
 * as production runs it), a project, and one warm-up upload so that the read routes have tests.
 */
export async function startLoadTarget(instances: number, env: Record<string, string> = {}): Promise<LoadTarget> {
	const db = await createPostgresDatabase();
	const dataDir = await mkdtemp(path.join(tmpdir(), 'fk-load-'));
	const servers: ServerProcess[] = [];
	const close = async () => {
		await Promise.all(servers.map((s) => s.stop()));
		await db.destroy();
		await rm(dataDir, { recursive: true, force: true });
	};
	try {
		const common = {
			DATABASE_URL: db.url,
			DATA_DIR: dataDir,
			ADMIN_TOKEN: LOAD_ADMIN,
			JWT_SECRET: 'load-test-session-secret-0123456789abcdef',
			DEMO: 'false',
			LOG_LEVEL: 'warn',
			RATE_LIMIT_RUNS: '1000000',
			RATE_LIMIT_READS: '1000000',
			...env
		};
		for (let i = 0; i < instances; i++) servers.push(await startServer(common, { timeoutMs: 120_000 }));
		const base = servers[0]!.url;
		const created = await fetch(`${base}/api/v1/admin/projects`, {
			method: 'POST',
			headers: { authorization: `Bearer ${LOAD_ADMIN}`, 'content-type': 'application/json' },
			body: JSON.stringify({ slug: 'load' })
		});
		if (created.status !== 201) throw new Error(`creating the project answered ${created.status}: ${await created.text()}`);
		const { project, token } = (await created.json()) as { project: { id: string }; token: string };
		const warm = await fetch(`${base}/api/v1/reports`, {
			method: 'POST',
			headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-flackyness-idempotency-key': 'warm-up-upload' },
			body: loadReports(50, 1)[0]
		});
		if (warm.status !== 201) throw new Error(`the warm-up upload answered ${warm.status}: ${await warm.text()}`);
		const client = new pg.Client({ connectionString: db.url });
		await client.connect();
		const tests = await client.query<{ id: string }>(`SELECT id FROM tests WHERE project_id = $1 ORDER BY key`, [project.id]);
		await client.end();
		return { databaseUrl: db.url, servers, projectId: project.id, token, testIds: tests.rows.map((r) => r.id), close };
	} catch (err) {
		await close();
		throw err;
	}
}
