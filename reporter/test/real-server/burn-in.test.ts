/**
 * `flackyness-reporter burn-in` against the real server and the real `playwright test`: the server
 * knows two tests from runs on main, a third is new. Burn-in runs only the new one, N times, in a
 * merge request pipeline; the repetitions are stored as one result with N attempts; a new test that
 * fails now and then makes it exit 1 and is stored as flaky. A server that is down, or no new test,
 * runs nothing and exits 0.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProject, runCli, runPlaywright } from '../helpers/playwright.js';
import { closedPort, onMain } from './helpers/history.js';
import { startRealServer, type RealServer } from './helpers/server.js';
import { storedResults, storedRuns } from './helpers/stored.js';

let server: RealServer;
beforeAll(async () => {
	server = await startRealServer();
}, 300_000);
afterAll(async () => {
	await server?.destroy();
});

/** The GitLab job "burn-in" of merge request !7's pipeline `n`, on its feature branch. */
function onMergeRequest(n: number): Record<string, string> {
	return {
		GITLAB_CI: 'true',
		CI_COMMIT_SHA: (0xbeef00 + n).toString(16).padStart(40, '0'),
		CI_COMMIT_REF_NAME: 'feat/large-parcels',
		CI_COMMIT_BRANCH: 'feat/large-parcels',
		CI_DEFAULT_BRANCH: 'main',
		CI_MERGE_REQUEST_IID: '7',
		CI_PIPELINE_SOURCE: 'merge_request_event',
		CI_PIPELINE_ID: String(5000 + n),
		CI_JOB_ID: String(9000 + n),
		CI_JOB_NAME: 'burn-in'
	};
}

const CONFIG = ['--', '-c', 'burn-in/playwright.config.ts'];
const LARGE = ['parcels', 'wraps a large parcel'];

