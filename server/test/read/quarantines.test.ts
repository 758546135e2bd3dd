/**
 * The project's quarantine list: active and recently ended quarantines, manual and automatic, each
 * with the failed results it kept from failing pipelines and their CI time. Results are streamed
 * through the real API; quarantines come from the real routes and the repository the policy job
 * uses, then are moved back in time so that results fall inside and outside their windows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestResultInput } from 'flackyness-reporter/protocol';
import { transaction } from '../../src/db/database.js';
import { quarantineTest, releaseByPolicy } from '../../src/repositories/quarantine.js';
import { BACKENDS } from '../helpers/db.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { ADMIN, newProject } from '../helpers/ingest.js';

type Name = 'manual' | 'policy' | 'fixed' | 'expired' | 'released' | 'replaced';
type Outcome = 'unexpected' | 'flaky' | 'expected';

const DAY = 86_400_000;
const NOW = Date.now();
/** A moment `days` days ago (fractions allowed); the same instant for results and quarantines. */
const ago = (days: number) => new Date(NOW - days * DAY);

/** Each test's results: days ago, outcome, duration over all attempts. */
const RESULTS: Record<Name, Array<[number, Outcome, number]>> = {
	// Quarantined by a person 6 days ago, until released: the failures of day 5 and day 3 count.
	manual: [
		[8, 'unexpected', 10_000],
		[5, 'unexpected', 30_000],
		[3, 'unexpected', 45_000],
		[2, 'flaky', 20_000],
		[1, 'expected', 1_000]
	],
	// Quarantined by the policy 4 days ago for 11 days: a failure at that very instant counts.
	policy: [
		[4.5, 'unexpected', 6_000],
		[4, 'unexpected', 2_500],
		[3, 'unexpected', 12_000],
		[1, 'unexpected', 18_000]
	],
	// Quarantined by the policy 9 days ago, released as fixed 4 days ago.
	fixed: [
		[10, 'unexpected', 5_000],
		[7, 'unexpected', 24_000],
		[5, 'unexpected', 36_000],
		[3, 'unexpected', 60_000]
	],
	// Quarantined by a person 8 days ago until 1.5 days ago (after the release below: a distinct end); the hourly job has not released it yet.
	expired: [
		[7, 'unexpected', 7_000],
		[3, 'unexpected', 3_000],
		[1, 'unexpected', 100_000]
	],
	// Quarantined by a person 6 days ago, released by another 2 days ago; an older one ended 40 days ago.
	released: [
		[5, 'unexpected', 1_000],
		[1, 'unexpected', 2_000]
	],
	// Quarantined twice just now: the first was replaced by the second.
	replaced: [[2, 'unexpected', 9_000]]
};

function result(name: Name, [days, outcome, durationMs]: [number, Outcome, number]): TestResultInput {
	const failed = outcome === 'unexpected' ? 2 : outcome === 'flaky' ? 1 : 0;
	return {
		file: 'quarantine.spec.ts',
		titlePath: ['quarantine', name],
		projectName: 'chromium',
		outcome,
		expectedStatus: 'passed',
		status: outcome === 'unexpected' ? 'failed' : 'passed',
		attempts: Math.max(1, failed),
		failedAttempts: failed,
		durationMs,
		startedAt: ago(days).toISOString(),
		...(failed ? { error: { message: `Error: ${name} failed` } } : {})
	};
}

