/**
 * `flackyness-reporter upload` of the spool a real run left when its server was gone: which server
 * it goes to (`--url`, then FLACKYNESS_URL, then the URL the spool recorded), what becomes of the
 * file once the server stored it, and what a second upload says.
 */
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, runPlaywright, spoolFiles, type PlaywrightRun } from '../helpers/playwright.js';
import { startRealServer, type Project, type RealServer } from './helpers/server.js';
import { resultCount, storedRuns } from './helpers/stored.js';

let server: RealServer;
/** A loopback port nobody listens on: the server the run was meant for, gone. */
let deadUrl: string;
let run: PlaywrightRun;
/** The spool the run left, kept aside: each test uploads a copy of its own. */
let original: string;
/** The file the outputFile option asked for. */
let outputFile: string;

async function freePort(): Promise<number> {
	const probe = createServer();
	await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
	const { port } = probe.address() as { port: number };
	await new Promise((resolve) => probe.close(resolve));
	return port;
}

beforeAll(async () => {
	server = await startRealServer();
	deadUrl = `http://127.0.0.1:${await freePort()}`;
	run = await runPlaywright('passing', {
		FLACKYNESS_URL: deadUrl,
		FLACKYNESS_TOKEN: 'flk_p_never-reaches-a-server',
		FLACKYNESS_UPLOAD_DEADLINE_MS: '2000',
		FLACKYNESS_OUTPUT_FILE: 'recorded/run.json'
	});
	const spools = spoolFiles(run.suiteDir);
	expect(spools, run.lines.join('\n')).toHaveLength(1);
	original = path.join(mkdtempSync(path.join(os.tmpdir(), 'flackyness-spool-kept-')), path.basename(spools[0]!));
	copyFileSync(spools[0]!, original);
	outputFile = path.join(run.suiteDir, 'recorded/run.json');
}, 300_000);
afterAll(async () => {
	await server?.destroy();
});

/** A fresh copy of the spool in a directory of its own, as a CI artifact holds it. */
function spoolCopy(edit?: (json: Record<string, unknown>) => void): string {
	const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'flackyness-spool-')), path.basename(original));
	const json = JSON.parse(readFileSync(original, 'utf8')) as Record<string, unknown>;
	edit?.(json);
	writeFileSync(file, JSON.stringify(json));
	return file;
}

/** Tests in the run, each one result in the spool. */
function total(): number {
	const { expected, unexpected, flaky, skipped } = run.report.stats;
	return expected + unexpected + flaky + skipped;
}

async function expectStored(project: Project): Promise<void> {
	const runs = await storedRuns(server, project);
	expect(runs).toHaveLength(1);
	const { expected, unexpected, flaky, skipped } = run.report.stats;
	expect(runs[0]).toMatchObject({ total: total(), expected, unexpected, flaky, skipped });
	expect(await resultCount(server, project)).toBe(runs[0]!.total);
}

