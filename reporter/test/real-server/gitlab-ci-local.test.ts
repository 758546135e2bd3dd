/**
 * The example pipeline (`examples/`), run for real with gitlab-ci-local against the real server:
 * the reporter job's two `parallel:` shards and the two curl jobs, in a git repository whose
 * `origin` is a GitLab project. The committed example runs as it is; only the dependency on
 * flackyness-reporter points at this package, packed, as a user's lockfile would point at npm.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packReporter } from '../helpers/pack.js';
import { PACKAGE_DIR, cleanEnv, run } from '../helpers/playwright.js';
import { startRealServer, type Project, type RealServer } from './helpers/server.js';
import { asComparable, dumpIngestedText, storedResults, storedRuns } from './helpers/stored.js';

const EXAMPLES = path.resolve(PACKAGE_DIR, '../examples');
const SECRET = 'glcbt-64_GITLAB_CI_LOCAL_SECRET_JOB_TOKEN';

let server: RealServer;
let project: Project;
const cleanups: (() => void)[] = [];
beforeAll(async () => {
	server = await startRealServer();
	project = await server.createProject('app');
});
afterAll(async () => {
	for (const cleanup of cleanups) cleanup();
	await server?.destroy();
});

function tempDir(prefix: string): string {
	const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
	cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
	return dir;
}

function git(cwd: string, ...args: string[]): string {
	return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...cleanEnv(), GIT_AUTHOR_NAME: 'Ada Lovelace', GIT_AUTHOR_EMAIL: 'ada@example.com', GIT_COMMITTER_NAME: 'Ada Lovelace', GIT_COMMITTER_EMAIL: 'ada@example.com' } }).trim();
}

/** The examples in a git repository of their own, as a user's project. */
async function exampleRepository(tarball: string): Promise<{ dir: string; sha: string }> {
	const dir = tempDir('flackyness-example-');
	for (const entry of ['package.json', 'playwright.config.ts', 'tests', '.gitlab-ci.yml']) cpSync(path.join(EXAMPLES, entry), path.join(dir, entry), { recursive: true });
	cpSync(tarball, path.join(dir, 'vendor', path.basename(tarball)));
	const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
	pkg.devDependencies['flackyness-reporter'] = `file:vendor/${path.basename(tarball)}`;
	writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
	writeFileSync(path.join(dir, '.gitignore'), 'node_modules/\ntest-results/\nresults.json\nflackyness-spool/\n.gitlab-ci-local/\n');
	// The lockfile `npm ci` needs, as the user would have committed it.
	const lock = await run('npm', ['install', '--package-lock-only', '--no-audit', '--no-fund'], dir, cleanEnv());
	if (lock.code !== 0) throw new Error(`npm could not write the example's lockfile (is the npm registry reachable?):\n${lock.stdout}\n${lock.stderr}`);
	git(dir, 'init', '-q', '-b', 'main');
	git(dir, 'add', '-A');
	git(dir, 'commit', '-q', '-m', 'Sample suite with a flaky test');
	git(dir, 'remote', 'add', 'origin', 'https://gitlab.example.com/group/app.git');
	// As after a clone: origin/main exists and is origin's default branch (CI_DEFAULT_BRANCH).
	git(dir, 'update-ref', 'refs/remotes/origin/main', 'HEAD');
	git(dir, 'remote', 'set-head', 'origin', 'main');
	return { dir, sha: git(dir, 'rev-parse', 'HEAD') };
}

