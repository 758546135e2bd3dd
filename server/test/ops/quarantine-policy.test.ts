import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { ADMIN } from '../helpers/ingest.js';
import { apiClient, streamJob, until, type JobSpec, type Outcome } from '../helpers/ci-history.js';
import { ACCESS, FakeGitlab } from '../helpers/fake-gitlab.js';
import { generateSecretsKey } from '../../src/lib/secrets.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;

const GITLAB_TOKEN = 'glpat-issues-token-with-api-scope-01234';

describe('a test turning flaky: its event, its GitLab issue, the automatic quarantine, the release (a real server over HTTP on PostgreSQL, a fake GitLab)', () => {
	let t: TestApp;
	let gl: FakeGitlab;
	let url: string;
	let ingest: string;
	const api = apiClient(() => url, ADMIN);
	const job = (p: JobSpec) => streamJob(api, ingest, p);
	const started = Date.now() - 6 * DAY;
	let pipeline = 100;

	const analysed = () => until('the analysis queue to empty', async () => (await t.db.pool.query(`SELECT 1 FROM analysis_jobs`)).rowCount === 0, 30_000);
	/** One default-branch pipeline an hour after the previous one. */
	const onMain = (results: Array<[string, Outcome]>) => {
		const n = pipeline++;
		return job({ pipeline: n, commit: `c${n}`, branch: 'main', at: new Date(started + (n - 100) * HOUR), results });
	};
	const events = async (title: string) =>
		(
			await t.db.pool.query<{ kind: string; from_state: string | null; to_state: string | null; details: Record<string, unknown> }>(
				`SELECT e.kind, e.from_state, e.to_state, e.details FROM test_events e JOIN tests t ON t.id = e.test_id WHERE t.title = $1 ORDER BY e.id`,
				[title]
			)
		).rows;

	beforeAll(async () => {
		gl = new FakeGitlab();
		gl.addProject({ id: 9, path: 'group/app' });
		gl.addToken(GITLAB_TOKEN, { scopes: ['api'], access: { 9: ACCESS.developer } });
		await gl.start();
		t = await buildTestApp('postgres', { ADMIN_TOKEN: ADMIN, SECRETS_KEY: generateSecretsKey(), PUBLIC_URL: 'http://flackyness.test', GITLAB_POLL_MS: '50', ANALYSIS_POLL_MS: '50', RATE_LIMIT_RUNS: '10000', RATE_LIMIT_BATCHES: '100000', RATE_LIMIT_ADMIN: '1000', RATE_LIMIT_READS: '10000' });
		url = await t.app.listen({ port: 0, host: '127.0.0.1' });
		const created = await api('POST', '/api/v1/admin/projects', { slug: 'shop' });
		ingest = created.body.token;
		const connected = await api('PUT', '/api/v1/projects/shop/integrations/gitlab', { url: gl.url, token: GITLAB_TOKEN, mrNotes: false, commitStatus: false, issues: true, issueLabels: ['flaky-test', 'ci'] });
		expect(connected.body).toMatchObject({ issues: true, issueLabels: ['flaky-test', 'ci'] });
	}, 60_000);
	afterAll(async () => {
		await t?.close();
		await gl?.close();
	});
	/** Until the GitLab queue has nothing due. */
	const written = () =>
		until('the GitLab queue to settle', async () => (await t.db.pool.query(`SELECT 1 FROM gitlab_jobs WHERE state = 'pending'`)).rowCount === 0 && (await t.db.pool.query(`SELECT 1 FROM analysis_jobs`)).rowCount === 0);

	it('refuses a policy out of range, in words', async () => {
		const bad = await api('PUT', '/api/v1/projects/shop/settings', { quarantinePolicy: { minFailureChance: 1.5 } });
		expect(bad.status).toBe(400);
		expect(bad.body.message).toMatch(/quarantinePolicy\.minFailureChance/);
		const off = await api('GET', '/api/v1/projects/shop/settings');
		expect(off.body.effective.quarantinePolicy).toEqual({ days: 14 });
	});

	it('quarantines a test that turned flaky once, and releases it when it is fixed', async () => {
		expect((await api('PUT', '/api/v1/projects/shop/settings', { quarantinePolicy: { minFailureChance: 0.05, days: 10 } })).status).toBe(200);
		for (let i = 0; i < 6; i++) await onMain([['lists products', 'pass'], ['checks out', 'pass']]);
		for (let i = 0; i < 14; i++) await onMain([['lists products', 'pass'], ['checks out', i % 3 === 1 ? 'retry' : 'pass']]);
		await analysed();

		const flaky = await events('checks out');
		expect(flaky.map((e) => e.kind)).toEqual(['flaky', 'quarantined']);
		expect(flaky[0]).toMatchObject({ from_state: 'healthy', to_state: 'flaky' });
		expect(flaky[1]!.details).toMatchObject({ by: 'policy', reason: expect.stringMatching(/^Automatic: fails \d+% of attempts \(\d+%–\d+%\), at least 5% by the project's policy$/) });
		const q = await t.db.pool.query(`SELECT created_by, extract(epoch FROM expires_at - created_at)::float8 AS span FROM quarantines q JOIN tests t ON t.id = q.test_id WHERE t.title = 'checks out' AND released_at IS NULL`);
		expect(q.rows).toHaveLength(1);
		expect(Math.abs(q.rows[0].span - 10 * 86_400)).toBeLessThan(60);
		// The reporter's quarantine list carries it: the pipeline now ignores its failures.
		const list = await api('GET', '/api/v1/quarantine', undefined, ingest);
		expect(list.body.tests.map((x: { titlePath: string[]; createdBy: string }) => [x.titlePath.at(-1), x.createdBy])).toEqual([['checks out', 'policy']]);
		expect(await events('lists products')).toEqual([]);

		// One GitLab issue, with the verdict, the interval and the quarantine.
		await until('the issue', () => gl.issues.length > 0);
		await written();
		expect(gl.issues).toHaveLength(1);
		expect(gl.issues[0]).toMatchObject({ title: 'Flaky test: [chromium] shop.spec.ts › shop › checks out', labels: ['flaky-test', 'ci'], state: 'opened' });
		expect(gl.issues[0]!.description).toMatch(/\*\*Verdict:\*\* (flaky|quarantined) since .* · \d+% of attempts fail \(\d+%–\d+%\)/);
		expect(gl.issues[0]!.description).toContain('**Quarantined:** `Automatic: fails');
		expect(gl.issues[0]!.description).toMatch(/\(http:\/\/flackyness\.test\/tests\/[0-9a-f-]{36}\)/);

		// Clean runs until the fixed rule is met (as many as the verdict says it needs): released by
		// the policy, the fix told once.
		const rule = await t.db.pool.query<{ required: number }>(
			`SELECT (h.evidence->'fixedRule'->>'requiredRuns')::int AS required FROM test_health h JOIN tests t ON t.id = h.test_id WHERE t.title = 'checks out'`
		);
		const required = rule.rows[0]!.required;
		expect(required).toBeGreaterThan(0);
		expect(required).toBeLessThan(6 * 24 - pipeline + 100); // the pipelines stay in the past
		for (let i = 0; i < required; i++) await onMain([['lists products', 'pass'], ['checks out', 'pass']]);
		await analysed();
		const after = await events('checks out');
		expect(after.map((e) => e.kind)).toEqual(['flaky', 'quarantined', 'fixed', 'released']);
		expect(after[3]).toMatchObject({ from_state: 'quarantined', to_state: 'fixed', details: { by: 'policy' } });
		const state = await t.db.pool.query(`SELECT h.state FROM test_health h JOIN tests t ON t.id = h.test_id WHERE t.title = 'checks out'`);
		expect(state.rows[0].state).toBe('fixed');
		expect((await api('GET', '/api/v1/quarantine', undefined, ingest)).body.tests).toEqual([]);

		// The issue is closed, not a second one opened; the GitLab calls were the issue's only.
		await until('the issue closed', () => gl.issues[0]!.state === 'closed');
		await written();
		expect(gl.issues).toHaveLength(1);
		expect(gl.issues[0]!.description).toContain('**Verdict:** fixed since');
		expect(gl.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
		expect(gl.requests.every((r) => r.path.startsWith('/api/v4/projects/group%2Fapp/issues'))).toBe(true);
	}, 120_000);

	it('tells of a break once, and of a quarantine ending within two days once', async () => {
		for (let i = 0; i < 6; i++) await onMain([['lists products', i >= 2 ? 'fail' : 'pass'], ['checks out', 'pass']]);
		await analysed();
		expect((await events('lists products')).map((e) => e.kind)).toEqual(['broken']);

		const test = await t.db.pool.query<{ id: string }>(`SELECT id FROM tests WHERE title = 'lists products'`);
		const until2 = new Date(Date.now() + DAY).toISOString();
		expect((await api('POST', `/api/v1/tests/${test.rows[0]!.id}/quarantine`, { reason: 'known outage', expiresAt: until2 })).status).toBe(201);
		await t.app.sweepStaleRuns();
		await t.app.sweepStaleRuns();
		const kinds = (await events('lists products')).map((e) => e.kind);
		expect(kinds).toEqual(['broken', 'quarantined', 'quarantine_expiring']);
		// A broken test is no flaky test: it gets no issue.
		await written();
		expect(gl.issues).toHaveLength(1);
	});
});
