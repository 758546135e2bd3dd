/**
 * `failOn: 'new'` against the real server: a history in which "pays with a card" passed only on
 * retry makes the analysis call it flaky; a later run whose only failure is that test passes, a run
 * that also fails a test never seen before fails (until that test is quarantined), and so does a
 * run whose server is down.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProject, runPlaywright } from '../helpers/playwright.js';
import { closedPort, healthState, onMain } from './helpers/history.js';
import { ADMIN_TOKEN, startRealServer, waitFor, type RealServer } from './helpers/server.js';

let server: RealServer;
beforeAll(async () => {
	server = await startRealServer();
}, 300_000);
afterAll(async () => {
	await server?.destroy();
});

// Real processes on a shared CI machine: minutes, not the default two.
describe("failOn: 'new' with the real server", { timeout: 300_000 }, () => {
	it('passes a run whose only failure is known flaky, and fails one with a new failure or without a server', async () => {
		const project = await server.createProject('fail-on');
		const workdir = makeProject();
		const env = { FLACKYNESS_URL: server.url, FLACKYNESS_TOKEN: project.token };

		// The history: the test fails its first attempt and passes on retry, on two commits of main.
		for (const n of [1, 2]) {
			const seed = await runPlaywright('fail-on', { ...env, ...onMain(n), FIXTURE_FLAKY: 'retry' }, [], workdir);
			expect(seed.code).toBe(0);
		}
		await waitFor('the analysis to call the test flaky', async () => (await healthState(server, project, 'pays with a card')) === 'flaky');

		// Without failOn, a failure of the flaky test fails the run, as Playwright decides.
		const plain = await runPlaywright('fail-on', { ...env, ...onMain(3), FIXTURE_FLAKY: 'fail' }, [], workdir);
		expect(plain.code).toBe(1);
		expect(plain.lines).toHaveLength(1);

		// With failOn new, the same failure is forgiven, and the line says why.
		const forgiven = await runPlaywright('fail-on', { ...env, ...onMain(4), FIXTURE_FLAKY: 'fail', FLACKYNESS_FAIL_ON: 'new' }, [], workdir);
		expect(forgiven.code).toBe(0);
		expect(forgiven.report.stats).toMatchObject({ expected: 1, unexpected: 1 });
		expect(forgiven.lines.slice(1)).toEqual([
			expect.stringMatching(/^\[flackyness\] forgiven: cart\.spec\.ts › pays with a card — known flaky \d+(\.\d)?% \(\d+(\.\d)?–\d+(\.\d)?%\)$/),
			'[flackyness] failOn new: the only failure is known flaky or quarantined: the run passes'
		]);

		// A test that fails and was never seen keeps the run failed, and is named.
		const fresh = await runPlaywright('fail-on', { ...env, ...onMain(5), FIXTURE_FLAKY: 'fail', FIXTURE_NEW: '1', FLACKYNESS_FAIL_ON: 'new' }, [], workdir);
		expect(fresh.code).toBe(1);
		// (Streamed during the run, the new test is on the server by then, without a verdict.)
		expect(fresh.lines).toContainEqual(expect.stringMatching(/^\[flackyness\] failing: cart\.spec\.ts › ships to a locker — new: (never seen before|no verdict yet)$/));
		expect(fresh.lines.at(-1)).toBe('[flackyness] failOn new: 1 of 2 failures are not known flaky or quarantined: the run fails');

		// Once quarantined by an admin, that test is forgiven too: both failures, each with its reason.
		const [locker] = await server.query<{ id: string }>(`SELECT id FROM tests WHERE project_id = $1 AND title = 'ships to a locker'`, [project.id]);
		const parked = await fetch(`${server.url}/api/v1/tests/${locker!.id}/quarantine`, {
			method: 'POST',
			headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
			body: JSON.stringify({ reason: 'lockers are not live yet' })
		});
		expect(parked.status).toBe(201);
		const both = await runPlaywright('fail-on', { ...env, ...onMain(6), FIXTURE_FLAKY: 'fail', FIXTURE_NEW: '1', FLACKYNESS_FAIL_ON: 'new' }, [], workdir);
		expect(both.code).toBe(0);
		expect(both.lines).toContain('[flackyness] forgiven: cart.spec.ts › ships to a locker — quarantined: lockers are not live yet');
		expect(both.lines.at(-1)).toBe('[flackyness] failOn new: all 2 failures are known flaky or quarantined: the run passes');

		// No server to ask: Playwright's result stands.
		const down = `http://127.0.0.1:${await closedPort()}`;
		const lonely = await runPlaywright(
			'fail-on',
			{ ...env, ...onMain(7), FLACKYNESS_URL: down, FIXTURE_FLAKY: 'fail', FLACKYNESS_FAIL_ON: 'new', FLACKYNESS_UPLOAD_DEADLINE_MS: '2000' },
			[],
			workdir
		);
		expect(lonely.code).toBe(1);
		expect(lonely.lines.at(-1)).toMatch(/^\[flackyness\] failOn new: no verdicts from the server \(.+\); Playwright's result stands$/);
	});
});
