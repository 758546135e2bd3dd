/**
 * The real server failing under a real `playwright test`: killed with SIGKILL between two batches
 * and started again, slow (5 s per request), hanging. The run's exit code never changes, the run
 * is held no longer than the upload deadline, and after `flackyness-reporter upload <spool>` the
 * server holds every test once, as Playwright's JSON reporter wrote it.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromJsonReport } from '../helpers/json-report.js';
import { runCli, runPlaywright, spoolFiles, type PlaywrightRun, type Suite } from '../helpers/playwright.js';
import { startDelayProxy, type DelayProxy } from './helpers/delay-proxy.js';
import { startRealServer, waitFor, type Project, type RealServer } from './helpers/server.js';
import { asComparable, resultCount, storedResults, storedRuns } from './helpers/stored.js';

let server: RealServer;
const proxies: DelayProxy[] = [];
/** Exit codes of the suites without the reporter: what the reporter must not change. */
const baseline: Partial<Record<Suite, { code: number | null; ms: number }>> = {};

function gateFile(): string {
	return path.join(mkdtempSync(path.join(os.tmpdir(), 'flackyness-gate-')), 'open');
}

beforeAll(async () => {
	server = await startRealServer();
	const gate = gateFile();
	writeFileSync(gate, '');
	for (const suite of ['gated', 'passing'] as const) {
		const run = await runPlaywright(suite, { FIXTURE_NO_FLACKYNESS: '1', FIXTURE_GATE: gate });
		baseline[suite] = { code: run.code, ms: run.ms };
	}
}, 300_000);
afterAll(async () => {
	await Promise.all(proxies.map((p) => p.close()));
	await server?.destroy();
});

/** Everything the project holds is this run, complete, each test once, as the JSON report says. */
async function expectStoredAsReported(project: Project, run: PlaywrightRun): Promise<void> {
	const runs = await storedRuns(server, project);
	expect(runs).toHaveLength(1);
	const { expected, unexpected, flaky, skipped } = run.report.stats;
	expect(runs[0]).toMatchObject({ status: unexpected > 0 ? 'failed' : 'passed', total: expected + unexpected + flaky + skipped, expected, unexpected, flaky, skipped });
	expect(await resultCount(server, project)).toBe(runs[0]!.total);
	expect(asComparable(await storedResults(server, [runs[0]!.id]))).toEqual(fromJsonReport(run.report));
}

/** Runs the gated suite; `atGate` runs once the ten tests before the gate are stored, then the gate opens. */
async function gatedRun(project: Project, env: Record<string, string>, atGate: () => Promise<void>): Promise<PlaywrightRun> {
	const gate = gateFile();
	const running = runPlaywright('gated', {
		FLACKYNESS_URL: server.url,
		FLACKYNESS_TOKEN: project.token,
		FLACKYNESS_BATCH_SIZE: '5',
		FIXTURE_GATE: gate,
		...env
	});
	// Two batches of five: the moment is between batches, chosen by what the server stored.
	await waitFor('the ten results before the gate', async () => (await resultCount(server, project)) >= 10);
	expect(await resultCount(server, project)).toBe(10);
	await atGate();
	writeFileSync(gate, '');
	return running;
}

// Real processes on a shared CI machine: minutes, not the default two.
describe('the real server failing during a run', { timeout: 300_000 }, () => {
	it('killed between batches and restarted during the run: exit code unchanged, every test stored once', async () => {
		const project = await server.createProject('killed-restarted');
		const run = await gatedRun(project, {}, async () => {
			await server.kill();
			await server.restart();
		});
		expect(run.code).toBe(baseline.gated!.code);
		expect(run.lines).toHaveLength(1);
		expect(run.lines[0]).toContain(`${server.url}/runs/`);
		expect(spoolFiles(run.suiteDir)).toEqual([]);
		await expectStoredAsReported(project, run);
	});

	it('killed between batches and back only after the run: exit code unchanged, spooled, nothing lost after upload', async () => {
		const project = await server.createProject('killed-spooled');
		const run = await gatedRun(project, { FLACKYNESS_UPLOAD_DEADLINE_MS: '5000' }, () => server.kill());
		expect(run.code).toBe(baseline.gated!.code);
		const [spool, ...more] = spoolFiles(run.suiteDir);
		expect(more).toEqual([]);
		expect(run.lines).toHaveLength(1);
		expect(run.lines[0]).toMatch(/not uploaded: connection refused/);
		expect(run.lines[0]).toContain('send it with: npx flackyness-reporter upload ');
		// The ten results sent before the kill are stored; the run is still open.
		expect(await resultCount(server, project)).toBe(10);

		await server.restart();
		const env = { FLACKYNESS_TOKEN: project.token };
		const upload = await runCli(['upload', spool!], run.project, env);
		expect(upload.code).toBe(0);
		expect(upload.lines).toEqual([expect.stringMatching(/: \d+ results replayed · http:\/\/127\.0\.0\.1:\d+\/runs\/.*; renamed to .*\.json\.sent$/)]);
		await expectStoredAsReported(project, run);

		// Sent again by mistake: nothing changes.
		expect((await runCli(['upload', `${spool!}.sent`], run.project, env)).code).toBe(0);
		await expectStoredAsReported(project, run);
	});

	it('slow (5 s per request, through a proxy): exit code unchanged, everything stored within the deadline', async () => {
		const project = await server.createProject('slow');
		const proxy = await startDelayProxy(server.url, { kind: 'delay', delayMs: 5000 });
		proxies.push(proxy);
		const deadlineMs = 30_000;
		const run = await runPlaywright('passing', { FLACKYNESS_URL: proxy.url, FLACKYNESS_TOKEN: project.token, FLACKYNESS_UPLOAD_DEADLINE_MS: String(deadlineMs) });
		expect(run.code).toBe(baseline.passing!.code);
		expect(spoolFiles(run.suiteDir), run.lines.join('\n')).toEqual([]);
		// The run's dashboard URL is the server's own.
		expect(run.lines[0]).toContain(`${server.url}/runs/`);
		await expectStoredAsReported(project, run);
		// Every request waited 5 s; the run waited for them no longer than the deadline (generous bound).
		expect(proxy.requests.length).toBeGreaterThanOrEqual(3);
		expect(run.ms).toBeLessThan(baseline.passing!.ms + deadlineMs + 15_000);
	});

	it('hanging (requests never answered): exit code unchanged, held only until the deadline, spool sent later', async () => {
		const project = await server.createProject('hanging');
		const proxy = await startDelayProxy(server.url, { kind: 'hang' });
		proxies.push(proxy);
		const deadlineMs = 5000;
		const run = await runPlaywright('passing', { FLACKYNESS_URL: proxy.url, FLACKYNESS_TOKEN: project.token, FLACKYNESS_UPLOAD_DEADLINE_MS: String(deadlineMs) });
		expect(run.code).toBe(baseline.passing!.code);
		expect(run.lines[0]).toMatch(/not uploaded: (no response in time|no answer before the upload deadline)/);
		expect(run.ms).toBeLessThan(baseline.passing!.ms + deadlineMs + 15_000);
		expect(await storedRuns(server, project)).toEqual([]);

		const [spool] = spoolFiles(run.suiteDir);
		const upload = await runCli(['upload', '--url', server.url, spool!], run.project, { FLACKYNESS_TOKEN: project.token });
		expect(upload.code).toBe(0);
		await expectStoredAsReported(project, run);
	});
});
