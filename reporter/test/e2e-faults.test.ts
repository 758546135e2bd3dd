/**
 * The real `playwright test` against a server that is down, failing, hanging or refusing: the
 * passing suite must still exit 0, the data must land in a spool file, and the CLI must send it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { closedPortUrl, startFakeServer, storedResults, type Fault, type FakeServer } from './helpers/fake-server.js';
import { fromJsonReport, fromReceived } from './helpers/json-report.js';
import { runCli, runPlaywright, spoolFiles } from './helpers/playwright.js';

const servers: FakeServer[] = [];
afterEach(async () => {
	await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(fault?: Fault): Promise<FakeServer> {
	const s = await startFakeServer(fault);
	servers.push(s);
	return s;
}

/** Short timeouts, so that faults cost seconds, not minutes. */
const fast = { FLACKYNESS_TOKEN: 'test-token', FLACKYNESS_REQUEST_TIMEOUT_MS: '1000', FLACKYNESS_UPLOAD_DEADLINE_MS: '3000' };

describe('a server that cannot take the results', () => {
	it('server down: exit code unchanged, data spooled, and the CLI sends the spool later', async () => {
		const run = await runPlaywright('passing', { ...fast, FLACKYNESS_URL: await closedPortUrl() });
		expect(run.code).toBe(0);
		const [spool, ...more] = spoolFiles(run.suiteDir);
		expect(more).toEqual([]);
		expect(spool).toMatch(/flackyness-spool\/flackyness-.*\.json$/);
		expect(run.lines).toHaveLength(1);
		expect(run.lines[0]).toMatch(/· not uploaded: connection refused.*; saved to passing\/flackyness-spool\/flackyness-.*\.json, send it with: npx flackyness-reporter upload passing\/flackyness-spool\//);

		const server = await serve();
		const cli = await runCli(['upload', spool!], run.project, { FLACKYNESS_URL: server.url, FLACKYNESS_TOKEN: 'test-token' });
		expect(cli.code).toBe(0);
		expect(cli.lines).toEqual([`[flackyness] ${spool}: 8 results replayed · ${server.url}/runs/${[...server.runs.keys()][0]}; renamed to ${spool}.sent`]);
		expect(spoolFiles(run.suiteDir)).toEqual([`${spool}.sent`]);
		expect(fromReceived(storedResults(server))).toEqual(fromJsonReport(run.report));
		expect([...server.runs.values()][0]!.complete).toMatchObject({ status: 'passed', stats: { expected: 6, unexpected: 0, flaky: 1, skipped: 1 } });

		// Sending it again changes nothing: the run is found by its idempotency key.
		const again = await runCli(['upload', `${spool}.sent`], run.project, { FLACKYNESS_URL: server.url, FLACKYNESS_TOKEN: 'test-token' });
		expect(again.code).toBe(0);
		expect(server.runs.size).toBe(1);
		expect(storedResults(server)).toHaveLength(8);
	});

	it('HTTP 500 on everything: exit code unchanged, data spooled', async () => {
		const server = await serve(() => ({ status: 500 }));
		const run = await runPlaywright('passing', { ...fast, FLACKYNESS_URL: server.url });
		expect(run.code).toBe(0);
		expect(run.lines[0]).toContain('not uploaded: server error (HTTP 500: injected)');
		expect(spoolFiles(run.suiteDir)).toHaveLength(1);
	});

	it('a hanging server holds the run no longer than the deadline allows', async () => {
		const server = await serve(() => 'hang');
		const run = await runPlaywright('passing', { ...fast, FLACKYNESS_URL: server.url });
		expect(run.code).toBe(0);
		expect(run.lines[0]).toMatch(/not uploaded: (no response in time; gave up at the upload deadline|no answer before the upload deadline)/);
		expect(spoolFiles(run.suiteDir)).toHaveLength(1);
		// The suite alone takes a few seconds; the deadline adds 3 s. Generous bound.
		expect(run.ms).toBeLessThan(60_000);
	});

	it('a rejected token: exit code unchanged by default, failed with FLACKYNESS_FAIL_ON_UPLOAD_ERROR', async () => {
		const server = await serve();
		const env = { ...fast, FLACKYNESS_URL: server.url, FLACKYNESS_TOKEN: 'wrong-token' };
		const run = await runPlaywright('passing', env);
		expect(run.code).toBe(0);
		expect(run.lines[0]).toContain('not uploaded: token rejected (HTTP 401: invalid token)');
		expect(`${run.stdout}${run.stderr}`).not.toContain('wrong-token');

		const strict = await runPlaywright('passing', { ...env, FLACKYNESS_FAIL_ON_UPLOAD_ERROR: 'true' });
		expect(strict.code).toBe(1);
		expect(strict.lines[0]).toContain('failing the run (failOnUploadError)');
	});

	it('a host that does not resolve: exit code unchanged', async () => {
		const run = await runPlaywright('passing', { ...fast, FLACKYNESS_URL: 'http://flackyness.invalid' });
		expect(run.code).toBe(0);
		expect(run.lines[0]).toMatch(/not uploaded: host not found \(DNS/);
	});

	it('429 with Retry-After and dropped connections: retried, nothing lost, nothing twice', async () => {
		const server = await serve((req, i) => {
			if (i === 0 || i === 2) return { status: 429, headers: { 'retry-after': '1' } };
			if (i === 4 && req.url.endsWith('/results')) return 'destroy';
			return undefined;
		});
		const run = await runPlaywright('passing', { ...fast, FLACKYNESS_URL: server.url, FLACKYNESS_BATCH_SIZE: '2', FLACKYNESS_UPLOAD_DEADLINE_MS: '20000' });
		expect(run.code).toBe(0);
		expect(server.runs.size).toBe(1);
		expect(fromReceived(storedResults(server))).toEqual(fromJsonReport(run.report));
		expect(spoolFiles(run.suiteDir)).toEqual([]);
		expect(run.lines[0]).toContain(`${server.url}/runs/`);
	});
});