describe.each(BACKENDS)('quarantine list on %s', (backend) => {
	let t: TestApp;
	let project: { id: string; token: string };
	const ids = {} as Record<Name, string>;
	const quarantineIds = {} as Record<Name, string>;

	const get = (url: string, token = ADMIN) => t.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
	const admin = (method: 'POST' | 'DELETE', url: string, payload?: unknown) =>
		t.app.inject({ method, url, headers: { authorization: `Bearer ${ADMIN}` }, ...(payload ? { payload } : {}) });
	async function quarantineByHand(name: Name, reason: string, expiresAt?: Date): Promise<string> {
		const res = await admin('POST', `/api/v1/tests/${ids[name]}/quarantine`, { reason, ...(expiresAt ? { expiresAt: expiresAt.toISOString() } : {}) });
		expect(res.statusCode, res.body).toBe(201);
		return res.json().id as string;
	}
	/** Moves a quarantine in time, as if it had been made (and ended) earlier. */
	async function backdate(id: string, times: { createdAt: Date; expiresAt?: Date | null; releasedAt?: Date }) {
		await t.db.pool.query(
			`UPDATE quarantines SET created_at = $2,
			   expires_at = CASE WHEN $5 THEN $3 ELSE expires_at END,
			   released_at = coalesce($4, released_at)
			 WHERE id = $1`,
			[id, times.createdAt, times.expiresAt ?? null, times.releasedAt ?? null, times.expiresAt !== undefined]
		);
	}

	beforeAll(async () => {
		t = await buildTestApp(backend, { ADMIN_TOKEN: ADMIN, ANALYSIS_WORKER: 'false', RATE_LIMIT_RUNS: '1000', RATE_LIMIT_ADMIN: '1000' });
		project = await newProject(t, 'quarantined');
		const auth = { authorization: `Bearer ${project.token}` };
		// One run per moment, with every test that has a result then.
		const moments = [...new Set(Object.values(RESULTS).flatMap((rs) => rs.map(([d]) => d)))];
		for (const days of moments) {
			const at = ago(days).toISOString();
			const opened = await t.app.inject({ method: 'POST', url: '/api/v1/runs', headers: auth, payload: { startedAt: at, idempotencyKey: `quarantine-run-${days}` } });
			expect(opened.statusCode, opened.body).toBe(201);
			const runId = opened.json().runId as string;
			const results = (Object.keys(RESULTS) as Name[]).flatMap((n) => RESULTS[n].filter(([d]) => d === days).map((r) => result(n, r)));
			const sent = await t.app.inject({ method: 'POST', url: `/api/v1/runs/${runId}/results`, headers: auth, payload: { results } });
			expect(sent.statusCode, sent.body).toBeLessThan(300);
		}
		const { rows } = await t.db.pool.query<{ id: string; title: string }>(`SELECT id, title FROM tests WHERE project_id = $1`, [project.id]);
		for (const r of rows) ids[r.title as Name] = r.id;
		expect(Object.keys(ids).sort()).toEqual(Object.keys(RESULTS).sort());

		quarantineIds.manual = await quarantineByHand('manual', 'Payment sandbox times out; JIRA-123');
		await backdate(quarantineIds.manual, { createdAt: ago(6) });

		const policy = (name: Name, expiresAt: Date) =>
			transaction(t.db.pool, (c) => quarantineTest(c, { projectId: project.id, testId: ids[name], reason: `Automatic: fails 40% of attempts`, by: 'policy', expiresAt }));
		quarantineIds.policy = await policy('policy', ago(-7));
		await backdate(quarantineIds.policy, { createdAt: ago(4) });
		quarantineIds.fixed = await policy('fixed', ago(-5));
		expect(
			await transaction(t.db.pool, (c) => releaseByPolicy(c, { projectId: project.id, testId: ids.fixed, quarantineId: quarantineIds.fixed, state: 'fixed', evidence: {} }))
		).toBe(true);
		await backdate(quarantineIds.fixed, { createdAt: ago(9), expiresAt: ago(-2), releasedAt: ago(4) });

		quarantineIds.expired = await quarantineByHand('expired', 'Flaky until the new search index lands', ago(-1));
		await backdate(quarantineIds.expired, { createdAt: ago(8), expiresAt: ago(1.5) });

		quarantineIds.released = await quarantineByHand('released', 'Staging is down');
		expect((await admin('DELETE', `/api/v1/tests/${ids.released}/quarantine`)).statusCode).toBe(204);
		await t.db.pool.query(`UPDATE quarantines SET released_by = 'jane@example.com' WHERE id = $1`, [quarantineIds.released]);
		await backdate(quarantineIds.released, { createdAt: ago(6), releasedAt: ago(2) });
		// Ended before the window: not listed.
		await t.db.pool.query(
			`INSERT INTO quarantines (project_id, test_id, reason, created_by, created_at, released_at, released_by) VALUES ($1, $2, 'long ago', 'jane@example.com', $3, $4, 'jane@example.com')`,
			[project.id, ids.released, ago(50), ago(40)]
		);

		quarantineIds.replaced = await quarantineByHand('replaced', 'first reason');
		await quarantineByHand('replaced', 'second reason');
	}, 120_000);
	afterAll(async () => t?.close());

	it('lists active quarantines with who, why, until when, failures ignored and CI time saved', async () => {
		const res = await get('/api/v1/projects/quarantined/quarantines');
		expect(res.statusCode, res.body).toBe(200);
		const body = res.json();
		expect(body.days).toBe(30);
		const test = (name: Name) => ({ id: ids[name], title: name, file: 'quarantine.spec.ts', titlePath: ['quarantine', name], projectName: 'chromium' });

		// Newest first: the second quarantine of "replaced" (just now), the policy one (4 days), the manual one (6 days).
		expect(body.active.map((q: { test: { title: string } }) => q.test.title)).toEqual(['replaced', 'policy', 'manual']);
		const [replacing, policy, manual] = body.active;
		expect(manual).toEqual({
			id: quarantineIds.manual,
			test: test('manual'),
			createdBy: 'admin (ADMIN_TOKEN)',
			automatic: false,
			reason: 'Payment sandbox times out; JIRA-123',
			createdAt: ago(6).toISOString(),
			expiresAt: null,
			releasedAt: null,
			releasedBy: null,
			ended: null,
			failuresIgnored: 2,
			savedMinutes: (30_000 + 45_000) / 60_000
		});
		expect(policy).toEqual({
			id: quarantineIds.policy,
			test: test('policy'),
			createdBy: 'policy',
			automatic: true,
			reason: 'Automatic: fails 40% of attempts',
			createdAt: ago(4).toISOString(),
			expiresAt: ago(-7).toISOString(),
			releasedAt: null,
			releasedBy: null,
			ended: null,
			failuresIgnored: 3,
			savedMinutes: (2_500 + 12_000 + 18_000) / 60_000
		});
		// Made just now, after all of its results.
		expect(replacing).toMatchObject({ test: test('replaced'), reason: 'second reason', failuresIgnored: 0, savedMinutes: 0, ended: null });
	});

	it('lists the quarantines that ended recently and how: fixed, expired, released, replaced', async () => {
		const body = (await get('/api/v1/projects/quarantined/quarantines')).json();
		const ended = body.ended as Array<Record<string, unknown> & { test: { title: string } }>;
		// Latest end first; the quarantine that ended 40 days ago is not listed.
		expect(ended.map((q) => q.test.title)).toEqual(['replaced', 'expired', 'released', 'fixed']);
		const byName = Object.fromEntries(ended.map((q) => [q.test.title, q]));
		expect(byName.fixed).toMatchObject({
			id: quarantineIds.fixed,
			createdBy: 'policy',
			automatic: true,
			createdAt: ago(9).toISOString(),
			expiresAt: ago(-2).toISOString(),
			releasedAt: ago(4).toISOString(),
			releasedBy: 'policy',
			ended: 'fixed',
			failuresIgnored: 2,
			savedMinutes: (24_000 + 36_000) / 60_000
		});
		// Its expiry passed but the hourly job has not run: it ended then, by expiry.
		expect(byName.expired).toMatchObject({
			id: quarantineIds.expired,
			createdBy: 'admin (ADMIN_TOKEN)',
			automatic: false,
			reason: 'Flaky until the new search index lands',
			expiresAt: ago(1.5).toISOString(),
			releasedAt: ago(1.5).toISOString(),
			releasedBy: 'expiry',
			ended: 'expired',
			failuresIgnored: 2,
			savedMinutes: (7_000 + 3_000) / 60_000
		});
		expect(byName.released).toMatchObject({
			id: quarantineIds.released,
			releasedAt: ago(2).toISOString(),
			releasedBy: 'jane@example.com',
			ended: 'released',
			failuresIgnored: 1,
			savedMinutes: 1_000 / 60_000
		});
		expect(byName.replaced).toMatchObject({ id: quarantineIds.replaced, reason: 'first reason', releasedBy: 'admin (ADMIN_TOKEN)', ended: 'replaced' });

		// A shorter window leaves out what ended earlier.
		const recent = (await get('/api/v1/projects/quarantined/quarantines?days=3')).json();
		expect(recent.days).toBe(3);
		expect(recent.ended.map((q: { test: { title: string } }) => q.test.title)).toEqual(['replaced', 'expired', 'released']);
		expect(recent.active).toHaveLength(3);
	});

	it('is for readers of the project only, and refuses bad queries', async () => {
		const own = await get('/api/v1/projects/quarantined/quarantines', project.token);
		expect(own.statusCode).toBe(200);
		expect(own.json().active).toHaveLength(3);
		const other = await newProject(t, `other-q-${backend}`);
		const refused = await get('/api/v1/projects/quarantined/quarantines', other.token);
		expect(refused.statusCode).toBe(404);
		expect(refused.json().message).toBe('No project "quarantined".');
		expect((await get(`/api/v1/projects/${project.id}/quarantines`, other.token)).statusCode).toBe(404);
		expect((await get(`/api/v1/projects/other-q-${backend}/quarantines`, other.token)).json()).toEqual({ active: [], ended: [], days: 30 });
		expect((await t.app.inject({ method: 'GET', url: '/api/v1/projects/quarantined/quarantines' })).statusCode).toBe(401);
		for (const q of ['days=0', 'days=366', 'days=x', 'limit=5']) {
			const bad = await get(`/api/v1/projects/quarantined/quarantines?${q}`);
			expect(bad.statusCode, q).toBe(400);
		}
	});
});
