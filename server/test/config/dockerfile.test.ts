import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../../', import.meta.url);
const read = (name: string) => readFileSync(new URL(name, root), 'utf8');

/** The workspace packages pnpm-workspace.yaml lists (`  - name` lines under `packages:`). */
function workspacePackages(yaml: string): string[] {
	const block = /^packages:\n((?:[ \t]+-[^\n]*\n)+)/m.exec(yaml);
	if (!block) throw new Error('pnpm-workspace.yaml has no packages list');
	return block[1]!
		.split('\n')
		.map((line) => line.replace(/^\s*-\s*/, '').replace(/['"]/g, '').trim())
		.filter(Boolean);
}

describe('Dockerfile', () => {
	const dockerfile = read('Dockerfile');
	const packages = workspacePackages(read('pnpm-workspace.yaml'));

	it('copies every workspace package, manifest first, so the frozen install and the build see the whole lockfile', () => {
		expect(packages.length).toBeGreaterThanOrEqual(4);
		for (const pkg of packages) {
			expect(dockerfile, `COPY ${pkg}/package.json`).toContain(`COPY ${pkg}/package.json ${pkg}/\n`);
			expect(dockerfile, `COPY ${pkg}`).toContain(`COPY ${pkg} ${pkg}\n`);
			expect(dockerfile.indexOf(`COPY ${pkg}/package.json`)).toBeLessThan(dockerfile.indexOf('RUN pnpm install --frozen-lockfile'));
		}
	});
});
