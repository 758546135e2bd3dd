/**
 * The admin API's system health counts rows for real (the planner's estimate is -1 or 0 until a
 * table is analysed), and shows the estimate, labelled, only for tables of a million rows or more.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { BACKENDS } from '../helpers/db.js';
import { ADMIN, newProject } from '../helpers/ingest.js';
import { makeReport } from '../helpers/report-factory.js';

interface Health {
	tables: Array<{ table: string; rows: number; rowsExact: boolean; bytes: number }>;
	partitions: Array<{ name: string; rows: number; rowsExact: boolean; bytes: number }>;
}

describe.each(BACKENDS)('system health on %s', (backend) => {
	let t: TestApp;
	beforeAll(async () => {
		t = await buildTestApp(backend, { ADMIN_TOKEN: ADMIN, ANALYSIS_WORKER: 'false' });
	}, 120_000);
	afterAll(async () => t.close());

	const health = async (): Promise<Health> => {
		const res = await t.app.inject({ method: 'GET', url: '/api/v1/admin/health', headers: { authorization: `Bearer ${ADMIN}` } });
		expect(res.statusCode).toBe(200);
		return res.json();
	};

	it('counts the rows of every table and partition exactly, before any ANALYZE', async () => {
		const p = await newProject(t, 'counted');
		for (const seed of [1, 2]) {
			const res = await t.app.inject({
				method: 'POST',
				url: '/api/v1/reports',
				headers: { authorization: `Bearer ${p.token}`, 'content-type': 'application/json' },
				payload: JSON.stringify(makeReport({ tests: 30, projects: ['chromium', 'firefox'], seed, titlePrefix: `s${seed} ` }))
			});
			expect(res.statusCode).toBe(201);
		}
		const h = await health();
		const byName = new Map(h.tables.map((x) => [x.table, x]));
		expect(byName.get('projects')).toMatchObject({ rows: 1, rowsExact: true });
		expect(byName.get('runs')).toMatchObject({ rows: 2, rowsExact: true });
		expect(byName.get('test_results')).toMatchObject({ rows: 120, rowsExact: true });
		expect(byName.get('test_results')!.bytes).toBeGreaterThan(0);
		// Partitions are listed apart, not again among the tables.
		expect(h.tables.some((x) => x.table.startsWith('test_results_'))).toBe(false);
		expect(h.partitions.every((x) => x.rowsExact)).toBe(true);
		expect(h.partitions.reduce((sum, x) => sum + x.rows, 0)).toBe(120);
		const { rows } = await t.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM tests');
		expect(byName.get('tests')).toMatchObject({ rows: rows[0]!.n, rowsExact: true });
	});
});

describe('system health of a table of a million rows or more (PostgreSQL)', () => {
	let t: TestApp;
	beforeAll(async () => {
		t = await buildTestApp('postgres', { ADMIN_TOKEN: ADMIN, ANALYSIS_WORKER: 'false' });
		// A large table of the same schema: counting it on every look would scan all of it.
		await t.db.pool.query('CREATE TABLE large_fixture AS SELECT g AS id FROM generate_series(1, 1200000) g');
		await t.db.pool.query('ANALYZE large_fixture');
	}, 120_000);
	afterAll(async () => t.close());

	it('shows the planner’s estimate, marked as such', async () => {
		const res = await t.app.inject({ method: 'GET', url: '/api/v1/admin/health', headers: { authorization: `Bearer ${ADMIN}` } });
		expect(res.statusCode).toBe(200);
		const large = (res.json() as Health).tables.find((x) => x.table === 'large_fixture')!;
		expect(large.rowsExact).toBe(false);
		expect(Math.abs(large.rows - 1_200_000)).toBeLessThan(120_000);
	});
});

describe('system health of a partitioned test_results (PostgreSQL)', () => {
	let t: TestApp;
	let filled: string;
	beforeAll(async () => {
		t = await buildTestApp('postgres', { ADMIN_TOKEN: ADMIN, ANALYSIS_WORKER: 'false' });
		await t.db.pool.query(
			`INSERT INTO test_results (project_id, run_id, test_id, outcome, expected_status, status, started_at)
			 SELECT gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'expected', 'passed', 'passed', now() FROM generate_series(1, 10)`
		);
		const { rows } = await t.db.pool.query<{ p: string }>(`SELECT DISTINCT tableoid::regclass::text AS p FROM test_results`);
		filled = rows[0]!.p;
		// Only the month that holds rows is analysed; the months created ahead stay empty and never are.
		await t.db.pool.query(`ANALYZE ${filled}`);
	}, 120_000);
	afterAll(async () => t.close());

	const resultsRow = async () => {
		const res = await t.app.inject({ method: 'GET', url: '/api/v1/admin/health', headers: { authorization: `Bearer ${ADMIN}` } });
		expect(res.statusCode).toBe(200);
		return (res.json() as Health).tables.find((x) => x.table === 'test_results')!;
	};

	it('counts exactly while the months are small, the unanalysed months ahead included', async () => {
		const { rows } = await t.db.pool.query<{ n: number }>(
			`SELECT count(*)::int AS n FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
			 WHERE i.inhparent = 'test_results'::regclass AND c.reltuples < 0`
		);
		expect(rows[0]!.n).toBeGreaterThan(0);
		expect(await resultsRow()).toMatchObject({ rows: 10, rowsExact: true });
	});

	it('shows the estimate once a month is large, though the months ahead were never analysed', async () => {
		// The statistics ANALYZE would leave on a month of 1.1 million rows; inserting them takes minutes on CI.
		await t.db.pool.query(`UPDATE pg_class SET reltuples = 1100000 WHERE oid = $1::regclass`, [filled]);
		expect(await resultsRow()).toMatchObject({ rows: 1_100_000, rowsExact: false });
	});
});
