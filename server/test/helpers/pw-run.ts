/**
 * Runs the real Playwright runner on a fixture suite under `test/fixtures/pw-suites/` and returns
 * the JSON report it wrote. Tests use it to compare the parser with Playwright's own semantics.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const serverDir = fileURLToPath(new URL('../..', import.meta.url));
const playwrightBin = path.join(serverDir, 'node_modules', '.bin', 'playwright');
export const pwSuitesDir = path.join(serverDir, 'test', 'fixtures', 'pw-suites');

export interface PwRunOptions {
	/** Config file relative to `pw-suites/`, e.g. `semantics/playwright.config.ts`. */
	config: string;
	/** Extra command-line arguments (`--shard=1/2`, `--project=beta`, …). */
	args?: string[];
	/** Directory for the report and the runner's artifacts; created when missing. */
	outDir: string;
	/** File name of the report inside `outDir`. */
	name: string;
	/**
	 * Adds `--reporter=json` (default). Off for configs that declare the JSON reporter themselves,
	 * with options the command line cannot give.
	 */
	jsonReporterFlag?: boolean;
	/**
	 * Sends SIGINT, as Ctrl+C or a cancelled CI job would, once a test has created the marker
	 * file named by PW_FIXTURE_MARKER.
	 */
	interruptOnMarker?: boolean;
}

export interface PwRun {
	report: unknown;
	reportFile: string;
	exitCode: number | null;
	output: string;
}

// Generous: on a busy 2-core CI machine a small suite has taken over 90 s to start and run.
const RUN_TIMEOUT_MS = 180_000;

export async function runPlaywrightJson(options: PwRunOptions): Promise<PwRun> {
	await mkdir(options.outDir, { recursive: true });
	const reportFile = path.join(options.outDir, `${options.name}.json`);
	const marker = path.join(options.outDir, `${options.name}.started`);
	const args = ['test', '--config', path.join(pwSuitesDir, options.config)];
	if (options.jsonReporterFlag !== false) args.push('--reporter=json');
	args.push(...(options.args ?? []));

	const child = spawn(playwrightBin, args, {
		cwd: serverDir,
		env: {
			...inheritedEnv(),
			PLAYWRIGHT_JSON_OUTPUT_FILE: reportFile,
			PW_FIXTURE_OUTPUT_DIR: path.join(options.outDir, `${options.name}-artifacts`),
			PW_FIXTURE_MARKER: marker
		},
		stdio: ['ignore', 'pipe', 'pipe']
	});
	let output = '';
	child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
	child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));

	const poll = options.interruptOnMarker
		? setInterval(() => {
				if (existsSync(marker) && child.exitCode === null) {
					clearInterval(poll);
					child.kill('SIGINT');
				}
			}, 100)
		: undefined;
	const killer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
	const exitCode = await new Promise<number | null>((resolve, reject) => {
		child.on('error', reject);
		child.on('close', (code) => resolve(code));
	}).finally(() => {
		clearTimeout(killer);
		if (poll) clearInterval(poll);
	});

	let text: string;
	try {
		text = await readFile(reportFile, 'utf8');
	} catch {
		throw new Error(`Playwright wrote no report (exit ${exitCode}):\n${output}`);
	}
	return { report: JSON.parse(text) as unknown, reportFile, exitCode, output };
}

/** The parent's environment minus what would change how Playwright runs or reports. */
function inheritedEnv(): NodeJS.ProcessEnv {
	const env: NodeJS.ProcessEnv = {};
	for (const [key, value] of Object.entries(process.env)) {
		if (/^(?:PLAYWRIGHT_|PW_|VITEST)/.test(key) || key === 'CI' || key === 'FORCE_COLOR') continue;
		env[key] = value;
	}
	return env;
}
