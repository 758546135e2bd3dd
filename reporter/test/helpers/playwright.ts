/**
 * Runs the real `playwright test` on a fixture suite, in a throwaway project that has
 * flackyness-reporter in its node_modules (a link to this package), as a user's project would.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JSONReport } from '@playwright/test/reporter';

export const PACKAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FIXTURES = path.join(PACKAGE_DIR, 'test/fixtures');
export const PLAYWRIGHT = path.join(PACKAGE_DIR, 'node_modules/.bin/playwright');
export const CLI = path.join(PACKAGE_DIR, 'dist/cli.js');

export type Suite = 'basic' | 'passing' | 'many' | 'quarantined' | 'edge' | 'gated' | 'odd-text' | 'fail-on' | 'artifacts' | 'burn-in' | 'owners';

/** A new project with every fixture suite and the package installed (linked). */
export function makeProject(): string {
	const dir = mkdtempSync(path.join(os.tmpdir(), 'flackyness-e2e-'));
	cpSync(FIXTURES, dir, { recursive: true });
	writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'fixture-project', private: true }));
	mkdirSync(path.join(dir, 'node_modules/@playwright'), { recursive: true });
	symlinkSync(PACKAGE_DIR, path.join(dir, 'node_modules/flackyness-reporter'), 'dir');
	symlinkSync(path.join(PACKAGE_DIR, 'node_modules/@playwright/test'), path.join(dir, 'node_modules/@playwright/test'), 'dir');
	return dir;
}

/** The environment of the test process without anything CI, Playwright or Flackyness related. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
	const env: Record<string, string> = {};
	for (const [k, v] of Object.entries(process.env)) {
		if (v === undefined || /^(CI|CI_.*|GITLAB_.*|GITHUB_.*|FLACKYNESS_.*|DEBUG|PLAYWRIGHT_.*|PW_.*|FORCE_COLOR|NO_COLOR|VITEST.*|NODE_OPTIONS)$/.test(k)) continue;
		env[k] = v;
	}
	for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
	return env;
}

export interface Exit {
	code: number | null;
	stdout: string;
	stderr: string;
	ms: number;
}

export function run(command: string, args: string[], cwd: string, env: Record<string, string>, timeoutMs = 120_000): Promise<Exit> {
	return new Promise((resolve, reject) => {
		const started = Date.now();
		const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
		child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
		const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
		child.on('error', reject);
		child.on('close', (code) => {
			clearTimeout(timer);
			resolve({ code, stdout, stderr, ms: Date.now() - started });
		});
	});
}

export interface PlaywrightRun extends Exit {
	project: string;
	suiteDir: string;
	report: JSONReport;
	/** The `[flackyness] …` lines. */
	lines: string[];
}

export async function runPlaywright(suite: Suite, env: Record<string, string | undefined>, args: string[] = [], project = makeProject()): Promise<PlaywrightRun> {
	const suiteDir = path.join(project, suite);
	const exit = await run(PLAYWRIGHT, ['test', '-c', path.join(suite, 'playwright.config.ts'), ...args], project, cleanEnv(env));
	const reportFile = path.join(suiteDir, 'report.json');
	if (!existsSync(reportFile)) throw new Error(`no JSON report (exit ${exit.code}):\n${exit.stdout}\n${exit.stderr}`);
	const report = JSON.parse(readFileSync(reportFile, 'utf8')) as JSONReport;
	const lines = `${exit.stdout}\n${exit.stderr}`.split('\n').filter((l) => l.startsWith('[flackyness]'));
	return { ...exit, project, suiteDir, report, lines };
}

export async function runCli(args: string[], cwd: string, env: Record<string, string | undefined>): Promise<Exit & { lines: string[] }> {
	const exit = await run(process.execPath, [CLI, ...args], cwd, cleanEnv(env));
	return { ...exit, lines: `${exit.stdout}\n${exit.stderr}`.split('\n').filter((l) => l.startsWith('[flackyness]')) };
}

export function spoolFiles(suiteDir: string): string[] {
	const dir = path.join(suiteDir, 'flackyness-spool');
	return existsSync(dir) ? readdirSync(dir).map((f) => path.join(dir, f)) : [];
}

/** The GitLab variables of job `index` of a `parallel: total` job named "e2e" in `pipeline`. */
export function gitlabParallelJob(pipeline: Record<string, string>, index: number, total: number, firstJobId: number): Record<string, string> {
	return {
		...pipeline,
		CI_JOB_NAME: `e2e ${index}/${total}`,
		CI_JOB_ID: String(firstJobId + index),
		CI_NODE_INDEX: String(index),
		CI_NODE_TOTAL: String(total)
	};
}

/**
 * The `basic` suite as `--shard=i/total` jobs run it on separate CI machines: each writes its blob
 * report to a directory of its own (the blob reporter empties its directory first); the blobs are
 * then gathered in `blobDir` for `merge-reports`.
 */
export async function runShards(
	project: string,
	total: number,
	env: (index: number) => Record<string, string | undefined>
): Promise<{ shards: PlaywrightRun[]; blobDir: string }> {
	const blobDir = path.join(project, 'blobs');
	const shards: PlaywrightRun[] = [];
	for (let index = 1; index <= total; index++) {
		const blob = { FIXTURE_BLOB_DIR: `${blobDir}-${index}`, FIXTURE_BLOB_NAME: `shard-${index}.zip` };
		shards.push(await runPlaywright('basic', { ...env(index), ...blob }, [`--shard=${index}/${total}`], project));
	}
	mkdirSync(blobDir);
	for (let index = 1; index <= total; index++) {
		cpSync(path.join(`${blobDir}-${index}`, `shard-${index}.zip`), path.join(blobDir, `shard-${index}.zip`));
	}
	return { shards, blobDir };
}

/** `playwright merge-reports` of a blob directory, with flackyness-reporter and the JSON reporter. */
export function mergeReports(project: string, blobDir: string, env: Record<string, string | undefined>): Promise<Exit> {
	return run(PLAYWRIGHT, ['merge-reports', '--reporter', 'flackyness-reporter,json', blobDir], project, cleanEnv(env));
}