describe('burn-in with the real server', { timeout: 300_000 }, () => {
	it('repeats only the new test, stores its repetitions as evidence, and exits 1 when it fails in some of them', async () => {
		const project = await server.createProject('burn-in');
		const workdir = makeProject();
		const counters = mkdtempSync(path.join(os.tmpdir(), 'flackyness-burn-in-counter-'));
		const env = { FLACKYNESS_URL: server.url, FLACKYNESS_TOKEN: project.token };
		const report = path.join(workdir, 'burn-in', 'report.json');
		try {
			// main knows "adds to the cart" and "wraps a small parcel".
			const seed = await runPlaywright('burn-in', { ...env, ...onMain(1) }, [], workdir);
			expect(seed.code).toBe(0);
			expect(seed.report.stats.expected).toBe(2);

			// No new test: nothing runs.
			rmSync(report);
			const none = await runCli(['burn-in', ...CONFIG], workdir, { ...env, ...onMergeRequest(1) });
			expect(none.code).toBe(0);
			expect(none.lines).toEqual(['[flackyness] burn-in: none of the 2 tests is new (all have run on the default branch); nothing run']);
			expect(existsSync(report)).toBe(false);

			// The merge request adds "wraps a large parcel", declared where "wraps a small parcel" is: only its title tells them apart.
			const passing = await runCli(['burn-in', '--repeat-each', '4', ...CONFIG], workdir, { ...env, ...onMergeRequest(2), FIXTURE_NEW: '1' });
			expect(passing.code, passing.stdout + passing.stderr).toBe(0);
			expect(passing.lines.slice(0, 2)).toEqual([
				'[flackyness] burn-in: 1 of 3 tests are new; running each 4 times',
				'[flackyness] burn-in: new: [desktop] › parcel.spec.ts › parcels › wraps a large parcel'
			]);
			expect(passing.lines).toContain('[flackyness] burn-in: [desktop] › parcel.spec.ts › parcels › wraps a large parcel — passed 4 of 4 runs');
			expect(passing.lines.at(-1)).toBe('[flackyness] burn-in: every new test passed 4 times');
			// Playwright ran that test 4 times and nothing else (its JSON report, from the fixture's config).
			const ran = JSON.parse(readFileSync(report, 'utf8')) as { suites: unknown[]; stats: { expected: number; unexpected: number; flaky: number } };
			expect(ran.stats).toMatchObject({ expected: 4, unexpected: 0, flaky: 0 });
			expect(JSON.stringify(ran.suites)).not.toContain('wraps a small parcel');
			expect(JSON.stringify(ran.suites)).not.toContain('adds to the cart');

			let runs = await storedRuns(server, project);
			expect(runs).toHaveLength(2);
			const mrRun = runs[1]!;
			expect(mrRun).toMatchObject({ branch: 'feat/large-parcels', is_default_branch: false, mr_iid: 7, total: 1, expected: 1 });
			expect(await storedResults(server, [mrRun.id])).toEqual([
				expect.objectContaining({ titlePath: LARGE, projectName: 'desktop', outcome: 'expected', attempts: 4, failedAttempts: 0, status: 'passed' })
			]);

			// Now it tears every third time: 3 of 10 runs fail (the default), so burn-in fails, and the server stores it as flaky.
			rmSync(report);
			const flaky = await runCli(['burn-in', ...CONFIG], workdir, { ...env, ...onMergeRequest(3), FIXTURE_NEW: '1', FIXTURE_LARGE: 'flaky', FIXTURE_COUNTER_DIR: counters });
			expect(flaky.code, flaky.stdout + flaky.stderr).toBe(1);
			expect(flaky.lines[0]).toBe('[flackyness] burn-in: 1 of 3 tests are new; running each 10 times');
			expect(flaky.lines).toContain('[flackyness] burn-in: [desktop] › parcel.spec.ts › parcels › wraps a large parcel — FAILED 3 of 10 runs');
			expect(flaky.lines.at(-1)).toBe('[flackyness] burn-in: 1 new test failed at least once in 10 runs: flaky or broken before the merge');
			expect(flaky.stdout).toContain('every third wrapping tears');
			expect(readFileSync(path.join(counters, 'large-runs'), 'utf8')).toHaveLength(10);
			runs = await storedRuns(server, project);
			expect(runs).toHaveLength(3);
			expect(runs[2]).toMatchObject({ total: 1, flaky: 1, unexpected: 0 });
			const [evidence] = await storedResults(server, [runs[2]!.id]);
			expect(evidence).toMatchObject({ titlePath: LARGE, outcome: 'flaky', attempts: 10, failedAttempts: 3 });
			expect(evidence!.errorMessage).toContain('every third wrapping tears');

			// The server is down: nothing runs, the pipeline is not blocked.
			rmSync(report);
			const down = `http://127.0.0.1:${await closedPort()}`;
			const skipped = await runCli(['burn-in', ...CONFIG], workdir, {
				...env,
				...onMergeRequest(4),
				FLACKYNESS_URL: down,
				FLACKYNESS_REQUEST_TIMEOUT_MS: '1000',
				FIXTURE_NEW: '1',
				FIXTURE_LARGE: 'flaky',
				FIXTURE_COUNTER_DIR: counters
			});
			expect(skipped.code).toBe(0);
			expect(skipped.lines).toEqual([
				expect.stringMatching(/^\[flackyness\] burn-in: skipped, nothing run: the server at http:\/\/127\.0\.0\.1:\d+ could not say which tests are new \(.+\)$/)
			]);
			expect(existsSync(report)).toBe(false);
			expect(await storedRuns(server, project)).toHaveLength(3);
		} finally {
			rmSync(counters, { recursive: true, force: true });
		}
	});

	it('refuses bad options with exit code 2, and runs nothing without a server configured', async () => {
		const workdir = makeProject();
		const bad = await runCli(['burn-in', '--repeat-each', '0', ...CONFIG], workdir, {});
		expect(bad.code).toBe(2);
		expect(bad.lines).toEqual(['[flackyness] invalid --repeat-each: expected a whole number from 1 to 100']);
		expect((await runCli(['burn-in', '--max-tests', 'many'], workdir, {})).code).toBe(2);
		const unconfigured = await runCli(['burn-in', ...CONFIG], workdir, { FIXTURE_NEW: '1' });
		expect(unconfigured.code).toBe(0);
		expect(unconfigured.lines).toEqual(['[flackyness] burn-in: skipped, nothing run: FLACKYNESS_URL and FLACKYNESS_TOKEN are needed to know which tests are new']);
		expect(existsSync(path.join(workdir, 'burn-in', 'report.json'))).toBe(false);
	});
});
