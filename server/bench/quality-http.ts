/**
 * The quality harness's HTTP mode (`quality.ts --http`): one seed's simulated uploads go through the
 * real application — a fresh PostgreSQL database, `app.ts` listening on loopback, a project made
 * through the admin API, every report uploaded to `POST /api/v1/reports` with its CI metadata in
 * X-Flackyness-* headers, the analysis queue drained as the worker would (incremental path) — and
 * the verdicts are read back through the read API.
 */
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import app from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createDatabase, type Database } from '../src/db/database.js';
import { migrate } from '../src/db/migrate.js';
import { drainAnalysisQueue, type AnalysisStats } from '../src/jobs/analysis.js';
import { projectContext, projectInfraFingerprints } from '../src/repositories/project-context.js';
import type { Verdict } from '../src/analysis/types.js';
import type { SimUpload } from '../src/sim/types.js';
import { identityKey } from '../src/sim/types.js';
import { createPostgresDatabase, type TestDatabase } from '../test/helpers/db.js';

/** What the harness scores of a verdict read through the API. */
export type ApiVerdict = Pick<Verdict, 'state' | 'score' | 'changePointSha' | 'evidence'> & { testId: string; runs: number };

export interface HttpSeedResult {
	/** Identity key → the verdict the read API answers. */
	verdicts: Map<string, ApiVerdict>;
	/** Identity key → index of the upload after whose analysis the test was first `flaky` (from its `since`). */
	firstFlaky: Map<string, number>;
	uploads: { created: number; duplicate: number };
	stored: { runs: number; results: number; infraRuns: number };
	/** CI job ids of the runs the server judged infrastructure failures. */
	infraJobs: Set<string>;
	analysis: AnalysisStats;
	ms: { upload: number; drain: number; read: number; total: number };
	/** The infrastructure-fingerprint query on the final data (the worker runs it once per batch). */
	fingerprintQueryMs: number;
}

export interface HttpSeedSession {
	/** Uploads one report, then (every `drainEvery` uploads) drains the analysis queue. */
	upload(upload: SimUpload, index: number): Promise<void>;
	/** Drains what is left and reads every verdict back through the API. */
	finish(): Promise<HttpSeedResult>;
	close(): Promise<void>;
}

/**
 * Planner statistics are refreshed every this many uploads, as autovacuum would in production (the
 * test cluster may run without it; with statistics of an empty table every query plan is a guess).
 */
const ANALYZE_EVERY = 100;

const ADMIN = `quality-admin-${randomBytes(12).toString('hex')}`;
const ALL_STATES = 'healthy,flaky,broken,suspect,fixed,quarantined';

export interface HttpSeedOptions {
	/** Drain the analysis queue after this many uploads (1: after each, as an idle worker would). */
	drainEvery: number;
	/** Earliest time (ms) from which a `flaky` verdict counts as a detection, per identity key. */
	detectFrom(key: string): number;
	/** Called after every 100 uploads. */
	progress?: (uploads: number) => void;
}

/** Header values are Latin-1 on the wire; the server percent-decodes, as for flackyness-reporter. */
const headerValue = (v: string) => (/[^\x20-\x7e]|%/.test(v) ? encodeURIComponent(v) : v);

export async function startHttpSeed(options: HttpSeedOptions): Promise<HttpSeedSession> {
	const started = performance.now();
	const test: TestDatabase = await createPostgresDatabase();
	let db: Database | undefined;
	let server: FastifyInstance | undefined;
	try {
		db = createDatabase({ url: test.url, embedded: false, poolSize: 10 });
		await migrate(db.pool);
		const config = loadConfig({
			LOG_LEVEL: 'silent',
			DEMO: 'false',
			ADMIN_TOKEN: ADMIN,
			ANALYSIS_WORKER: 'false',
			RATE_LIMIT_RUNS: '1000000',
			RATE_LIMIT_BATCHES: '1000000',
			RATE_LIMIT_READS: '1000000',
			RATE_LIMIT_ADMIN: '1000000',
			BODY_LIMIT: '200mb',
			DECOMPRESSED_LIMIT: '400mb'
		});
		server = Fastify({ logger: false, bodyLimit: config.BODY_LIMIT, pluginTimeout: 120_000 });
		await server.register(app, { config, db, version: 'quality' });
		const base = await server.listen({ host: '127.0.0.1', port: 0 });
		return await session(base, db, server, test, options, started);
	} catch (err) {
		await server?.close();
		await db?.close();
		await test.destroy();
		throw err;
	}
}

