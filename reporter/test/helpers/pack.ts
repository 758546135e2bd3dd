/**
 * The reporter packed as it would be published, by npm or by pnpm, and what a packed manifest holds.
 * Packing never runs the `prepack` build: the end-to-end setup has built dist/ already, and
 * building again would pull it from under tests running beside this one.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_DIR } from './playwright.js';

export type PackTool = 'npm' | 'pnpm';

/** The dependency fields a package manager reads from an installed package's manifest. */
export const INSTALLED_DEPENDENCY_FIELDS = ['dependencies', 'peerDependencies', 'optionalDependencies'] as const;

export interface Manifest {
	name: string;
	version: string;
	private?: boolean;
	dependencies?: Record<string, string>;
	peerDependencies?: Record<string, string>;
	optionalDependencies?: Record<string, string>;
	devDependencies?: Record<string, string>;
}

/** `pnpm@…` of the root package.json's `packageManager`, for machines without a global pnpm. */
function pnpmCommand(): string[] {
	try {
		execFileSync('pnpm', ['--version'], { stdio: 'ignore' });
		return ['pnpm'];
	} catch {
		const root = JSON.parse(readFileSync(path.resolve(PACKAGE_DIR, '../package.json'), 'utf8')) as { packageManager: string };
		return ['npx', '-y', root.packageManager];
	}
}

/** Packs the reporter into `dest` (created) with `tool`; returns the tarball's path. */
export function packReporter(tool: PackTool, dest: string): string {
	mkdirSync(dest, { recursive: true });
	const [command, ...args] = tool === 'npm' ? ['npm', '--ignore-scripts'] : pnpmCommand();
	execFileSync(command!, [...args, 'pack', '--pack-destination', dest], {
		cwd: PACKAGE_DIR,
		env: { ...process.env, npm_config_ignore_scripts: 'true' },
		stdio: 'pipe'
	});
	const tarballs = readdirSync(dest).filter((f) => f.endsWith('.tgz'));
	if (tarballs.length !== 1) throw new Error(`${tool} pack left ${tarballs.length} tarballs in ${dest}`);
	return path.join(dest, tarballs[0]!);
}

/** The package.json inside a packed tarball. */
export function packedManifest(tarball: string): Manifest {
	return JSON.parse(execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' })) as Manifest;
}

/**
 * `field.name: spec` for every dependency an installing package manager would have to resolve
 * whose spec only means something inside a pnpm workspace (`catalog:`, `workspace:`).
 */
export function workspaceOnlySpecs(manifest: Manifest): string[] {
	return INSTALLED_DEPENDENCY_FIELDS.flatMap((field) =>
		Object.entries(manifest[field] ?? {})
			.filter(([, spec]) => /^(catalog|workspace):/.test(spec))
			.map(([name, spec]) => `${field}.${name}: ${spec}`)
	);
}
