/**
 * Quarantine through the real server: a failing test is quarantined with the admin API, and a run
 * whose only failure is that test passes with FLACKYNESS_QUARANTINE=pass, and says so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProject, runPlaywright } from '../helpers/playwright.js';
import { ADMIN_TOKEN, startRealServer, type RealServer } from './helpers/server.js';
import { storedRuns } from './helpers/stored.js';

let server: RealServer;
beforeAll(async () => {
	server = await startRealServer();
}, 300_000);
afterAll(async () => {
	await server?.destroy();
});

// Real processes on a shared CI machine: minutes, not the default two.
describe('quarantine with the real server', { timeout: 300_000 }, () => {
	it('lets a run whose only failure is quarantined pass with FLACKYNESS_QUARANTINE=pass, and still stores the failure', async () => {
		const project = await server.createProject('quarantine');
		const workdir = makeProject();
		const env = { FLACKYNESS_URL: server.url, FLACKYNESS_TOKEN: project.token };

		// Nothing quarantined yet: the failure fails the run, whatever the mode.
		const first = await runPlaywright('quarantined', { ...env, FLACKYNESS_QUARANTINE: 'pass' }, [], workdir);
		expect(first.code).toBe(1);
		expect(first.lines).toEqual([expect.stringMatching(/^\[flackyness\] 2 tests: 1 passed, 1 failed, 0 flaky, 0 skipped · http:\/\/127\.0\.0\.1:\d+\/runs\/[0-9a-f-]+$/)]);

		const [failing] = await server.query<{ id: string }>(`SELECT id FROM tests WHERE project_id = $1 AND title = 'fails'`, [project.id]);
		expect(failing).toBeDefined();
		const quarantined = await fetch(`${server.url}/api/v1/tests/${failing!.id}/quarantine`, {
			method: 'POST',
			headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
			body: JSON.stringify({ reason: 'known flaky, tracked in #12' })
		});
		expect(quarantined.status).toBe(201);

		// By default the reporter says so and leaves the result alone.
		const reported = await runPlaywright('quarantined', env, [], workdir);
		expect(reported.code).toBe(1);
		expect(reported.lines).toHaveLength(1);
		expect(reported.lines[0]).toContain('; all 1 failure quarantined (FLACKYNESS_QUARANTINE=pass would let the run pass)');

		// With FLACKYNESS_QUARANTINE=pass the run passes, and says why.
		const passed = await runPlaywright('quarantined', { ...env, FLACKYNESS_QUARANTINE: 'pass' }, [], workdir);
		expect(passed.code).toBe(0);
		expect(passed.lines).toHaveLength(1);
		expect(passed.lines[0]).toMatch(/^\[flackyness\] 2 tests: 1 passed, 1 failed, 0 flaky, 0 skipped · http:\/\/127\.0\.0\.1:\d+\/runs\/[0-9a-f-]+; all 1 failure quarantined: the run passes$/);

		// The quarantined failure is still a failure in the server's records.
		const runs = await storedRuns(server, project);
		expect(runs).toHaveLength(3);
		expect(runs.at(-1)).toMatchObject({ status: 'failed', unexpected: 1, expected: 1 });
	});
});