describe('the example pipeline under gitlab-ci-local', () => {
	it('stores one run per shard in one group, with the pipeline’s metadata, and the curl jobs’ reports', async () => {
		const { dir, sha } = await exampleRepository(packReporter('pnpm', tempDir('flackyness-pack-')));
		const home = tempDir('flackyness-gcl-home-');
		const args = [
			'-y',
			'-p',
			'node@22',
			'-p',
			'gitlab-ci-local',
			'gitlab-ci-local',
			'--force-shell-executor',
			// Shell jobs share the working directory (no --shell-isolation, whose rsync before
			// after_script deletes the report the curl jobs send): one job at a time, so that their
			// `npm ci` do not race.
			'--concurrency',
			'1',
			'--home',
			home,
			'--variable',
			`FLACKYNESS_URL=${server.url}`,
			'--variable',
			`FLACKYNESS_TOKEN=${project.token}`,
			'--variable',
			`CI_JOB_TOKEN=${SECRET}`,
			'--variable',
			`CI_REPOSITORY_URL=https://gitlab-ci-token:${SECRET}@gitlab.example.com/group/app.git`
		];
		const pipeline = await run('npx', args, dir, cleanEnv(), 480_000);
		const output = `${pipeline.stdout}\n${pipeline.stderr}`;
		if (!output.includes('pipeline finished')) {
			throw new Error(`gitlab-ci-local did not run (exit ${pipeline.code}); it comes from the npm registry through npx, which must be reachable:\n${output}`);
		}
		expect(pipeline.code, output).toBe(0);
		for (const job of ['e2e: [1/2]', 'e2e: [2/2]', 'e2e-curl-json', 'e2e-curl-multipart']) expect(output).toMatch(new RegExp(` PASS +${job.replace(/[[\]/]/g, '\\$&')}`));
		// The curl jobs' fallback line when their upload fails (their command is echoed as well).
		expect(output).not.toMatch(/> Flackyness upload failed/);
		const summaries = output.split('\n').filter((line) => line.includes('[flackyness] '));
		expect(summaries).toHaveLength(2);
		for (const line of summaries) expect(line).toContain(`${server.url}/runs/`);

		const runs = await storedRuns(server, project);
		const shards = runs.filter((r) => r.source === 'reporter').sort((a, b) => a.shard_index! - b.shard_index!);
		const uploads = runs.filter((r) => r.source === 'json_upload').sort((a, b) => a.job_name!.localeCompare(b.job_name!));
		expect(shards).toHaveLength(2);
		expect(uploads).toHaveLength(2);
		const pipelineId = shards[0]!.pipeline_id;
		expect(pipelineId).toMatch(/^\d+$/);

		// One group for the two shards of the reporter job, named as gitlab-ci-local names parallel jobs.
		expect(shards.map((r) => [r.job_name, r.shard_index, r.shard_total, r.group_key])).toEqual([
			['e2e: [1/2]', 1, 2, `gitlab:${pipelineId}:e2e`],
			['e2e: [2/2]', 2, 2, `gitlab:${pipelineId}:e2e`]
		]);
		expect(uploads.map((r) => r.job_name)).toEqual(['e2e-curl-json', 'e2e-curl-multipart']);
		for (const r of runs) {
			expect(r).toMatchObject({
				ci_provider: 'gitlab',
				branch: 'main',
				commit_sha: sha,
				pipeline_id: pipelineId,
				pipeline_url: expect.stringMatching(/^https:\/\/gitlab\.example\.com\/group\/app\/.*pipelines\/\d+$/),
				job_url: expect.stringMatching(/^https:\/\/gitlab\.example\.com\/group\/app\/-\/jobs\/\d+$/),
				status: 'passed'
			});
			expect(r.job_url).toBe(`https://gitlab.example.com/group/app/-/jobs/${r.job_id}`);
		}
		expect(new Set(runs.map((r) => r.job_id)).size).toBe(4);

		// Together the shards ran the suite once: what each curl job's JSON report holds, flaky test included.
		expect(shards.reduce((n, r) => n + r.total, 0)).toBe(11);
		expect(shards.reduce((n, r) => n + r.flaky, 0)).toBe(1);
		const outcomes = (results: Awaited<ReturnType<typeof storedResults>>) =>
			asComparable(results).map(({ durationMs: _d, startedAt: _s, ...rest }) => rest);
		const streamed = outcomes(await storedResults(server, shards.map((r) => r.id)));
		expect(streamed).toHaveLength(11);
		for (const upload of uploads) expect(outcomes(await storedResults(server, [upload.id]))).toEqual(streamed);
		expect(streamed.find((r) => r.titlePath.at(-1) === 'confirms the payment')).toMatchObject({
			outcome: 'flaky',
			attempts: 2,
			failedAttempts: 1,
			errorFirstLine: 'Error: payment confirmation arrived in time'
		});

		const text = await dumpIngestedText(server);
		expect(text).not.toContain(SECRET);
		expect(text).not.toContain('gitlab-ci-token');
	}, 600_000);
});
