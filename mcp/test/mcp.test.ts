/**
 * The MCP server as an MCP client sees it: the built `dist/cli.js` spawned over stdio by the SDK's
 * own client, reading a real Flackyness server (its own process, on a fresh PostgreSQL database)
 * into which a short default-branch history was streamed as the reporter streams it.
 */
import { createHash } from 'node:crypto';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { TestResultInput } from 'flackyness-reporter/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort } from '../../reporter/test/real-server/helpers/history.js';
import { ADMIN_TOKEN, startRealServer, waitFor, type Project, type RealServer } from '../../reporter/test/real-server/helpers/server.js';
import { call, connect } from './helpers/client.js';

const HOUR = 3_600_000;
const sha = (s: string) => createHash('sha1').update(s).digest('hex');

type Outcome = 'pass' | 'fail' | 'retry';

function result(title: string, outcome: Outcome, at: Date): TestResultInput {
	const failed = outcome === 'fail';
	return {
		file: 'shop.spec.ts',
		titlePath: ['shop', title],
		projectName: 'chromium',
		outcome: failed ? 'unexpected' : outcome === 'retry' ? 'flaky' : 'expected',
		expectedStatus: 'passed',
		status: failed ? 'failed' : 'passed',
		attempts: outcome === 'pass' ? 1 : 2,
		failedAttempts: failed ? 2 : outcome === 'retry' ? 1 : 0,
		durationMs: outcome === 'pass' ? 1000 : 4000,
		startedAt: at.toISOString(),
		...(outcome === 'pass'
			? {}
			: { error: { message: `Error: ${title} timed out waiting for the basket\n  at shop.spec.ts:12:5`, location: 'shop.spec.ts:12:5' } })
	};
}

