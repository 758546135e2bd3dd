/** The package as users get it: resolvable the way Playwright resolves reporters, and packed clean. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { workspaceOnlySpecs, type Manifest } from './helpers/pack.js';
import { makeProject, PACKAGE_DIR } from './helpers/playwright.js';

const WORKSPACE_ROOT = path.resolve(PACKAGE_DIR, '..');

function readManifest(dir: string): Manifest {
	return JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as Manifest;
}

/** The workspace's packages (pnpm-workspace.yaml's `packages:` list) and pnpm's catalog, read as the simple YAML they are. */
function workspace(): { packages: string[]; catalog: Record<string, string> } {
	const yaml = readFileSync(path.join(WORKSPACE_ROOT, 'pnpm-workspace.yaml'), 'utf8');
	const section = (name: string) => [...yaml.matchAll(/^(\w+):\n((?:[ \t]+.*\n?)*)/gm)].find((m) => m[1] === name)?.[2] ?? '';
	const packages = [...section('packages').matchAll(/^\s+-\s+(\S+)/gm)].map((m) => m[1]!);
	const catalog = Object.fromEntries([...section('catalog').matchAll(/^\s+"?([^":\s]+)"?:\s*(\S+)/gm)].map((m) => [m[1]!, m[2]!]));
	return { packages, catalog };
}

describe('package', () => {
	it('resolves with require.resolve from a user’s config directory (no "require" condition needed) to a default-exported class', async () => {
		const project = makeProject();
		// What Playwright does with `reporter: [['flackyness-reporter']]`.
		const resolved = createRequire(path.join(project, 'basic', 'playwright.config.ts')).resolve('flackyness-reporter', { paths: [path.join(project, 'basic')] });
		expect(resolved).toBe(path.join(PACKAGE_DIR, 'dist/index.js'));
		const mod = (await import(pathToFileURL(resolved).href)) as { default: new (options?: object) => { printsToStdio(): boolean } };
		expect(typeof mod.default).toBe('function');
		expect(new mod.default({}).printsToStdio()).toBe(false);

		const protocol = createRequire(path.join(project, 'x.js')).resolve('flackyness-reporter/protocol');
		expect(protocol).toBe(path.join(PACKAGE_DIR, 'dist/protocol.js'));
	});

	it('packs only the built code, its types, the README and package.json', () => {
		const [pack] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: PACKAGE_DIR, encoding: 'utf8' })) as {
			files: { path: string }[];
			size: number;
		}[];
		const files = pack!.files.map((f) => f.path).sort();
		expect(files).toContain('dist/index.js');
		expect(files).toContain('dist/index.d.ts');
		expect(files).toContain('dist/protocol.js');
		expect(files).toContain('dist/cli.js');
		expect(files).toContain('README.md');
		expect(files).toContain('package.json');
		expect(files.filter((f) => !/^dist\/[\w-]+\.(js|d\.ts)$/.test(f))).toEqual(['README.md', 'package.json']);
		expect(files.some((f) => f.includes('.test.'))).toBe(false);
		expect(pack!.size).toBeLessThan(100_000);
	});

	it('loads undici only when it has something to send', () => {
		const script = `
			import { createRequire } from 'node:module';
			const require = createRequire(process.argv[1]);
			const undiciLoaded = () => Object.keys(require.cache).some((file) => file.includes('/undici/'));
			const { default: Reporter } = await import(process.argv[2]);
			const quiet = new Reporter({ disabled: true });
			quiet.onBegin({ rootDir: '/tmp', configFile: '/tmp/playwright.config.ts', version: '1.65.1', shard: null }, { allTests: () => [] });
			const before = undiciLoaded();
			const { default: HttpClient } = await import(process.argv[3]);
			new HttpClient({ baseUrl: 'http://127.0.0.1:9', requestTimeoutMs: 1000 });
			console.log(JSON.stringify({ before, after: undiciLoaded() }));`;
		const out = execFileSync(
			process.execPath,
			['--input-type=module', '-e', script, path.join(PACKAGE_DIR, 'package.json'), path.join(PACKAGE_DIR, 'dist/index.js'), path.join(PACKAGE_DIR, 'dist/http-client.js')],
			{ encoding: 'utf8' }
		);
		expect(JSON.parse(out)).toEqual({ before: false, after: true });
	});

	it('publishes concrete version ranges only: no pnpm `catalog:` or `workspace:` spec that npm cannot install', () => {
		const { packages, catalog } = workspace();
		expect(packages).toContain('reporter');
		expect(catalog.zod).toMatch(/^[\^~]?\d/);
		const publishable = packages.map((dir) => ({ dir, manifest: readManifest(path.join(WORKSPACE_ROOT, dir)) })).filter((p) => !p.manifest.private);
		expect(publishable.map((p) => p.manifest.name)).toContain('flackyness-reporter');
		for (const { dir, manifest } of publishable) {
			expect(workspaceOnlySpecs(manifest), `${dir}/package.json`).toEqual([]);
			// The same range as the workspace's catalog, so that the workspace still resolves one copy (one zod for reporter and server).
			for (const [name, range] of Object.entries(manifest.dependencies ?? {})) {
				if (name in catalog) expect(range, `${dir}/package.json dependencies.${name}`).toBe(catalog[name]);
			}
		}
	});

	it('is installed, in every setup text, from npm and until it is published there from the tarball `npm pack` makes of this version', () => {
		const { version } = readManifest(PACKAGE_DIR);
		for (const doc of ['README.md', 'reporter/README.md', 'examples/README.md', 'dashboard/src/lib/components/SetupInstructions.svelte']) {
			const text = readFileSync(path.join(WORKSPACE_ROOT, doc), 'utf8');
			// The example's package.json names it already: its README says `npm install`.
			if (doc.startsWith('examples/')) expect(readManifest(path.join(WORKSPACE_ROOT, 'examples')).devDependencies?.['flackyness-reporter']).toBe(`^${version}`);
			else expect(text, doc).toMatch(/npm install (-D|--save-dev) flackyness-reporter\b/);
			expect(text, doc).toMatch(new RegExp(`npm install (-D|--save-dev) \\./vendor/flackyness-reporter-${version.replace(/\./g, '\\.')}\\.tgz`));
		}
	});

	it('declares its command, engines and exports', () => {
		const pkg = JSON.parse(readFileSync(path.join(PACKAGE_DIR, 'package.json'), 'utf8')) as Record<string, unknown>;
		expect(pkg.bin).toEqual({ 'flackyness-reporter': 'dist/cli.js' });
		expect(pkg.engines).toEqual({ node: '>=20.19' });
		expect(readFileSync(path.join(PACKAGE_DIR, 'dist/cli.js'), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
	});
});
