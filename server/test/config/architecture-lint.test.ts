import { mkdir, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { ESLint } from 'eslint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The architecture rules of eslint.config.js (issue 15 §6) catch what they are meant to catch: each case
 * lints a file that breaks one rule, at the place it would live, and expects that rule to fire.
 */
const root = fileURLToPath(new URL('../../../', import.meta.url));
const eslint = new ESLint({ cwd: root });

async function ruleIds(file: string, code: string): Promise<string[]> {
	const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
	return result!.messages.map((m) => m.ruleId ?? `fatal: ${m.message}`);
}

describe('architecture lint rules', () => {
	const cycleDir = path.join(root, 'server/src/lib/__lint_cycle__');

	beforeAll(async () => {
		await mkdir(cycleDir, { recursive: true });
		await writeFile(path.join(cycleDir, 'a.ts'), "import { b } from './b.js';\nexport const a = () => b();\n");
		await writeFile(path.join(cycleDir, 'b.ts'), "import { a } from './a.js';\nexport const b = (): unknown => a;\n");
	});
	afterAll(async () => {
		await rm(cycleDir, { recursive: true, force: true });
	});

	it('the analysis engine imports no repository, job or route', async () => {
		const ids = await ruleIds('server/src/analysis/x.ts', "import { findProject } from '../repositories/projects.js';\nexport const f = findProject;\n");
		expect(ids).toContain('import-x/no-restricted-paths');
	});

	it('repositories import no job or route', async () => {
		const ids = await ruleIds('server/src/repositories/x.ts', "import { runAnalysisJobs } from '../jobs/analysis.js';\nexport const f = runAnalysisJobs;\n");
		expect(ids).toContain('import-x/no-restricted-paths');
	});

	it('the reporter imports nothing of the server', async () => {
		const ids = await ruleIds('reporter/src/x.ts', "import { loadConfig } from '../../server/src/config.js';\nexport const f = loadConfig;\n");
		expect(ids).toContain('import-x/no-restricted-paths');
	});

	it('the dashboard imports no server code and no database client, in .ts and .svelte files', async () => {
		expect(await ruleIds('dashboard/src/lib/x.ts', "import { loadConfig } from '../../../server/src/config.js';\nexport const f = loadConfig;\n")).toContain(
			'import-x/no-restricted-paths'
		);
		expect(await ruleIds('dashboard/src/lib/x.ts', "import pg from 'pg';\nexport const f = pg;\n")).toContain('no-restricted-imports');
		const svelte = '<script lang="ts">\n\timport { loadConfig } from \'../../../../server/src/config.js\';\n\tconst c = loadConfig;\n</script>\n\n<p>{typeof c}</p>\n';
		expect(await ruleIds('dashboard/src/lib/components/X.svelte', svelte)).toContain('import-x/no-restricted-paths');
	});

	it('routes hold no SQL', async () => {
		const ids = await ruleIds(
			'server/src/routes/api/x.ts',
			'export const q = (db: { query: (s: string) => unknown }) => db.query(`UPDATE api_tokens SET revoked_at = now()`);\n'
		);
		expect(ids).toContain('no-restricted-syntax');
		// Words that only look like SQL in prose (a route summary) are not SQL.
		expect(await ruleIds('server/src/routes/api/x.ts', "export const summary = 'Create a project; select its token';\n")).toEqual([]);
	});

	it('no import circles', async () => {
		const ids = await ruleIds('server/src/lib/__lint_cycle__/a.ts', "import { b } from './b.js';\nexport const a = () => b();\n");
		expect(ids).toContain('import-x/no-cycle');
	});
}, 120_000);
