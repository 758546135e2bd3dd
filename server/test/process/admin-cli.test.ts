import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase, type TestDatabase } from '../helpers/db.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';

const CLI = fileURLToPath(new URL('../../dist/cli/admin.js', import.meta.url));
const ADMIN = 'cli-admin-token-0123456789abcdefghij';
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SERVER = fileURLToPath(new URL('../../', import.meta.url));

/** pnpm as the repository's scripts find it: on the PATH, else the pinned version through npx. */
function pnpm(): string {
	try {
		execFileSync('pnpm', ['--version'], { stdio: 'ignore' });
		return 'pnpm';
	} catch {
		return `npx -y ${(JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { packageManager: string }).packageManager}`;
	}
}

describe('flackyness-admin', () => {
	let t: TestDatabase;
	let s: ServerProcess;
	beforeAll(async () => {
		t = await createPostgresDatabase();
		s = await startServer({ DATABASE_URL: t.url, ADMIN_TOKEN: ADMIN, DEMO: 'false' });
	});
	afterAll(async () => {
		await s?.stop();
		await t?.destroy();
	});

	const cli = (args: string[], token: string | null = ADMIN) =>
		new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
			execFile(
				process.execPath,
				[CLI, ...args],
				{ env: { PATH: process.env.PATH, FLACKYNESS_URL: s.url, ...(token !== null ? { FLACKYNESS_ADMIN_TOKEN: token } : {}) } },
				(err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr })
			);
		});

	it('manages projects, tokens and users, and reports health', async () => {
		const created = await cli(['projects', 'create', 'cli-app', '--name', 'CLI app']);
		expect(created.code).toBe(0);
		const token = /ingestion token \(shown once\): (flk_p_\S+)/.exec(created.stdout)?.[1];
		expect(token).toBeDefined();

		const list = await cli(['projects', 'list']);
		expect(list.stdout).toMatch(/^slug\s+name\s+runs/m);
		expect(list.stdout).toMatch(/cli-app\s+CLI app\s+0\s+0/);

		expect((await cli(['projects', 'rename', 'cli-app', '--name', 'Renamed'])).stdout).toContain('renamed: cli-app (Renamed)');
		const rotated = await cli(['tokens', 'rotate', 'cli-app', '--revoke-others']);
		expect(rotated.stdout).toMatch(/new ingestion token \(shown once\): flk_p_\S+\nrevoked 1 older token/);
		const tokens = JSON.parse((await cli(['tokens', 'list', 'cli-app', '--json'])).stdout) as { tokens: Array<{ revokedAt: string | null }> };
		expect(tokens.tokens.filter((x) => x.revokedAt === null)).toHaveLength(1);

		const user = await cli(['users', 'create', 'dev@example.com', '--role', 'viewer']);
		expect(user.stdout).toMatch(/created viewer dev@example.com\npassword \(shown once\): \S{12,}/);
		const users = JSON.parse((await cli(['users', 'list', '--json'])).stdout) as { users: Array<{ id: string; email: string }> };
		const dev = users.users.find((u) => u.email === 'dev@example.com')!;
		expect((await cli(['users', 'role', dev.id, 'admin'])).stdout).toContain('dev@example.com is now admin');

		const health = await cli(['health']);
		expect(health.stdout).toMatch(/database: [\d.]+ MiB; analysis queue: \d+/);
		expect(health.stdout).toContain('test_results_default');

		const refused = await cli(['projects', 'delete', 'cli-app']);
		expect(refused.code).toBe(2);
		expect(refused.stderr).toContain('add --yes');
		expect((await cli(['projects', 'delete', 'cli-app', '--yes'])).stdout).toContain('deleted project cli-app');
	});

	it('says clearly what is wrong', async () => {
		const noToken = await cli(['projects', 'list'], null);
		expect(noToken.code).toBe(2);
		expect(noToken.stderr).toContain('set FLACKYNESS_ADMIN_TOKEN');
		const bad = await cli(['projects', 'list'], 'not-the-admin-token-xxxxxxxxxxxx');
		expect(bad.code).toBe(2);
		expect(bad.stderr).toMatch(/answered 401: Invalid token/);
		const unknown = await cli(['frobnicate']);
		expect(unknown.stderr).toContain('unknown command "frobnicate"');
		expect(unknown.stderr).toContain('usage: flackyness-admin');
	});

	/** A command line as an admin types it, its stdout piped into JSON.parse. */
	const piped = (cwd: string, command: string) =>
		new Promise<{ code: number; parsed: unknown; stderr: string }>((resolve) => {
			const parse = `node -e 'process.stdout.write(JSON.stringify(JSON.parse(require("fs").readFileSync(0, "utf8"))))'`;
			execFile(
				'bash',
				['-o', 'pipefail', '-c', `${command} | ${parse}`],
				{
					cwd,
					// offline: npx runs the repository's own bin, never a registry package of that name.
					env: { PATH: process.env.PATH, HOME: process.env.HOME, npm_config_offline: 'true', FLACKYNESS_URL: s.url, FLACKYNESS_ADMIN_TOKEN: ADMIN }
				},
				(err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, parsed: stdout ? JSON.parse(stdout) : undefined, stderr })
			);
		});

	it('--json pipes: the documented commands print one JSON document on stdout and nothing else', async () => {
		for (const [cwd, command] of [
			[ROOT, 'npx flackyness-admin projects create piped --json'],
			[SERVER, 'npx flackyness-admin projects list --json'],
			[ROOT, `${pnpm()} -s admin projects list --json`]
		] as const) {
			const result = await piped(cwd, command);
			expect(result.code, `${command}: ${result.stderr}`).toBe(0);
			expect(result.parsed, command).toMatchObject(command.includes('create') ? { project: { slug: 'piped' }, token: expect.stringMatching(/^flk_p_/) } : { projects: [expect.objectContaining({ slug: 'piped' })] });
		}
		// Commands that answer no data still print JSON (the bin itself: npx takes seconds on a busy machine).
		const admin = 'node dist/cli/admin.js';
		const token = ((await piped(SERVER, `${admin} tokens list piped --json`)).parsed as { tokens: Array<{ id: string }> }).tokens[0]!;
		expect((await piped(SERVER, `${admin} tokens revoke piped ${token.id} --json`)).parsed).toEqual({ revoked: { project: 'piped', tokenId: token.id } });
		expect((await piped(SERVER, `${admin} projects delete piped --yes --json`)).parsed).toEqual({ deleted: { project: 'piped' } });
		const failed = await piped(SERVER, `${admin} projects delete piped --yes --json`);
		expect(failed.code).not.toBe(0);
		expect(failed.stderr).toMatch(/answered 404/);
	}, 180_000);
});