async function session(
	base: string,
	db: Database,
	server: FastifyInstance,
	test: TestDatabase,
	options: HttpSeedOptions,
	started: number
): Promise<HttpSeedSession> {
	const api = async <T>(method: string, path: string, token: string, body?: unknown): Promise<T> => {
		const res = await fetch(`${base}${path}`, {
			method,
			headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
			body: body === undefined ? undefined : JSON.stringify(body)
		});
		if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${await res.text()}`);
		return (await res.json()) as T;
	};
	const created = await api<{ project: { id: string }; token: string }>('POST', '/api/v1/admin/projects', ADMIN, { slug: 'quality' });
	const projectId = created.project.id;
	const token = created.token;

	const ms = { upload: 0, drain: 0, read: 0, total: 0 };
	const uploads = { created: 0, duplicate: 0 };
	const analysis: AnalysisStats = { jobs: 0, tests: 0, fastPath: 0, analysed: 0 };
	const firstFlaky = new Map<string, number>();
	let pending = 0;
	let lastIndex = -1;
	let lastAt = 0;

	async function drain() {
		const t0 = performance.now();
		const s = await drainAnalysisQueue(db.pool);
		ms.drain += performance.now() - t0;
		analysis.jobs += s.jobs;
		analysis.tests += s.tests;
		analysis.fastPath += s.fastPath;
		analysis.analysed += s.analysed;
		pending = 0;
		// Detection bookkeeping only (the verdicts scored are read through the API at the end).
		const { rows } = await db.pool.query<{ file: string; title_path: string[]; project_name: string }>(
			`SELECT t.file, t.title_path, t.project_name FROM test_health h JOIN tests t ON t.id = h.test_id
			 WHERE h.project_id = $1 AND h.state = 'flaky'`,
			[projectId]
		);
		for (const r of rows) {
			const key = identityKey(r.file, r.title_path, r.project_name);
			if (!firstFlaky.has(key) && lastAt >= options.detectFrom(key)) firstFlaky.set(key, lastIndex);
		}
	}

	return {
		async upload(upload, index) {
			const headers: Record<string, string> = {
				authorization: `Bearer ${token}`,
				'content-type': 'application/json'
			};
			for (const [k, v] of Object.entries(upload.metadata)) {
				if (v !== undefined) headers[`x-flackyness-${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`] = headerValue(String(v));
			}
			const t0 = performance.now();
			const res = await fetch(`${base}/api/v1/reports`, { method: 'POST', headers, body: JSON.stringify(upload.report) });
			const text = await res.text();
			ms.upload += performance.now() - t0;
			if (res.status === 201) uploads.created++;
			else if (res.status === 200) uploads.duplicate++;
			else throw new Error(`upload ${index} answered ${res.status}: ${text}`);
			lastIndex = index;
			lastAt = Date.parse(upload.report.stats.startTime);
			if ((index + 1) % ANALYZE_EVERY === 0 || index === 10) {
				await db.pool.query('ANALYZE');
				options.progress?.(index + 1);
			}
			if (++pending >= options.drainEvery) await drain();
		},

		async finish() {
			if (pending > 0) await drain();
			const t0 = performance.now();
			const verdicts = new Map<string, ApiVerdict>();
			type Item = { testId: string; file: string; titlePath: string[]; projectName: string };
			for (let page = 1; ; page++) {
				const list = await api<{ items: Item[]; total: number }>(
					'GET',
					`/api/v1/projects/${projectId}/flaky-tests?state=${ALL_STATES}&pageSize=100&page=${page}&sort=name&order=asc`,
					token
				);
				for (const item of list.items) {
					const detail = await api<{ health: (ApiVerdict & { evidence: Verdict['evidence'] }) | null }>('GET', `/api/v1/tests/${item.testId}`, token);
					if (!detail.health) continue;
					const h = detail.health;
					verdicts.set(identityKey(item.file, item.titlePath, item.projectName), {
						testId: item.testId,
						state: h.state,
						score: h.score,
						runs: h.runs,
						changePointSha: h.changePointSha,
						evidence: h.evidence
					});
				}
				if (list.items.length < 100 || page * 100 >= list.total) break;
			}
			ms.read += performance.now() - t0;
			const counts = await db.pool.query<{ runs: number; results: number; infra: number }>(
				`SELECT (SELECT count(*)::int FROM runs) AS runs, (SELECT count(*)::int FROM test_results) AS results,
				        (SELECT count(*)::int FROM runs WHERE infra_failure) AS infra`
			);
			const c = counts.rows[0]!;
			const guard = (await projectContext(db.pool, projectId, { infraFingerprints: false })).guard;
			const f0 = performance.now();
			await projectInfraFingerprints(db.pool, projectId, guard);
			const fingerprintQueryMs = performance.now() - f0;
			const infra = await db.pool.query<{ job_id: string }>(`SELECT job_id FROM runs WHERE infra_failure AND job_id IS NOT NULL`);
			ms.total = performance.now() - started;
			return {
				verdicts,
				firstFlaky,
				uploads,
				stored: { runs: c.runs, results: c.results, infraRuns: c.infra },
				infraJobs: new Set(infra.rows.map((r) => r.job_id)),
				analysis,
				ms,
				fingerprintQueryMs
			};
		},

		async close() {
			await server.close();
			await db.close();
			await test.destroy();
		}
	};
}
