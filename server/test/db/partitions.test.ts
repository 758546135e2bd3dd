import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { applyRetention, ensurePartitions, listPartitions, monthOf } from '../../src/db/partitions.js';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../helpers/db.js';

const NOW = new Date('2026-11-15T12:00:00Z');

describe.each(BACKENDS)('monthly partitions of test_results on %s', (backend) => {
	let t: TestDatabase;
	let pool: pg.Pool;
	beforeAll(async () => {
		t = await createTestDatabase(backend);
		pool = new pg.Pool({ connectionString: t.url, max: backend === 'pglite' ? 1 : 4 });
		await migrate(pool);
	});
	afterAll(async () => {
		await pool.end();
		await t.destroy();
	});

	async function insertAt(...times: string[]) {
		for (const at of times) {
			await pool.query(
				`INSERT INTO test_results (project_id, run_id, test_id, outcome, expected_status, status, started_at)
				 VALUES ($1, $2, $3, 'expected', 'passed', 'passed', $4)`,
				[randomUUID(), randomUUID(), randomUUID(), at]
			);
		}
	}
	const where = async () =>
		(await pool.query<{ p: string; n: number }>(`SELECT tableoid::regclass::text AS p, count(*)::int AS n FROM test_results GROUP BY 1 ORDER BY 1`)).rows;

	it('creates the current and next months ahead, once, even when called concurrently', async () => {
		const runs = await Promise.all([0, 1, 2].map(() => ensurePartitions(pool, { now: NOW })));
		expect(runs.flat().sort()).toEqual(['test_results_p2026_11', 'test_results_p2026_12', 'test_results_p2027_01']);
		const names = (await listPartitions(pool)).map((p) => p.name);
		expect(names).toEqual(['test_results_default', 'test_results_p2026_11', 'test_results_p2026_12', 'test_results_p2027_01']);
		expect(await ensurePartitions(pool, { now: NOW })).toEqual([]);
	});

	it('keeps rows outside every partition in the default one, and moves them when their month gets a partition', async () => {
		await insertAt('2026-11-03T10:00:00Z', '2026-12-24T10:00:00Z', '2026-08-10T10:00:00Z', '2026-08-20T10:00:00Z');
		expect(await where()).toEqual([
			{ p: 'test_results_default', n: 2 },
			{ p: 'test_results_p2026_11', n: 1 },
			{ p: 'test_results_p2026_12', n: 1 }
		]);
		const created = await ensurePartitions(pool, { now: NOW, monthsBack: 3 });
		expect(created).toEqual([monthOf(NOW, -3).name, monthOf(NOW, -2).name, monthOf(NOW, -1).name]);
		expect(await where()).toEqual([
			{ p: 'test_results_p2026_08', n: 2 },
			{ p: 'test_results_p2026_11', n: 1 },
			{ p: 'test_results_p2026_12', n: 1 }
		]);
	});

	it('reads only the partitions a time-bounded query needs', async () => {
		const { rows } = await pool.query<{ 'QUERY PLAN': string }>(
			`EXPLAIN SELECT count(*) FROM test_results WHERE started_at >= '2026-11-05T00:00:00Z' AND started_at < '2026-11-20T00:00:00Z'`
		);
		const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
		expect(plan).toContain('test_results_p2026_11');
		for (const other of ['test_results_p2026_08', 'test_results_p2026_12', 'test_results_p2027_01', 'test_results_default']) {
			expect(plan).not.toContain(other);
		}
	});

	it('drops whole months past retention, and old rows waiting in the default partition', async () => {
		await insertAt('2025-01-05T00:00:00Z');
		const r = await applyRetention(pool, 60, NOW);
		expect(r).toEqual({ dropped: ['test_results_p2026_08'], deletedFromDefault: 1 });
		expect(await where()).toEqual([
			{ p: 'test_results_p2026_11', n: 1 },
			{ p: 'test_results_p2026_12', n: 1 }
		]);
		expect((await listPartitions(pool)).map((p) => p.name)).not.toContain('test_results_p2026_08');
	});
});
