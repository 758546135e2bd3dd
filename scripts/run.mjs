#!/usr/bin/env node
// The README's two commands: `npm start` (install, build, start) and `npm test` (install, lint,
// type checks, the whole test suite). Only Node.js and npm are assumed: pnpm comes through npx.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const PNPM_VERSION = '10.34.9';
const root = fileURLToPath(new URL('..', import.meta.url));
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
	console.error(`Flackyness needs Node.js >= 20.19; this is ${process.version}.`);
	process.exit(1);
}

function pnpmCommand() {
	const probe = spawnSync('pnpm', ['--version'], { encoding: 'utf8', shell: process.platform === 'win32' });
	if (probe.status === 0 && probe.stdout.trim().startsWith('10.')) return ['pnpm'];
	return ['npx', '-y', `pnpm@${PNPM_VERSION}`];
}
const pnpm = pnpmCommand();

function run(args, { allowFailure = false } = {}) {
	const [cmd, ...rest] = [...pnpm, ...args];
	console.log(`\n> pnpm ${args.join(' ')}`);
	const res = spawnSync(cmd, rest, { stdio: 'inherit', cwd: root, shell: process.platform === 'win32' });
	if (res.status !== 0 && !allowFailure) process.exit(res.status ?? 1);
	return res.status ?? 1;
}

/** One closing line in the plain form CI reads: "tests: N passed, N failed". */
function summarise(status) {
	const file = `${root}/test-results/vitest.json`;
	if (!existsSync(file)) return;
	const r = JSON.parse(readFileSync(file, 'utf8'));
	// A file that fails to load has no failed test but must still count.
	const failed = r.numFailedTests || r.numFailedTestSuites || 0;
	console.log(`\ntests: ${r.numPassedTests} passed, ${failed} failed${r.numPendingTests ? `, ${r.numPendingTests} skipped` : ''}`);
	if (status === 0 && failed > 0) process.exit(1);
}

const task = process.argv[2];
run(['install', ...(existsSync(`${root}/pnpm-lock.yaml`) ? ['--frozen-lockfile'] : [])]);

if (task === 'start') {
	run(['build']);
	const child = spawn(process.execPath, ['server/dist/server.js'], { stdio: 'inherit', cwd: root });
	for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
	child.on('exit', (code) => process.exit(code ?? 0));
} else if (task === 'test') {
	run(['build']);
	run(['lint']);
	run(['typecheck']);
	const status = run(['vitest'], { allowFailure: true });
	summarise(status);
	process.exit(status);
} else {
	console.error('usage: node scripts/run.mjs start|test');
	process.exit(2);
}
