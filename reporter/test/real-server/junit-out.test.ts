/**
 * `junitOutput` against the real server and real `playwright test`: after a history in which
 * "pays with a card" passed only on retry, a merge request's run writes a JUnit file whose failure
 * of that test says "known flaky", whose failure of a test never seen says "new", and whose pass
 * on retry carries a note; uploaded back to the server as a JUnit report, the file stores what the
 * run streamed. With the server down the file is written all the same, without verdicts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProject, runCli, runPlaywright } from '../helpers/playwright.js';
import { closedPort, healthState, onMain } from './helpers/history.js';
import { startRealServer, waitFor, type RealServer } from './helpers/server.js';
import { storedResults, storedRuns, type StoredResult } from './helpers/stored.js';

let server: RealServer;
beforeAll(async () => {
	server = await startRealServer();
}, 300_000);
afterAll(async () => {
	await server?.destroy();
});

/** The job of a merge request pipeline, on branch "feature", at commit `n`. */
function onFeature(n: number): Record<string, string> {
	return {
		...onMain(n),
		CI_COMMIT_BRANCH: 'feature',
		CI_COMMIT_REF_NAME: 'feature',
		CI_COMMIT_SHA: (0xfea70000 + n).toString(16).padStart(40, '0')
	};
}

const JUNIT = 'reports/junit.xml';

/** The `<testcase>` element of `title`, whole. */
function testCase(xml: string, title: string): string {
	const match = new RegExp(`<testcase name="${title}"[^>]*?(?:/>|>[\\s\\S]*?</testcase>)`).exec(xml);
	if (!match) throw new Error(`no testcase "${title}" in:\n${xml}`);
	return match[0];
}

const outcomes = (results: StoredResult[]) =>
	results.map(({ file, titlePath, projectName, outcome, expectedStatus, status, attempts, failedAttempts }) => ({
		file,
		titlePath,
		projectName,
		outcome,
		expectedStatus,
		status,
		attempts,
		failedAttempts
	}));

const FLAKY = String.raw`known flaky \d+(\.\d)?% \(\d+(\.\d)?–\d+(\.\d)?%\)`;