describe('flackyness-mcp over stdio against a real server', () => {
	let server: RealServer;
	let shop: Project;
	let other: Project;
	const runIds: string[] = [];
	let clients: Client[] = [];

	async function api(method: string, path: string, body: unknown, token: string) {
		const res = await fetch(`${server.url}${path}`, {
			method,
			headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
			body: JSON.stringify(body)
		});
		return { status: res.status, body: (await res.json()) as Record<string, unknown> };
	}

	/** One CI job on main, streamed as the reporter streams it. */
	async function job(i: number, results: Array<[string, Outcome]>) {
		const at = new Date(Date.now() - 2 * 86_400_000 + i * HOUR);
		const ci = {
			provider: 'gitlab',
			branch: 'main',
			defaultBranch: 'main',
			commitSha: sha(`c${i}`),
			commitTitle: `commit ${i}`,
			pipelineId: String(100 + i),
			jobId: String(500 + i),
			jobName: 'e2e',
			jobUrl: `https://gitlab.example.com/group/shop/-/jobs/${500 + i}`
		};
		const open = await api('POST', '/api/v1/runs', { ci, startedAt: at.toISOString() }, shop.token);
		expect(open.status).toBe(201);
		const runId = open.body.runId as string;
		expect((await api('POST', `/api/v1/runs/${runId}/results`, { results: results.map(([t, o]) => result(t, o, at)) }, shop.token)).status).toBe(200);
		const failed = results.some(([, o]) => o === 'fail');
		expect((await api('POST', `/api/v1/runs/${runId}/complete`, { status: failed ? 'failed' : 'passed', durationMs: 60_000 }, shop.token)).status).toBe(200);
		return runId;
	}

	async function open(token: string, url = server.url) {
		const client = await connect(url, token);
		clients.push(client);
		return client;
	}

	beforeAll(async () => {
		server = await startRealServer({ ANALYSIS_POLL_MS: '50' });
		shop = await server.createProject('shop');
		other = await server.createProject('other');
		// "checks out" passes on retry now and then on unchanged commits (flaky); "searches" fails
		// every attempt from commit 12 on (broken); "lists products" always passes.
		for (let i = 0; i < 20; i++) {
			runIds.push(
				await job(i, [
					['lists products', 'pass'],
					['checks out', i % 3 === 1 ? 'retry' : 'pass'],
					['searches', i >= 12 ? 'fail' : 'pass']
				])
			);
		}
		await waitFor('the verdicts', async () => {
			const rows = await server.query<{ title: string; state: string }>(
				`SELECT t.title, h.state::text AS state FROM tests t JOIN test_health h ON h.test_id = t.id WHERE t.project_id = $1`,
				[shop.id]
			);
			const states = Object.fromEntries(rows.map((r) => [r.title, r.state]));
			const queued = await server.query(`SELECT 1 FROM analysis_jobs`);
			return queued.length === 0 && states['checks out'] === 'flaky' && states.searches === 'broken' && states['lists products'] === 'healthy';
		});
	});

	afterAll(async () => {
		for (const c of clients) await c.close();
		clients = [];
		await server?.destroy();
	});

	it('lists its read-only tools', async () => {
		const client = await open(shop.token);
		const { tools } = await client.listTools();
		expect(tools.map((t) => t.name).sort()).toEqual(['explain_test', 'list_flaky_tests', 'list_projects', 'search_tests', 'show_run']);
		for (const t of tools) {
			expect(t.annotations?.readOnlyHint, t.name).toBe(true);
			expect(t.outputSchema, t.name).toBeDefined();
		}
	});

	it('explains a flaky verdict with its evidence, found by its title', async () => {
		const client = await open(shop.token);
		const res = await call(client, 'explain_test', { project: 'shop', search: 'checks out' });
		expect(res.isError ?? false).toBe(false);
		expect(res.text).toContain('shop › checks out — shop.spec.ts [chromium]');
		expect(res.text).toMatch(/^Verdict: flaky: passed and failed on the same \d+ commits?; fails \d+(\.\d)?% \(\d+(\.\d)?%–\d+%\) of attempts\.$/m);
		expect(res.text).toContain('Commits that both passed and failed (7 of 7):');
		// The last run (commit 19) passed on retry: no clean run since.
		expect(res.text).toMatch(/^Fixed rule: 0 clean runs since the last flaky failure; \d+ needed to call it fixed\.$/m);
		expect(res.text).toContain('timed out waiting for the basket at shop.spec.ts:12:5');
		expect(res.text).toContain('passed on retry (1/2 attempts failed), main');
		expect(res.text).toMatch(/^Next step: Its failures come and go on unchanged code/m);

		const s = res.structuredContent as {
			test: { name: string };
			verdict: { state: string; mixedCommits: number; failureChance: { estimate: number; low: number; high: number }; reasons: string[] };
			mixedCommits: { sha: string; kind: string }[];
			recentErrors: { message: string; count: number }[];
			recentRuns: { outcome: string }[];
		};
		expect(s.test.name).toBe('shop › checks out');
		expect(s.verdict.state).toBe('flaky');
		// Every third of the 20 commits passed on retry: each one both failed and passed.
		expect(s.verdict.mixedCommits).toBe(7);
		expect(s.mixedCommits.every((m) => m.kind === 'in-run')).toBe(true);
		expect(s.mixedCommits.map((m) => m.sha)).toContain(sha('c19'));
		const { estimate, low, high } = s.verdict.failureChance;
		expect(low).toBeLessThan(estimate);
		expect(estimate).toBeLessThan(high);
		expect(s.verdict.reasons.length).toBeGreaterThan(0);
		expect(s.recentErrors).toEqual([expect.objectContaining({ message: 'Error: checks out timed out waiting for the basket', count: 7 })]);
		expect(s.recentRuns).toHaveLength(20);
		expect(s.recentRuns.filter((r) => r.outcome === 'flaky')).toHaveLength(7);
	});

	it('explains a broken verdict by test id, with its change point', async () => {
		const client = await open(shop.token);
		const list = await call(client, 'search_tests', { project: 'shop', text: 'searches' });
		const [hit] = (list.structuredContent as { tests: { testId: string; state: string }[] }).tests;
		expect(hit?.state).toBe('broken');
		expect(list.text).toMatch(new RegExp(`^- \\[broken\\] shop › searches \\(shop\\.spec\\.ts, chromium\\): fails every attempt since ${sha('c12').slice(0, 8)};`, 'm'));
		const res = await call(client, 'explain_test', { testId: hit!.testId });
		expect(res.text).toContain(`Verdict: broken: fails every attempt since commit ${sha('c12').slice(0, 8)}.`);
		expect(res.text).toContain(`Change point: first failing commit ${sha('c12').slice(0, 8)}`);
		expect(res.text).toContain(`last passing ${sha('c11').slice(0, 8)}`);
		expect(res.text).toMatch(/^Flaky failure chance per attempt outside the failing stretch: /m);
		expect(res.text).toContain(`Next step: A real failure, not flakiness: look at the changes between ${sha('c11').slice(0, 8)} (last pass) and ${sha('c12').slice(0, 8)}`);
	});

	it('lists the flaky tests with failure chance and CI time lost', async () => {
		const client = await open(shop.token);
		const res = await call(client, 'list_flaky_tests', { project: 'shop' });
		expect(res.isError ?? false).toBe(false);
		const s = res.structuredContent as { total: number; tests: { name: string; state: string; ciMinutesLostPerDay: number; failureChance: { estimate: number } }[] };
		expect(s.total).toBe(2);
		expect(Object.fromEntries(s.tests.map((t) => [t.name, t.state]))).toEqual({ 'shop › checks out': 'flaky', 'shop › searches': 'broken' });
		const flaky = s.tests.find((t) => t.state === 'flaky')!;
		expect(flaky.ciMinutesLostPerDay).toBeGreaterThan(0);
		expect(res.text).toMatch(/^- \[flaky\] shop › checks out \(shop\.spec\.ts, chromium\): fails .* of attempts; CI time lost .* min\/day; 7 mixed commits; 20 runs\. id [0-9a-f-]{36}$/m);

		const onlyFlaky = await call(client, 'list_flaky_tests', { project: 'shop', state: ['flaky'], limit: 5 });
		expect((onlyFlaky.structuredContent as { tests: { name: string }[] }).tests.map((t) => t.name)).toEqual(['shop › checks out']);
	});

	it('shows a run with its failures and their verdicts', async () => {
		const client = await open(shop.token);
		const res = await call(client, 'show_run', { runId: runIds[13] });
		expect(res.isError ?? false).toBe(false);
		expect(res.text).toContain(`Run ${runIds[13]}: failed, main @ ${sha('c13').slice(0, 8)} "commit 13"`);
		expect(res.text).toContain('3 tests: 1 passed, 1 failed, 1 flaky, 0 skipped.');
		expect(res.text).toMatch(/- \[failed\] searches \(shop\.spec\.ts, chromium\), verdict broken: known broken/);
		expect(res.text).toMatch(/- \[flaky\] checks out \(shop\.spec\.ts, chromium\), verdict flaky: passed on retry/);
		const s = res.structuredContent as { failures: { title: string; verdict: string }[] };
		expect(s.failures.map((f) => [f.title, f.verdict])).toEqual([
			['searches', 'broken'],
			['checks out', 'flaky']
		]);
	});

	it('lists only what the token can read', async () => {
		const own = await call(await open(shop.token), 'list_projects', {});
		expect((own.structuredContent as { projects: { slug: string }[] }).projects.map((p) => p.slug)).toEqual(['shop']);
		expect(own.text).toMatch(/^- shop: 3 tests, 1 flaky, 1 broken; last run /);
		const admin = await call(await open(ADMIN_TOKEN), 'list_projects', {});
		expect((admin.structuredContent as { projects: { slug: string }[] }).projects.map((p) => p.slug).sort()).toEqual(['other', 'shop']);
	});

	it("gives another project's token nothing of this project, as tool errors", async () => {
		const client = await open(other.token);
		const list = await call(client, 'list_flaky_tests', { project: 'shop' });
		expect(list.isError).toBe(true);
		expect(list.text).toBe('No project "shop". (404): it does not exist, or this token cannot read it (a project token reads only its own project).');
		const search = await call(client, 'explain_test', { project: 'shop', search: 'checks out' });
		expect(search.isError).toBe(true);
		expect(search.text).toContain('No project "shop".');
		const [row] = await server.query<{ id: string }>(`SELECT id FROM tests WHERE project_id = $1 AND title = 'checks out'`, [shop.id]);
		const byId = await call(client, 'explain_test', { testId: row!.id });
		expect(byId.isError).toBe(true);
		expect(byId.text).toContain(`No test ${row!.id}.`);
		const run = await call(client, 'show_run', { runId: runIds[0] });
		expect(run.isError).toBe(true);
		expect(run.text).toContain(`No run ${runIds[0]}.`);
		// The server is still there for what the token may read.
		const mine = await call(client, 'list_flaky_tests', { project: 'other' });
		expect(mine.isError ?? false).toBe(false);
		expect(mine.text).toBe('Tests of other judged flaky, broken, suspect, failing, quarantined or fixed: none.');
	});

	it('answers a wrong token, a server that is down and bad arguments with clear tool errors', async () => {
		const wrong = await open('fk_not-a-real-token-0123456789');
		const refused = await call(wrong, 'list_projects', {});
		expect(refused.isError).toBe(true);
		expect(refused.text).toMatch(/^Flackyness refused the token \(401\).*: set FLACKYNESS_TOKEN to a valid project token or admin token\.$/);
		expect(refused.text).not.toContain('fk_not-a-real-token');

		const down = await open(shop.token, `http://127.0.0.1:${await closedPort()}`);
		const unreachable = await call(down, 'explain_test', { project: 'shop', search: 'checks out' });
		expect(unreachable.isError).toBe(true);
		expect(unreachable.text).toMatch(/^Cannot reach the Flackyness server at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED\. Check FLACKYNESS_URL and that the server is up\.$/);

		const client = await open(shop.token);
		const noArgs = await call(client, 'explain_test', {});
		expect(noArgs.isError).toBe(true);
		expect(noArgs.text).toBe('Give testId, or project and search.');
		const badId = await call(client, 'show_run', { runId: 'not-a-uuid' });
		expect(badId.isError).toBe(true);
		expect(badId.text).toContain('Invalid arguments for tool show_run');
		const ambiguous = await call(client, 'explain_test', { project: 'shop', search: 's' });
		expect(ambiguous.isError).toBe(true);
		expect(ambiguous.text).toMatch(/^3 tests in "shop" match "s"; call explain_test again with one testId:\n- \[/);
		// Each client still answers after its errors: nothing crashed.
		expect((await call(client, 'list_projects', {})).isError ?? false).toBe(false);
		expect((await call(wrong, 'list_projects', {})).isError).toBe(true);
	});
});
