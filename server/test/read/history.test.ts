/**
 * A test's history over HTTP: full pages for the runs table and compact pages for the chart, walked
 * with their cursors, each run marked as the analysis reads it (counted or discounted as
 * infrastructure, and why; default branch or not).
 */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestResultInput } from 'flackyness-reporter/protocol';
import { drainAnalysisQueue } from '../../src/jobs/analysis.js';
import { BACKENDS } from '../helpers/db.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { ADMIN, newProject } from '../helpers/ingest.js';

const OUTAGE = 'Error: connect ECONNREFUSED 10.0.0.5:5432';
const TIMEOUT = "TimeoutError: locator.click: Timeout 5000ms exceeded.\nwaiting for getByRole('button', { name: 'Pay' })";
const MAIN_RUNS = 30;
const OUTAGE_AT = 20;
const STRAY_OUTAGE_AT = 25;
const BRANCH_RUNS = 5;

const sha = (i: number) => (0xdec0000 + i).toString(16).padStart(40, '0');

function result(title: string, at: Date, kind: 'pass' | 'flaky' | 'fail' | 'skip', message?: string): TestResultInput {
	const base = { file: 'checkout.spec.ts', titlePath: ['checkout', title], projectName: 'chromium', expectedStatus: 'passed' as const, startedAt: at.toISOString() };
	switch (kind) {
		case 'pass':
			return { ...base, outcome: 'expected', status: 'passed', attempts: 1, failedAttempts: 0, durationMs: 900 };
		case 'flaky':
			return { ...base, outcome: 'flaky', status: 'passed', attempts: 2, failedAttempts: 1, durationMs: 6000, error: { message: message! } };
		case 'fail':
			return { ...base, outcome: 'unexpected', status: 'failed', attempts: 2, failedAttempts: 2, durationMs: 10_000, error: { message: message! } };
		case 'skip':
			return { ...base, outcome: 'skipped', expectedStatus: 'skipped', status: 'skipped', attempts: 1, failedAttempts: 0, durationMs: 0 };
	}
}

interface Compact {
	total: number;
	defaultBranches: string[];
	runs: {
		runId: string[];
		startedAt: string[];
		outcome: string[];
		attempts: number[];
		durationMs: number[];
		branch: (string | null)[];
		defaultBranch: boolean[];
		discountedWhy: (string | null)[];
	};
	nextCursor: string | null;
}

