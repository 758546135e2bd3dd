/**
 * The reporter as a user installs it: packed by npm (which leaves pnpm's `catalog:` specs as they
 * are) and by pnpm (which rewrites them), the npm tarball installed with plain `npm install` into a
 * new Playwright project outside the workspace, then `npx playwright test` against the real
 * server, which stores the run.
 */
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INSTALLED_DEPENDENCY_FIELDS, packedManifest, packReporter, workspaceOnlySpecs, type Manifest } from '../helpers/pack.js';
import { PACKAGE_DIR, cleanEnv, run } from '../helpers/playwright.js';
import { startRealServer, type Project, type RealServer } from './helpers/server.js';
import { storedResults, storedRuns } from './helpers/stored.js';

const WORKSPACE_ROOT = path.resolve(PACKAGE_DIR, '..');
const PLAYWRIGHT_VERSION = (JSON.parse(readFileSync(path.join(PACKAGE_DIR, 'node_modules/@playwright/test/package.json'), 'utf8')) as Manifest).version;

/** A suite that needs no browser: two passes, one flaky test (fails its first attempt), one failure, one skip. */
const CONFIG = `import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: 'tests',
  retries: 1,
  workers: 1,
  reporter: [['list'], ['flackyness-reporter']],
});
`;
const SPEC = `import { expect, test } from '@playwright/test';

test.describe('cart', () => {
  test('adds an item', () => expect(1 + 1).toBe(2));
  test('removes an item @smoke', () => expect([1, 2].filter((n) => n !== 2)).toEqual([1]));
  test('applies a coupon', () => expect(test.info().retry, 'coupon service warming up').toBe(1));
  test('computes the tax', () => expect(0.1 + 0.2, 'tax rounding').toBe(0.3));
  test.skip('ships abroad', () => {});
});
`;

let server: RealServer;
let project: Project;
let dir: string;
beforeAll(async () => {
	server = await startRealServer();
	project = await server.createProject('installed');
	dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'flackyness-npm-install-')));
}, 120_000);
afterAll(async () => {
	if (dir) rmSync(dir, { recursive: true, force: true });
	await server?.destroy();
});

/** The folders above `dir` that hold a node_modules, where Node would find packages npm did not install. */
function nodeModulesAbove(from: string): string[] {
	const found: string[] = [];
	for (let d = path.dirname(from); ; d = path.dirname(d)) {
		if (existsSync(path.join(d, 'node_modules'))) found.push(d);
		if (d === path.dirname(d)) return found;
	}
}

/** Plain npm, from the registry (the local cache first), without audit or funding requests. */
function npm(args: string[], cwd: string, timeoutMs = 240_000) {
	return run('npm', [...args, '--prefer-offline', '--no-audit', '--no-fund'], cwd, cleanEnv(), timeoutMs);
}