describe('flackyness-reporter upload', { timeout: 120_000 }, () => {
	it('the spool records the dead server, never the token', () => {
		const text = readFileSync(original, 'utf8');
		expect(JSON.parse(text)).toMatchObject({ url: deadUrl });
		expect(text).not.toContain('flk_p_never-reaches-a-server');
	});

	it('FLACKYNESS_URL wins over the spool’s URL; the stored spool is renamed .sent, and a second upload says so', async () => {
		const project = await server.createProject('env-url');
		const spool = spoolCopy();
		const env = { FLACKYNESS_URL: server.url, FLACKYNESS_TOKEN: project.token };
		const upload = await runCli(['upload', spool], run.project, env);
		expect(upload.code, upload.stderr).toBe(0);
		const runId = (await storedRuns(server, project))[0]?.id;
		expect(upload.lines).toEqual([`[flackyness] ${spool}: ${total()} results replayed · ${server.url}/runs/${runId}; renamed to ${spool}.sent`]);
		await expectStored(project);
		expect(readdirSync(path.dirname(spool))).toEqual([`${path.basename(spool)}.sent`]);

		// `upload flackyness-spool/*.json` again, or the same command from the shell history.
		const again = await runCli(['upload', spool], run.project, env);
		expect(again.code).toBe(0);
		expect(again.lines).toEqual([`[flackyness] ${spool}: already sent (renamed to ${spool}.sent); upload that file to send it again`]);
		// The .sent file itself sends again harmlessly, and keeps its name.
		const resent = await runCli(['upload', `${spool}.sent`], run.project, env);
		expect(resent.code, resent.stderr).toBe(0);
		expect(resent.lines).toEqual([`[flackyness] ${spool}.sent: ${total()} results replayed · ${server.url}/runs/${runId}`]);
		expect(readdirSync(path.dirname(spool))).toEqual([`${path.basename(spool)}.sent`]);
		await expectStored(project);
		for (const out of [upload, again, resent]) expect(out.stdout + out.stderr).not.toContain(project.token);
	});

	it('--url wins over FLACKYNESS_URL', async () => {
		const project = await server.createProject('flag-url');
		const spool = spoolCopy();
		const upload = await runCli(['upload', '--url', `${server.url}/`, spool], run.project, { FLACKYNESS_URL: deadUrl, FLACKYNESS_TOKEN: project.token });
		expect(upload.code, upload.stderr).toBe(0);
		expect(upload.lines[0]).toContain(`results replayed · ${server.url}/runs/`);
		await expectStored(project);
	});

	it('without either, the spool’s URL: a dead one fails saying where it came from and how to change it, and the file stays', async () => {
		const project = await server.createProject('spool-url');
		const dead = spoolCopy();
		const failed = await runCli(['upload', dead], run.project, { FLACKYNESS_TOKEN: project.token, FLACKYNESS_UPLOAD_DEADLINE_MS: '3000' });
		expect(failed.code).toBe(1);
		expect(failed.lines).toEqual([
			`[flackyness] ${dead}: not uploaded to ${deadUrl} (recorded in the spool file; set FLACKYNESS_URL or pass --url to send it elsewhere): connection refused`
		]);
		expect(existsSync(dead)).toBe(true);
		expect(await storedRuns(server, project)).toEqual([]);

		const alive = spoolCopy((json) => (json.url = server.url));
		const upload = await runCli(['upload', alive], run.project, { FLACKYNESS_TOKEN: project.token });
		expect(upload.code, upload.stderr).toBe(0);
		expect(upload.lines[0]).toContain(`results replayed · ${server.url}/runs/`);
		await expectStored(project);
	});

	it('a URL given but not valid is refused, not replaced by the spool’s', async () => {
		const project = await server.createProject('bad-url');
		const spool = spoolCopy((json) => (json.url = server.url));
		const badEnv = await runCli(['upload', spool], run.project, { FLACKYNESS_URL: 'localhost:3000', FLACKYNESS_TOKEN: project.token });
		expect(badEnv.code).toBe(2);
		expect(badEnv.lines).toEqual(['[flackyness] invalid FLACKYNESS_URL ("localhost:3000"): expected an http(s) URL']);
		const badFlag = await runCli(['upload', '--url', 'ftp://example.com', spool], run.project, { FLACKYNESS_URL: server.url, FLACKYNESS_TOKEN: project.token });
		expect(badFlag.code).toBe(2);
		expect(badFlag.lines).toEqual(['[flackyness] invalid --url ("ftp://example.com"): expected an http(s) URL']);
		expect(existsSync(spool)).toBe(true);
		expect(await storedRuns(server, project)).toEqual([]);
	});

	it('the file written by the outputFile option is uploaded and left as it is', async () => {
		const project = await server.createProject('output-file');
		const upload = await runCli(['upload', outputFile], run.project, { FLACKYNESS_URL: server.url, FLACKYNESS_TOKEN: project.token });
		expect(upload.code, upload.stderr).toBe(0);
		expect(upload.lines).toEqual([expect.stringMatching(/results replayed · http:\/\/127\.0\.0\.1:\d+\/runs\/[\w-]+$/)]);
		expect(existsSync(outputFile)).toBe(true);
		await expectStored(project);
	});
});
