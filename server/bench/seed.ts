/**
 * Seeds a realistic history straight into PostgreSQL with COPY, for the benchmarks that need
 * millions of results: TESTS tests × RUNS runs on the default branch (5% flaky, 1% broken from 70%
 * of the way on, the rest stable), with a manual retry of every tenth pipeline.
 */
import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { testKey } from '../src/ingest/store.js';

export function rng(seed: number) {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

const field = (v: unknown) => (v === null || v === undefined ? '\\N' : String(v).replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n'));

async function copy(client: pg.PoolClient, sql: string, rows: Iterable<unknown[]>) {
	async function* lines() {
		let buf = '';
		for (const r of rows) {
			buf += r.map(field).join('\t') + '\n';
			if (buf.length > 1 << 20) {
				yield buf;
				buf = '';
			}
		}
		if (buf) yield buf;
	}
	await pipeline(Readable.from(lines()), client.query(copyFrom(sql)));
}

export const sha = (i: number) => i.toString(16).padStart(40, '0');

export interface SeededTest {
	id: string;
	key: string;
	file: string;
	titlePath: string[];
	projectName: string;
	kind: string;
	rate: number;
}

export async function seed(pool: pg.Pool, projectId: string, TESTS: number, RUNS: number): Promise<SeededTest[]> {
	const random = rng(42);
	const client = await pool.connect();
	try {
		const tests = Array.from({ length: TESTS }, (_, i) => {
			const titlePath = [`area ${i % 50}`, `test ${i}`];
			const file = `area-${i % 50}.spec.ts`;
			const projectName = ['chromium', 'firefox', 'webkit'][i % 3]!;
			const kind = i % 100 < 5 ? 'flaky' : i % 100 === 5 ? 'broken' : 'stable';
			return { id: randomUUID(), key: testKey({ file, titlePath, projectName }), file, titlePath, projectName, kind, rate: 0.02 + random() * 0.2 };
		});
		await copy(
			client,
			'COPY tests (id, project_id, key, file, title_path, title, project_name, tags) FROM STDIN',
			tests.map((t) => [t.id, projectId, t.key, t.file, `{"${t.titlePath.join('","')}"}`, t.titlePath[1], t.projectName, '{}'])
		);
		const start = Date.now() - RUNS * 3600_000;
		const runs = Array.from({ length: RUNS }, (_, r) => {
			// Every tenth pipeline is retried by hand on the same commit.
			const commit = r - Math.floor(r / 10);
			return { id: randomUUID(), commit, at: new Date(start + r * 3600_000).toISOString() };
		});
		await copy(
			client,
			'COPY runs (id, project_id, idempotency_key, source, status, branch, is_default_branch, commit_sha, pipeline_id, job_id, started_at, total) FROM STDIN',
			runs.map((r, i) => [r.id, projectId, r.id, 'reporter', 'passed', 'main', true, sha(r.commit), String(1000 + i), String(5000 + i), r.at, TESTS])
		);
		const brokenFrom = Math.floor(RUNS * 0.7);
		function* results() {
			for (const [ri, run] of runs.entries()) {
				for (const t of tests) {
					let outcome = 'expected';
					let attempts = 1;
					let failed = 0;
					if (t.kind === 'flaky' && random() < t.rate) {
						outcome = 'flaky';
						attempts = 2;
						failed = 1;
					} else if (t.kind === 'broken' && ri >= brokenFrom) {
						outcome = 'unexpected';
						attempts = 2;
						failed = 2;
					}
					const fp = failed ? t.key.slice(0, 16) : null;
					yield [projectId, run.id, t.id, outcome, 'passed', outcome === 'unexpected' ? 'failed' : 'passed', attempts, failed, 800, run.at, failed ? `Error: ${t.titlePath[1]} failed` : null, fp];
				}
			}
		}
		await copy(
			client,
			'COPY test_results (project_id, run_id, test_id, outcome, expected_status, status, attempts, failed_attempts, duration_ms, started_at, error_message, error_fingerprint) FROM STDIN',
			results()
		);
		await client.query('ANALYZE');
		return tests;
	} finally {
		client.release();
	}
}

