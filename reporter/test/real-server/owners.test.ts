/**
 * Owners through the real `playwright test` and the real server: the reporter reads the project's
 * CODEOWNERS (sections, default owners, last match per section) at the start of the run, adds the
 * owners tests name themselves (an owner annotation, an @owner: tag), and the stored tests carry
 * them. Only the names reach the server.
 */
import { execFileSync } from 'node:child_process';
import { renameSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProject, runPlaywright } from '../helpers/playwright.js';
import { startRealServer, type Project, type RealServer } from './helpers/server.js';

let server: RealServer;
beforeAll(async () => {
	server = await startRealServer();
}, 300_000);
afterAll(async () => {
	await server?.destroy();
});

async function storedOwners(project: Project): Promise<Record<string, string[]>> {
	const rows = await server.query<{ title: string; owners: string[] }>(`SELECT title, owners FROM tests WHERE project_id = $1 ORDER BY title`, [project.id]);
	return Object.fromEntries(rows.map((r) => [r.title, r.owners]));
}

const EXPECTED = {
	finds: ['@search-team', '@everyone', '@e2e-team'],
	pays: ['@everyone', '@checkout', '@payments', '@qa-lead'],
	refunds: ['@refunds-team', '@everyone', '@checkout', '@payments', '@qa-lead']
};

describe('owners with the real server', { timeout: 300_000 }, () => {
	it('stores the CODEOWNERS owners of each test’s file, found under CI_PROJECT_DIR, with the owners tests name', async () => {
		const project = await server.createProject('owners-ci');
		const workdir = makeProject();
		const suiteDir = path.join(workdir, 'owners');
		const run = await runPlaywright('owners', { FLACKYNESS_URL: server.url, FLACKYNESS_TOKEN: project.token, CI_PROJECT_DIR: suiteDir }, [], workdir);
		expect(run.code, run.stdout + run.stderr).toBe(0);
		expect(await storedOwners(project)).toEqual(EXPECTED);
		// The file itself never travels: no stored result mentions a pattern or a section.
		const [dump] = await server.query<{ text: string }>(
			`SELECT string_agg(coalesce(annotations::text, ''), ' ') AS text FROM test_results WHERE project_id = $1`,
			[project.id]
		);
		expect(dump!.text ?? '').not.toContain('[Payments]');
	});

	it('finds .gitlab/CODEOWNERS at the top of the git working copy when CI_PROJECT_DIR is not set', async () => {
		const project = await server.createProject('owners-git');
		const workdir = makeProject();
		const suiteDir = path.join(workdir, 'owners');
		execFileSync('git', ['init', '-q', suiteDir]);
		execFileSync('mkdir', ['-p', path.join(suiteDir, '.gitlab')]);
		renameSync(path.join(suiteDir, 'CODEOWNERS'), path.join(suiteDir, '.gitlab', 'CODEOWNERS'));
		const run = await runPlaywright('owners', { FLACKYNESS_URL: server.url, FLACKYNESS_TOKEN: project.token }, [], workdir);
		expect(run.code, run.stdout + run.stderr).toBe(0);
		expect(await storedOwners(project)).toEqual(EXPECTED);
	});
});