describe('installed with plain npm from a packed tarball', { timeout: 420_000 }, () => {
	let tarball: string;

	it('npm and pnpm pack the same concrete dependencies', () => {
		tarball = packReporter('npm', path.join(dir, 'npm-pack'));
		const byNpm = packedManifest(tarball);
		const byPnpm = packedManifest(packReporter('pnpm', path.join(dir, 'pnpm-pack')));
		expect(path.basename(tarball)).toBe(`flackyness-reporter-${byNpm.version}.tgz`);
		for (const manifest of [byNpm, byPnpm]) {
			expect(workspaceOnlySpecs(manifest)).toEqual([]);
			expect(manifest.dependencies).toMatchObject({ zod: expect.stringMatching(/^\^\d/), undici: expect.stringMatching(/^\^\d/) });
			expect(manifest.peerDependencies).toEqual({ '@playwright/test': '>=1.42' });
		}
		for (const field of INSTALLED_DEPENDENCY_FIELDS) expect(byPnpm[field], field).toEqual(byNpm[field]);
	});

	it('installs outside the workspace, and `npx playwright test` reports the run to the server', async () => {
		expect(tarball, 'packed by the previous test').toBeDefined();
		const app = path.join(dir, 'app');
		mkdirSync(path.join(app, 'tests'), { recursive: true });
		expect(path.relative(WORKSPACE_ROOT, app).startsWith('..')).toBe(true);
		expect(nodeModulesAbove(app), 'a node_modules above the project would hide what npm failed to install').toEqual([]);
		writeFileSync(path.join(app, 'package.json'), `${JSON.stringify({ name: 'shop', private: true, scripts: { test: 'playwright test' } }, null, 2)}\n`);
		writeFileSync(path.join(app, 'playwright.config.ts'), CONFIG);
		writeFileSync(path.join(app, 'tests/cart.spec.ts'), SPEC);

		// As the READMEs say: the tarball committed in the project, installed by its relative path.
		mkdirSync(path.join(app, 'vendor'));
		copyFileSync(tarball, path.join(app, 'vendor', path.basename(tarball)));
		// The npm tarball keeps the devDependencies' `catalog:` specs: npm never reads them from an installed package.
		const install = await npm(['install', '--save-dev', `./vendor/${path.basename(tarball)}`, `@playwright/test@${PLAYWRIGHT_VERSION}`], app);
		expect(install.code, `npm install failed (is the npm registry or its cache reachable?):\n${install.stdout}\n${install.stderr}`).toBe(0);
		// A real copy with its own dependencies, not a link into the workspace.
		const installed = path.join(app, 'node_modules/flackyness-reporter');
		expect(lstatSync(installed).isSymbolicLink()).toBe(false);
		for (const dep of ['zod', 'undici']) expect(existsSync(path.join(app, 'node_modules', dep, 'package.json')), dep).toBe(true);
		const pkg = JSON.parse(readFileSync(path.join(app, 'package.json'), 'utf8')) as Manifest;
		expect(pkg.devDependencies?.['flackyness-reporter']).toBe(`file:vendor/${path.basename(tarball)}`);

		const help = await run('npx', ['--offline', 'flackyness-reporter', '--help'], app, cleanEnv());
		expect(help.code, help.stderr).toBe(0);
		expect(help.stdout).toContain('Usage: flackyness-reporter upload');

		const pw = await run('npx', ['--offline', 'playwright', 'test'], app, cleanEnv({ FLACKYNESS_URL: server.url, FLACKYNESS_TOKEN: project.token }), 180_000);
		const output = `${pw.stdout}\n${pw.stderr}`;
		// The failing test fails the run, as without the reporter.
		expect(pw.code, output).toBe(1);
		const lines = output.split('\n').filter((l) => l.startsWith('[flackyness]'));
		const [run1] = await storedRuns(server, project);
		expect(run1, output).toBeDefined();
		expect(lines).toEqual([`[flackyness] 5 tests: 2 passed, 1 failed, 1 flaky, 1 skipped · ${server.url}/runs/${run1!.id}`]);

		expect(await storedRuns(server, project)).toHaveLength(1);
		expect(run1).toMatchObject({ source: 'reporter', status: 'failed', total: 5, expected: 2, unexpected: 1, flaky: 1, skipped: 1, playwright_version: PLAYWRIGHT_VERSION });
		const results = await storedResults(server, [run1!.id]);
		expect(results.map((r) => [r.file, r.titlePath.join(' › '), r.outcome, r.attempts])).toEqual([
			['cart.spec.ts', 'cart › adds an item', 'expected', 1],
			['cart.spec.ts', 'cart › applies a coupon', 'flaky', 2],
			['cart.spec.ts', 'cart › computes the tax', 'unexpected', 2],
			['cart.spec.ts', 'cart › removes an item @smoke', 'expected', 1],
			['cart.spec.ts', 'cart › ships abroad', 'skipped', 1]
		]);
		expect(results.find((r) => r.titlePath.at(-1) === 'computes the tax')?.errorMessage).toContain('tax rounding');
	});
});