// Real processes on a shared CI machine: minutes, not the default two.
describe('junitOutput with the real server', { timeout: 300_000 }, () => {
	it('writes the verdicts into the JUnit file, and the file without them when the server is down', async () => {
		const project = await server.createProject('junit-out');
		const workdir = makeProject();
		const env = { FLACKYNESS_URL: server.url, FLACKYNESS_TOKEN: project.token, FLACKYNESS_JUNIT_OUTPUT: JUNIT };
		const junitFile = path.join(workdir, 'fail-on', JUNIT);

		for (const n of [1, 2]) {
			const seed = await runPlaywright('fail-on', { ...env, ...onMain(n), FIXTURE_FLAKY: 'retry' }, [], workdir);
			expect(seed.code).toBe(0);
		}
		await waitFor('the analysis to call the test flaky', async () => (await healthState(server, project, 'pays with a card')) === 'flaky');

		// A merge request fails the flaky test and a new one; failOn asks in the same request.
		const mr = await runPlaywright('fail-on', { ...env, ...onFeature(3), FIXTURE_FLAKY: 'fail', FIXTURE_NEW: '1', FLACKYNESS_FAIL_ON: 'new' }, [], workdir);
		expect(mr.code).toBe(1);
		expect(mr.lines).toContainEqual(expect.stringMatching(new RegExp(`^\\[flackyness\\] forgiven: cart\\.spec\\.ts › pays with a card — ${FLAKY}$`)));
		const xml = readFileSync(junitFile, 'utf8');
		expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites id="" name="" tests="3" failures="2" skipped="0" errors="0" time="[\d.]+">\n<testsuite name="cart.spec.ts" /);
		expect(testCase(xml, 'adds to the cart')).toMatch(/^<testcase name="adds to the cart" classname="cart.spec.ts" time="[\d.]+"\/>$/);
		expect(testCase(xml, 'pays with a card')).toMatch(
			new RegExp(`<failure message="\\[${FLAKY}\\] Error: expect\\(received\\)\\.toBe\\(expected\\) // Object\\.is equality" type="FAILURE">\\[${FLAKY}\\] Error: expect`)
		);
		expect(testCase(xml, 'ships to a locker')).toContain(
			'<failure message="[new] Error: expect(received).toBe(expected) // Object.is equality" type="FAILURE">[new] Error: expect(received).toBe(expected)'
		);

		// Uploaded as a JUnit report, the file stores what the run streamed.
		const streamedRun = (await storedRuns(server, project)).at(-1)!;
		const copy = await server.createProject('junit-out-copy');
		const upload = await fetch(`${server.url}/api/v1/reports`, {
			method: 'POST',
			headers: { authorization: `Bearer ${copy.token}`, 'content-type': 'application/xml' },
			body: readFileSync(junitFile)
		});
		expect(upload.status).toBe(201);
		const receipt = (await upload.json()) as { runId: string };
		const [streamed, uploaded] = [await storedResults(server, [streamedRun.id]), await storedResults(server, [receipt.runId])];
		expect(streamed.map((r) => r.outcome).sort()).toEqual(['expected', 'unexpected', 'unexpected']);
		expect(outcomes(uploaded)).toEqual(outcomes(streamed));
		expect(uploaded.find((r) => r.titlePath[0] === 'ships to a locker')?.errorMessage).toMatch(/^\[new\] Error: expect\(received\)/);

		// The junit command builds the same file from Playwright's JSON report of that run.
		const cli = await runCli(['junit', 'report.json', '-o', 'cli/junit.xml'], mr.suiteDir, { FLACKYNESS_URL: server.url, FLACKYNESS_TOKEN: project.token, ...onFeature(3) });
		expect(cli.code).toBe(0);
		expect(cli.lines).toEqual([`[flackyness] ${path.join(mr.suiteDir, 'cli/junit.xml')}: 3 tests, 2 verdicts`]);
		const fromCli = readFileSync(path.join(mr.suiteDir, 'cli/junit.xml'), 'utf8');
		const failures = (doc: string) => [...doc.matchAll(/<(testcase name|failure message)="([^"]*)"/g)].map((m) => m[2]!.replace(/\d+(\.\d)?%/g, 'N%'));
		expect(failures(fromCli)).toEqual(failures(xml));

		// A pass on retry is a passed test case with a note.
		const retried = await runPlaywright('fail-on', { ...env, ...onFeature(4), FIXTURE_FLAKY: 'retry' }, [], workdir);
		expect(retried.code).toBe(0);
		const note = testCase(readFileSync(junitFile, 'utf8'), 'pays with a card');
		expect(note).toMatch(new RegExp(`<system-out>Flackyness: passed on retry — ${FLAKY}</system-out>`));
		expect(note).toContain('<flakyFailure message="Error: expect(received).toBe(expected) // Object.is equality" type="FAILURE">');
		expect(note).not.toContain('<failure');

		// The server is down: the same file, without a word of verdict.
		const down = `http://127.0.0.1:${await closedPort()}`;
		const lonely = await runPlaywright(
			'fail-on',
			{ ...env, ...onFeature(5), FLACKYNESS_URL: down, FIXTURE_FLAKY: 'fail', FIXTURE_NEW: '1', FLACKYNESS_UPLOAD_DEADLINE_MS: '2000' },
			[],
			workdir
		);
		expect(lonely.code).toBe(1);
		const plain = readFileSync(junitFile, 'utf8');
		expect(plain).toContain('<testsuites id="" name="" tests="3" failures="2" skipped="0" errors="0"');
		for (const title of ['pays with a card', 'ships to a locker']) {
			expect(testCase(plain, title)).toContain('<failure message="Error: expect(received).toBe(expected) // Object.is equality" type="FAILURE">Error: expect(received)');
		}
		expect(plain).not.toMatch(/\[(new|known flaky|broken|quarantined)|Flackyness:/);
		expect(lonely.lines.filter((l) => l.includes(JUNIT))).toEqual([]);

		// A file that cannot be written (the path is a directory) costs a line, not the run.
		const blocked = await runPlaywright('fail-on', { FLACKYNESS_JUNIT_OUTPUT: 'tests' }, [], workdir);
		expect(blocked.code).toBe(0);
		expect(blocked.lines).toContainEqual(expect.stringMatching(/^\[flackyness\] could not write .*\/fail-on\/tests: EISDIR/));
	});
});