describe.each(BACKENDS)('test history API on %s', (backend) => {
	let t: TestApp;
	let base: string;
	let testId: string;
	const runIds: string[] = [];
	let outageRun = '';
	let strayRun = '';

	beforeAll(async () => {
		t = await buildTestApp(backend, { ADMIN_TOKEN: ADMIN, ANALYSIS_WORKER: 'false', RATE_LIMIT_RUNS: '1000', RATE_LIMIT_READS: '10000' });
		await t.app.listen({ host: '127.0.0.1', port: 0 });
		base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
		const project = await newProject(t, 'shop');
		const auth = { authorization: `Bearer ${project.token}`, 'content-type': 'application/json' };
		const send = async (path: string, body: unknown) => {
			const res = await fetch(`${base}/api/v1${path}`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
			expect(res.status, `${path}: ${await res.clone().text()}`).toBeLessThan(300);
			return (await res.json()) as { runId: string };
		};
		const start = Date.now() - 40 * 3600_000;
		const runs: { at: Date; branch: string; commit: number; results: TestResultInput[] }[] = [];
		for (let c = 0; c < MAIN_RUNS; c++) {
			const at = new Date(start + c * 3600_000);
			const kind = c === OUTAGE_AT || c === STRAY_OUTAGE_AT ? 'fail' : c === 7 ? 'skip' : c % 6 === 3 ? 'flaky' : 'pass';
			const results = [result('pays with card', at, kind, kind === 'fail' ? OUTAGE : TIMEOUT)];
			// An outage: every test of the job fails with one error; the guard judges the job infrastructure.
			for (let i = 0; i < 12; i++) results.push(result(`other ${i}`, at, c === OUTAGE_AT ? 'fail' : 'pass', OUTAGE));
			runs.push({ at, branch: 'main', commit: c, results });
		}
		for (let b = 0; b < BRANCH_RUNS; b++) {
			const at = new Date(start + (MAIN_RUNS + b) * 3600_000);
			runs.push({ at, branch: 'feature/wishlist', commit: 100 + b, results: [result('pays with card', at, b === 2 ? 'flaky' : 'pass', TIMEOUT)] });
		}
		for (const r of runs) {
			const ci = { provider: 'gitlab', branch: r.branch, defaultBranch: 'main', commitSha: sha(r.commit), pipelineId: `${1000 + r.commit}`, jobId: `${5000 + r.commit}`, jobName: 'e2e' };
			const { runId } = await send('/runs', { ci, startedAt: r.at.toISOString() });
			await send(`/runs/${runId}/results`, { results: r.results });
			await send(`/runs/${runId}/complete`, { status: r.results.some((x) => x.outcome === 'unexpected') ? 'failed' : 'passed' });
			runIds.push(runId);
			if (r.commit === OUTAGE_AT) outageRun = runId;
			if (r.commit === STRAY_OUTAGE_AT) strayRun = runId;
		}
		await drainAnalysisQueue(t.db.pool);
		const { rows } = await t.db.pool.query(`SELECT id FROM tests WHERE project_id = $1 AND title = 'pays with card'`, [project.id]);
		testId = rows[0].id;
	}, 240_000);
	afterAll(async () => t?.close());

	const get = (path: string) => fetch(`${base}${path}`, { headers: { authorization: `Bearer ${ADMIN}` } });
	/** A page of `GET /api/v1/tests/:id/history`, as far as these checks read it. */
	type HistoryPage = { items: { runId: string; branch: string; defaultBranch: boolean; discountedWhy: string | null }[]; nextCursor: string | null };
	const page = async (path: string) => (await (await get(path)).json()) as HistoryPage;

	it('walks the whole compact history page by page, newest first, with no run twice or missing', async () => {
		const whole = (await (await get(`/api/v1/tests/${testId}/history/compact?limit=5000`)).json()) as Compact;
		expect(whole.total).toBe(MAIN_RUNS + BRANCH_RUNS);
		expect(whole.nextCursor).toBeNull();
		expect(whole.runs.runId).toEqual([...runIds].reverse());
		expect(whole.defaultBranches).toContain('main');

		const walked: string[] = [];
		let cursor: string | null = null;
		let pages = 0;
		do {
			const res = await get(`/api/v1/tests/${testId}/history/compact?limit=10${cursor ? `&cursor=${cursor}` : ''}`);
			expect(res.status).toBe(200);
			const body = (await res.json()) as Compact;
			expect(body.total).toBe(MAIN_RUNS + BRANCH_RUNS);
			walked.push(...body.runs.runId);
			// Every column holds one entry per run.
			for (const column of Object.values(body.runs)) expect(column).toHaveLength(body.runs.runId.length);
			cursor = body.nextCursor;
			pages++;
		} while (cursor);
		expect(pages).toBe(Math.ceil((MAIN_RUNS + BRANCH_RUNS) / 10));
		expect(walked).toEqual(whole.runs.runId);
		const times = whole.runs.startedAt.map((s) => Date.parse(s));
		expect(times).toEqual([...times].sort((a, b) => b - a));
	});

	it('marks runs discounted as infrastructure, with why, and runs off the default branch', async () => {
		const { runs } = (await (await get(`/api/v1/tests/${testId}/history/compact`)).json()) as Compact;
		const at = (runId: string) => runs.runId.indexOf(runId);
		const discounted = runs.runId.filter((_, i) => runs.discountedWhy[i] !== null);
		expect(discounted.sort()).toEqual([outageRun, strayRun].sort());
		// The outage job was judged by the guard; the lone failure with the outage's error by its fingerprint.
		expect(runs.discountedWhy[at(outageRun)]).toMatch(/^the job was judged an infrastructure failure: /);
		expect(runs.discountedWhy[at(strayRun)]).toMatch(/is seen \(nearly\) only in jobs judged infrastructure failures/);
		// Flaky runs with an ordinary error are counted.
		const flaky = runs.outcome.flatMap((o, i) => (o === 'flaky' ? [i] : []));
		expect(flaky.length).toBeGreaterThan(3);
		for (const i of flaky) expect(runs.discountedWhy[i]).toBeNull();

		const onBranch = runs.branch.flatMap((b, i) => (b === 'feature/wishlist' ? [i] : []));
		expect(onBranch).toHaveLength(BRANCH_RUNS);
		runs.defaultBranch.forEach((d, i) => expect(d, runs.branch[i] ?? '').toBe(!onBranch.includes(i)));
		expect(runs.outcome[at(runIds[7]!)]).toBe('skipped');
		expect(runs.durationMs[at(runIds[7]!)]).toBe(0);

		// The full rows of the runs table carry the same marks, and page with the same cursors.
		const first = await page(`/api/v1/tests/${testId}/history?limit=8`);
		expect(first.items).toHaveLength(8);
		expect(first.items.every((r: { defaultBranch: boolean; branch: string }) => r.defaultBranch === (r.branch === 'main'))).toBe(true);
		const second = await page(`/api/v1/tests/${testId}/history?limit=8&cursor=${first.nextCursor}`);
		const third = await page(`/api/v1/tests/${testId}/history?limit=8&cursor=${second.nextCursor}`);
		const rows = [...first.items, ...second.items, ...third.items];
		expect(rows.map((r: { runId: string }) => r.runId)).toEqual(runs.runId.slice(0, 24));
		const stray = rows.find((r: { runId: string }) => r.runId === strayRun);
		expect(stray).toMatchObject({ outcome: 'unexpected', infra: false, defaultBranch: true });
		expect(stray?.discountedWhy).toBe(runs.discountedWhy[at(strayRun)]);
		expect(rows.find((r: { runId: string }) => r.runId === outageRun)).toMatchObject({ infra: true });

		// The older `before` parameter still pages by time.
		const before = await page(`/api/v1/tests/${testId}/history?limit=500&before=${encodeURIComponent(runs.startedAt[at(strayRun)]!)}`);
		expect(before.items.map((r: { runId: string }) => r.runId)).toEqual(runs.runId.slice(at(strayRun) + 1));
		expect(before.nextCursor).toBeNull();
	});

	it('refuses bad parameters with a message, and unknown tests with 404', async () => {
		const cases: [string, RegExp][] = [
			[`/api/v1/tests/${testId}/history/compact?cursor=yesterday`, /cursor/],
			[`/api/v1/tests/${testId}/history/compact?cursor=1764410400000000_${testId}x`, /cursor/],
			[`/api/v1/tests/${testId}/history/compact?limit=5001`, /limit/],
			[`/api/v1/tests/${testId}/history/compact?limit=0`, /limit/],
			[`/api/v1/tests/${testId}/history/compact?page=2`, /page/],
			[`/api/v1/tests/${testId}/history?cursor=${'9'.repeat(18)}_${testId}`, /cursor/],
			[`/api/v1/tests/not-a-uuid/history/compact`, /UUID/]
		];
		for (const [path, message] of cases) {
			const res = await get(path);
			expect(res.status, path).toBe(400);
			expect(((await res.json()) as { message: string }).message, path).toMatch(message);
		}
		const missing = await get(`/api/v1/tests/00000000-0000-4000-8000-000000000000/history/compact`);
		expect(missing.status).toBe(404);
	});
});
