/**
 * Ingestion benchmark: `pnpm --filter ./server bench:ingest` (BENCH_BACKENDS=postgres or pglite for one of them).
 *
 * For reports of 1k, 10k and 50k results (three browser projects, retries, stack traces):
 *   - HTTP upload → stored (201), p50 over RUNS uploads, against a real server on loopback;
 *   - in the same run, COPY of the same rows into the same tables, in one transaction (the floor);
 *   - the ratio between the two.
 * Then 8 concurrent uploaders for a fixed time: sustained results per second.
 * Against real PostgreSQL first, then the embedded PGlite. Prints one table per database.
 */
import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import Fastify from 'fastify';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import app from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createDatabase } from '../src/db/database.js';
import { migrate } from '../src/db/migrate.js';
import { parsePlaywrightReport } from '../src/ingest/playwright-json.js';
import { testKey } from '../src/ingest/store.js';
import { stripAnsi } from 'flackyness-reporter/playwright-data';
import { errorFingerprint } from '../src/ingest/errors.js';
import type { PGlite } from '@electric-sql/pglite';
import { createPgliteDatabase, createPostgresDatabase, type Backend, type TestDatabase } from '../test/helpers/db.js';
import { makeReport } from '../test/helpers/report-factory.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SIZES = (process.env.BENCH_SIZES ?? '1000,10000,50000').split(',').map(Number);
const CONCURRENCY = 8;
const CONCURRENT_SECONDS = Number(process.env.BENCH_CONCURRENT_SECONDS ?? 20);
const CONCURRENT_REPORT_RESULTS = 2000;
const ADMIN = 'bench-admin-token-0123456789abcdef';
const PROJECTS = ['chromium', 'firefox', 'webkit'];

