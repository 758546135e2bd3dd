/**
 * burn-in's selection against the real `playwright test --list`: the identities read from the list
 * are those the reporter sends, and the `--grep` built from some of them selects exactly those —
 * with tags on describe blocks and tests, anonymous describe blocks, tests declared in a loop, the
 * same title in two describe blocks, an unnamed project, and regular-expression characters in titles.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { JSONReport } from '@playwright/test/reporter';
import { describe, expect, it } from 'vitest';
import { grepFor, listedTests, type ListedTest } from '../src/burn-in.js';
import { cleanEnv, makeProject, PLAYWRIGHT, run } from './helpers/playwright.js';

const SPEC = `import { test } from '@playwright/test';
test.describe('cart', { tag: '@shop' }, () => {
	test.describe(() => {
		for (const n of [1, 2, 12]) test(\`item \${n}\`, { tag: '@fast' }, async () => {});
	});
	test('pays (card) [3x]?', async () => {});
});
test.describe('wishlist', () => {
	test('item 1', async () => {});
});
test('item 1 @inline', async () => {});
`;

async function list(dir: string, config: string, extra: string[] = []): Promise<ListedTest[]> {
	const out = path.join(dir, `list-${Math.random().toString(36).slice(2)}.json`);
	const exit = await run(PLAYWRIGHT, ['test', '-c', config, '--list', '--reporter=json', ...extra], dir, cleanEnv({ PLAYWRIGHT_JSON_OUTPUT_NAME: out }));
	expect(exit.code, exit.stderr).toBe(0);
	return listedTests(JSON.parse(readFileSync(out, 'utf8')) as JSONReport);
}

const names = (tests: ListedTest[]) => tests.map((t) => `${t.projectName}|${t.file}|${t.titlePath.join(' > ')}`).sort();

describe('burn-in selection with the real playwright', { timeout: 120_000 }, () => {
	it.each([
		['an unnamed project', `export default { testDir: 'tests' };`],
		['two named projects', `export default { testDir: 'tests', projects: [{ name: 'desktop' }, { name: 'mobile' }] };`]
	])('selects exactly the chosen tests, in %s', async (_name, config) => {
		const dir = makeProject();
		mkdirSync(path.join(dir, 'select/tests/nested'), { recursive: true });
		writeFileSync(path.join(dir, 'select/playwright.config.ts'), config);
		writeFileSync(path.join(dir, 'select/tests/nested/shop.spec.ts'), SPEC);
		const all = await list(dir, 'select/playwright.config.ts');
		const projects = [...new Set(all.map((t) => t.projectName))];
		expect(all).toHaveLength(6 * projects.length);
		// Identified as the reporter sends them: anonymous describe blocks left out, tags kept in titles.
		expect(all).toContainEqual(expect.objectContaining({ file: 'nested/shop.spec.ts', titlePath: ['cart', 'item 12'], projectName: projects[0] }));
		expect(all).toContainEqual(expect.objectContaining({ titlePath: ['item 1 @inline'] }));
		// Every other test: loop siblings, same titles elsewhere and the other project stay out.
		const chosen = all.filter((_, i) => i % 2 === 0);
		const selected = await list(dir, 'select/playwright.config.ts', ['--grep', grepFor(chosen)]);
		expect(names(selected)).toEqual(names(chosen));
		for (const one of all) expect(names(await list(dir, 'select/playwright.config.ts', ['--grep', grepFor([one])]))).toEqual(names([one]));
	});
});