const median = (xs: number[]) => {
	const s = [...xs].sort((a, b) => a - b);
	const m = Math.floor(s.length / 2);
	return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function reportOf(results: number, seed: number): string {
	return JSON.stringify(
		makeReport({ tests: Math.ceil(results / PROJECTS.length), projects: PROJECTS, retries: 2, failRate: 0.02, flakyRate: 0.03, skipRate: 0.02, seed, titlePrefix: `b${seed} ` })
	);
}

/** COPY text format: tabs, newlines and backslashes escaped, NULL as \N. */
function copyField(v: unknown): string {
	if (v === null || v === undefined) return '\\N';
	const s = typeof v === 'string' ? v : JSON.stringify(v);
	return s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}
const pgArray = (xs: string[]) => `{${xs.map((x) => `"${x.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(',')}}`;

const copyText = (rows: unknown[][]) => rows.map((r) => r.map(copyField).join('\t')).join('\n') + '\n';

/** Where the floor's COPY goes: COPY FROM STDIN on PostgreSQL; PGlite's socket does not carry that, so its own COPY FROM '/dev/blob'. */
interface CopyTarget {
	query(sql: string, params?: unknown[]): Promise<unknown>;
	copy(sql: string, rows: unknown[][]): Promise<void>;
	release(): void;
}

async function postgresTarget(pool: pg.Pool): Promise<CopyTarget> {
	const client = await pool.connect();
	return {
		query: (sql, params) => client.query(sql, params),
		copy: (sql, rows) => pipeline(Readable.from([copyText(rows)]), client.query(copyFrom(`${sql} FROM STDIN`))),
		release: () => client.release()
	};
}

function pgliteTarget(instance: PGlite): CopyTarget {
	return {
		query: (sql, params) => instance.query(sql, params),
		copy: async (sql, rows) => {
			await instance.query(`${sql} FROM '/dev/blob'`, [], { blob: new Blob([copyText(rows)]) });
		},
		release: () => undefined
	};
}

/** The floor: the same tests and results loaded with COPY, in one transaction. */
async function copyFloor(target: () => Promise<CopyTarget>, body: string): Promise<number> {
	const parsed = parsePlaywrightReport(JSON.parse(body));
	const client = await target();
	try {
		const projectId = randomUUID();
		await client.query(`INSERT INTO projects (id, slug, name, updated_at) VALUES ($1, $2, 'copy floor', now())`, [projectId, `copy-${projectId}`]);
		const runId = randomUUID();
		await client.query(`INSERT INTO runs (id, project_id, idempotency_key, source) VALUES ($1, $2, $3, 'json_upload')`, [runId, projectId, runId]);
		const tests = parsed.results.map((r) => ({ id: randomUUID(), key: testKey(r), r }));
		const start = performance.now();
		await client.query('BEGIN');
		await client.copy(
			'COPY tests (id, project_id, key, file, title_path, title, project_name, tags, first_seen_at, last_seen_at)',
			tests.map(({ id, key, r }) => [id, projectId, key, r.file, pgArray(r.titlePath), r.titlePath.at(-1), r.projectName, pgArray(r.tags), r.startedAt, r.startedAt])
		);
		await client.copy(
			'COPY test_results (project_id, run_id, test_id, outcome, expected_status, status, attempts, failed_attempts, duration_ms, started_at, error_message, error_stack, error_location, error_fingerprint, annotations)',
			tests.map(({ id, r }) => {
				const message = r.error ? stripAnsi(r.error.message) : null;
				return [projectId, runId, id, r.outcome, r.expectedStatus, r.status, r.attempts, r.failedAttempts, r.durationMs, r.startedAt, message, r.error?.stack ?? null, r.error?.location ?? null, message ? errorFingerprint(message) : null, r.annotations.length ? r.annotations : null];
			})
		);
		await client.query('COMMIT');
		return performance.now() - start;
	} finally {
		client.release();
	}
}

async function upload(base: string, token: string, body: string): Promise<number> {
	const start = performance.now();
	const res = await fetch(`${base}/api/v1/reports`, {
		method: 'POST',
		headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-flackyness-idempotency-key': randomUUID() },
		body
	});
	const ms = performance.now() - start;
	if (res.status !== 201) throw new Error(`upload answered ${res.status}: ${await res.text()}`);
	return ms;
}

async function benchBackend(backend: Backend) {
	const t: TestDatabase & { instance?: PGlite } = backend === 'pglite' ? await createPgliteDatabase() : await createPostgresDatabase();
	const db = createDatabase({ url: t.url, embedded: backend === 'pglite', poolSize: 10 });
	await migrate(db.pool);
	const config = loadConfig({ LOG_LEVEL: 'silent', DEMO: 'false', ADMIN_TOKEN: ADMIN, BODY_LIMIT: '200mb', DECOMPRESSED_LIMIT: '400mb', RATE_LIMIT_RUNS: '1000000',
		// Stored is what is timed; the analysis that follows has its own benchmark (bench:analysis).
		ANALYSIS_WORKER: 'false'
	});
	const server = Fastify({ logger: false, bodyLimit: config.BODY_LIMIT, pluginTimeout: 120_000 });
	await server.register(app, { config, db, version: 'bench' });
	const base = await server.listen({ host: '127.0.0.1', port: 0 });
	const created = await fetch(`${base}/api/v1/admin/projects`, {
		method: 'POST',
		headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
		body: JSON.stringify({ slug: 'bench' })
	});
	const { token } = (await created.json()) as { token: string };
	// A second pool for the floor, so COPY never waits behind the server's connection.
	const floorPool = backend === 'pglite' ? undefined : new pg.Pool({ connectionString: t.url, max: 2 });
	const floorTarget = async () => (floorPool ? postgresTarget(floorPool) : pgliteTarget(t.instance!));

	const rows: string[][] = [];
	try {
		for (const size of SIZES) {
			const uploads: number[] = [];
			const copies: number[] = [];
			const first = reportOf(size, 0);
			await upload(base, token, first); // warm-up, also fills the tests table as a second run would find it
			for (let i = 1; i <= RUNS; i++) {
				const body = reportOf(size, i % 2); // alternate between known and new test identities
				uploads.push(await upload(base, token, body));
				copies.push(await copyFloor(floorTarget, body));
			}
			const up = median(uploads);
			const cp = median(copies);
			rows.push([`${size.toLocaleString('en')} results`, `${up.toFixed(0)} ms`, `${cp.toFixed(0)} ms`, `${(up / cp).toFixed(2)}×`, `${Math.round(size / (up / 1000)).toLocaleString('en')}/s`]);
		}

		const body = (i: number) => reportOf(CONCURRENT_REPORT_RESULTS, 100 + (i % 4));
		const bodies = Array.from({ length: 4 }, (_, i) => body(i));
		let results = 0;
		const deadline = performance.now() + CONCURRENT_SECONDS * 1000;
		const started = performance.now();
		await Promise.all(
			Array.from({ length: CONCURRENCY }, async (_, w) => {
				for (let i = 0; performance.now() < deadline; i++) {
					await upload(base, token, bodies[(w + i) % bodies.length]!);
					results += CONCURRENT_REPORT_RESULTS;
				}
			})
		);
		const seconds = (performance.now() - started) / 1000;
		const stored = await db.pool.query(`SELECT count(*)::int AS n FROM test_results r JOIN projects p ON p.id = r.project_id WHERE p.slug = 'bench'`);
		return { rows, concurrent: { results, seconds, perSecond: results / seconds, storedTotal: stored.rows[0].n as number } };
	} finally {
		await server.close();
		await floorPool?.end();
		await db.close();
		await t.destroy();
	}
}

function printTable(title: string, header: string[], rows: string[][]) {
	const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
	const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
	console.log(`\n${title}`);
	console.log(line(header));
	console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
	for (const r of rows) console.log(line(r));
}

const only = process.env.BENCH_BACKENDS?.split(',') as Backend[] | undefined;
for (const backend of only ?? (['postgres', 'pglite'] as Backend[])) {
	const r = await benchBackend(backend);
	printTable(
		`Ingestion on ${backend === 'postgres' ? 'PostgreSQL' : 'PGlite (embedded)'} — p50 of ${RUNS} uploads each`,
		['report', 'HTTP upload → stored', 'COPY floor', 'ratio', 'results/s'],
		r.rows
	);
	console.log(
		`${CONCURRENCY} concurrent uploaders, ${CONCURRENT_REPORT_RESULTS.toLocaleString('en')}-result reports for ${r.concurrent.seconds.toFixed(1)} s: ` +
			`${Math.round(r.concurrent.perSecond).toLocaleString('en')} results/s sustained (${r.concurrent.results.toLocaleString('en')} sent)`
	);
}
