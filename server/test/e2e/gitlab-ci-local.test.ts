/**
 * The whole loop, as a user's merge request would run it: the committed `examples/.gitlab-ci.yml`
 * run by gitlab-ci-local (shell executor: no Docker here) in a git repository whose `origin` is a
 * fake GitLab, against the real server (built, its own process, on PostgreSQL), which then writes
 * its verdicts back to that GitLab as a merge request note and a commit status.
 *
 * The repository is a copy of examples/ plus two test files from fixtures/gitlab-ci-local: on main,
 * a test that is flaky (history from two runs on main makes the server call it flaky); on the
 * merge request's branch `feature/x`, a new test that always fails, while the flaky one now fails
 * every attempt. The note must call the first new and the second known flaky.
 *
 * No registry: the pipeline's `npm ci` is a stand-in that links the example's two dev
 * dependencies (@playwright/test, flackyness-reporter) from this workspace; every other line of
 * the pipeline runs as committed.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, run } from '../../../reporter/test/helpers/playwright.js';
import { ADMIN_TOKEN, startRealServer, waitFor, type Project, type RealServer } from '../../../reporter/test/real-server/helpers/server.js';
import { dumpIngestedText, storedRuns, type StoredRun } from '../../../reporter/test/real-server/helpers/stored.js';
import { generateSecretsKey } from '../../src/lib/secrets.js';
import { ACCESS, FakeGitlab } from '../helpers/fake-gitlab.js';
import { freePort } from '../helpers/server-process.js';

const SERVER_DIR = fileURLToPath(new URL('../..', import.meta.url));
const ROOT = path.resolve(SERVER_DIR, '..');
const EXAMPLES = path.join(ROOT, 'examples');
const FIXTURES = path.join(SERVER_DIR, 'test/fixtures/gitlab-ci-local');
const GITLAB_CI_LOCAL = path.join(SERVER_DIR, 'node_modules/.bin/gitlab-ci-local');

const GITLAB_PROJECT_ID = 4242;
const GITLAB_TOKEN = 'glpat-flackyness-e2e-api-scope-0123456789';
const JOB_TOKEN = 'glcbt-64_E2E_SECRET_JOB_TOKEN_NEVER_SENT';
const MR_IID = 1;
const NEW_FAILURE = 'redeems a gift card';
const KNOWN_FLAKY = 'applies a voucher';
/** How long the server may take, after the pipeline, to analyse it and write to GitLab. */
const GITLAB_WRITE_TIMEOUT_MS = 60_000;

const cleanups: (() => void)[] = [];
let gl: FakeGitlab;
let server: RealServer;
let project: Project;

function tempDir(prefix: string): string {
	const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
	cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
	return dir;
}

function git(cwd: string, ...args: string[]): string {
	const who = { GIT_AUTHOR_NAME: 'Ada Lovelace', GIT_AUTHOR_EMAIL: 'ada@example.com', GIT_COMMITTER_NAME: 'Ada Lovelace', GIT_COMMITTER_EMAIL: 'ada@example.com' };
	return execFileSync('git', args, { cwd, encoding: 'utf8', env: cleanEnv(who) }).trim();
}

/**
 * A directory holding `npm`, first on the pipeline's PATH: `npm ci` links the example's dev
 * dependencies from this workspace instead of downloading them, anything else is refused (the
 * example's pipeline runs nothing else).
 */
function offlineNpm(): string {
	const bin = tempDir('flackyness-npm-');
	const playwright = realpathSync(path.join(SERVER_DIR, 'node_modules/@playwright/test'));
	const reporter = path.join(ROOT, 'reporter');
	const script = `#!/usr/bin/env bash
set -euo pipefail
if [ "\${1:-}" != ci ]; then echo "this test's npm only knows 'npm ci'" >&2; exit 1; fi
rm -rf node_modules
mkdir -p node_modules/@playwright node_modules/.bin
ln -s '${playwright}' node_modules/@playwright/test
ln -s '${reporter}' node_modules/flackyness-reporter
ln -s ../@playwright/test/cli.js node_modules/.bin/playwright
echo 'added 2 packages, linked from the Flackyness workspace'
`;
	writeFileSync(path.join(bin, 'npm'), script, { mode: 0o755 });
	return bin;
}

/** examples/ in a git repository of its own, cloned from the fake GitLab's group/app. */
function exampleRepository(): string {
	const dir = tempDir('flackyness-mr-');
	for (const entry of ['package.json', 'playwright.config.ts', 'tests', '.gitlab-ci.yml']) cpSync(path.join(EXAMPLES, entry), path.join(dir, entry), { recursive: true });
	cpSync(path.join(FIXTURES, 'vouchers.spec.ts'), path.join(dir, 'tests/vouchers.spec.ts'));
	writeFileSync(path.join(dir, '.gitignore'), 'node_modules/\ntest-results/\nresults.json\nflackyness-spool/\n.gitlab-ci-local/\n');
	git(dir, 'init', '-q', '-b', 'main');
	git(dir, 'add', '-A');
	git(dir, 'commit', '-q', '-m', 'Sample suite with a flaky voucher test');
	// gitlab-ci-local takes the GitLab address and project path (CI_SERVER_URL, CI_PROJECT_PATH,
	// CI_JOB_URL …) from `origin`, and the default branch from origin/HEAD, as after a clone.
	git(dir, 'remote', 'add', 'origin', `${gl.url}/group/app.git`);
	git(dir, 'update-ref', 'refs/remotes/origin/main', 'HEAD');
	git(dir, 'remote', 'set-head', 'origin', 'main');
	return dir;
}

async function healthStates(titles: string[]): Promise<Record<string, string>> {
	const rows = await server.query<{ title: string; state: string }>(
		`SELECT t.title, h.state::text AS state FROM tests t JOIN test_health h ON h.test_id = t.id WHERE t.project_id = $1 AND t.title = ANY($2::text[])`,
		[project.id, titles]
	);
	return Object.fromEntries(rows.map((r) => [r.title, r.state]));
}

async function admin(method: string, url: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
	const res = await fetch(`${server.url}${url}`, {
		method,
		headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
		body: body === undefined ? undefined : JSON.stringify(body)
	});
	return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The heading of the note's section that lists `title` (named once), and its line. */
function sectionNaming(body: string, title: string): { heading: string; line: string } {
	const lines = body.split('\n');
	const at = lines.flatMap((l, i) => (l.includes(title) ? [i] : []));
	expect(at, `the note names "${title}" once:\n${body}`).toHaveLength(1);
	const heading = lines.slice(0, at[0]).reverse().find((l) => l.startsWith('**') || l.startsWith('<details>'));
	return { heading: heading ?? '', line: lines[at[0]!]! };
}

beforeAll(async () => {
	gl = await new FakeGitlab().start();
	gl.addProject({ id: GITLAB_PROJECT_ID, path: 'group/app', name: 'App', mergeRequests: [MR_IID] });
	gl.addToken(GITLAB_TOKEN, { scopes: ['api'], access: { [GITLAB_PROJECT_ID]: ACCESS.developer } });
	const port = await freePort();
	server = await startRealServer({ PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, SECRETS_KEY: generateSecretsKey() });
	project = await server.createProject('app');
	// No GitLab project set: the server must take it from the pipeline's runs.
	const connected = await admin('PUT', `/api/v1/projects/${project.id}/integrations/gitlab`, { url: gl.url, token: GITLAB_TOKEN, mrNotes: true, commitStatus: true });
	expect(connected.status, JSON.stringify(connected.body)).toBe(200);
}, 120_000);

afterAll(async () => {
	for (const cleanup of cleanups) cleanup();
	await server?.destroy();
	await gl?.close();
});

// Real processes on a shared 2-core CI machine: a pipeline of four Playwright jobs, minutes at worst.
describe('examples/.gitlab-ci.yml under gitlab-ci-local, with a GitLab connection', { timeout: 360_000 }, () => {
	it('stores the merge request pipeline’s runs, then writes one note naming the new failure and the known flaky one, and a commit status', async () => {
		const dir = exampleRepository();
		const npmDir = offlineNpm();
		const env = cleanEnv({ PATH: `${npmDir}${path.delimiter}${process.env.PATH}` });
		const ingest = { FLACKYNESS_URL: server.url, FLACKYNESS_TOKEN: project.token };

		// History on main: two pipelines on its commit, in which the voucher test passed only on retry.
		const install = await run('npm', ['ci'], dir, env);
		expect(install.code, install.stderr).toBe(0);
		const mainSha = git(dir, 'rev-parse', 'HEAD');
		for (const n of [1, 2]) {
			const seed = await run(path.join(dir, 'node_modules/.bin/playwright'), ['test'], dir, {
				...env,
				...ingest,
				GITLAB_CI: 'true',
				CI_PROJECT_PATH: 'group/app',
				CI_COMMIT_SHA: mainSha,
				CI_COMMIT_BRANCH: 'main',
				CI_COMMIT_REF_NAME: 'main',
				CI_DEFAULT_BRANCH: 'main',
				CI_PIPELINE_ID: String(900 + n),
				CI_JOB_ID: String(9000 + n),
				CI_JOB_NAME: 'e2e'
			});
			expect(seed.code, `${seed.stdout}\n${seed.stderr}`).toBe(0);
		}
		await waitFor('the analysis to call the voucher test flaky', async () => (await healthStates([KNOWN_FLAKY]))[KNOWN_FLAKY] === 'flaky');

		// The merge request: a new test on feature/x, and the voucher service down for its pipeline.
		git(dir, 'checkout', '-q', '-b', 'feature/x');
		cpSync(path.join(FIXTURES, 'gift-cards.spec.ts'), path.join(dir, 'tests/gift-cards.spec.ts'));
		git(dir, 'add', '-A');
		git(dir, 'commit', '-q', '-m', 'Gift cards');
		const sha = git(dir, 'rev-parse', 'HEAD');
		const variables = {
			...ingest,
			// What GitLab sets in a merge request pipeline and gitlab-ci-local does not.
			CI_PIPELINE_SOURCE: 'merge_request_event',
			CI_MERGE_REQUEST_IID: String(MR_IID),
			CI_MERGE_REQUEST_SOURCE_BRANCH_NAME: 'feature/x',
			CI_MERGE_REQUEST_TARGET_BRANCH_NAME: 'main',
			CI_JOB_TOKEN: JOB_TOKEN,
			VOUCHERS_DOWN: '1'
		};
		const args = [
			'--force-shell-executor',
			// Shell jobs share this directory (Playwright's test-results/, the curl jobs' results.json):
			// one job at a time.
			'--concurrency',
			'1',
			'--home',
			tempDir('flackyness-gcl-home-'),
			'--no-color',
			// GitLab leaves CI_COMMIT_BRANCH unset in merge request pipelines.
			'--unset-variable',
			'CI_COMMIT_BRANCH',
			'--ignore-predefined-vars',
			'CI_PIPELINE_SOURCE,CI_JOB_TOKEN',
			...Object.entries(variables).flatMap(([k, v]) => ['--variable', `${k}=${v}`])
		];
		const pipeline = await run(GITLAB_CI_LOCAL, args, dir, env, 300_000);
		const output = `${pipeline.stdout}\n${pipeline.stderr}`;
		expect(output, output).toContain('pipeline finished');
		// Every job ran to its end; those holding the failing tests failed, and so does the pipeline.
		const verdicts = new Map([...output.matchAll(/^ (PASS|FAIL) +(.+?) *$/gm)].map((m) => [m[2]!, m[1]!]));
		expect([...verdicts.keys()].sort(), output).toEqual(['e2e-curl-json', 'e2e-curl-multipart', 'e2e: [1/2]', 'e2e: [2/2]']);
		expect(verdicts.get('e2e-curl-json')).toBe('FAIL');
		expect(verdicts.get('e2e-curl-multipart')).toBe('FAIL');
		expect(pipeline.code).toBe(1);
		// The curl jobs' fallback line when their upload fails (their command is echoed as well).
		expect(output).not.toMatch(/> Flackyness upload failed/);
		// Each shard's reporter ends with a line linking to its run (gitlab-ci-local repeats a failed
		// job's last lines in its summary).
		const linked = new Set([...output.matchAll(/\[flackyness\] .* · (\S+)$/gm)].map((m) => m[1]!));

		// What the server stored: two shards in one group and the curl jobs' two reports, all with the
		// merge request pipeline's metadata.
		const runs = (await storedRuns(server, project)).filter((r) => r.mr_iid !== null).sort((a, b) => a.job_name!.localeCompare(b.job_name!));
		expect(runs.map((r) => [r.source, r.job_name])).toEqual([
			['json_upload', 'e2e-curl-json'],
			['json_upload', 'e2e-curl-multipart'],
			['reporter', 'e2e: [1/2]'],
			['reporter', 'e2e: [2/2]']
		]);
		const pipelineId = runs[0]!.pipeline_id!;
		const pipelineIid = runs[0]!.pipeline_iid!;
		expect(pipelineId).toMatch(/^\d+$/);
		for (const r of runs) {
			expect(r).toMatchObject({
				ci_provider: 'gitlab',
				branch: 'feature/x',
				is_default_branch: false,
				commit_sha: sha,
				pipeline_id: pipelineId,
				pipeline_iid: pipelineIid,
				pipeline_url: `${gl.url}/group/app/pipelines/${pipelineIid}`,
				pipeline_source: 'merge_request_event',
				job_url: `${gl.url}/group/app/-/jobs/${r.job_id}`,
				mr_iid: MR_IID,
				mr_target_branch: 'main',
				status: r.unexpected > 0 ? 'failed' : 'passed'
			});
			// The curl job with headers does not send the source branch; the others do.
			if (r.job_name !== 'e2e-curl-json') expect(r.mr_source_branch).toBe('feature/x');
		}
		expect(new Set(runs.map((r) => r.job_id)).size).toBe(4);
		const shards = runs.filter((r) => r.source === 'reporter');
		expect([...linked].sort()).toEqual(shards.map((r) => `${server.url}/runs/${r.id}`).sort());
		expect(shards.map((r) => [r.shard_index, r.shard_total, r.group_key])).toEqual([
			[1, 2, `gitlab:${pipelineId}:e2e`],
			[2, 2, `gitlab:${pipelineId}:e2e`]
		]);
		// Together the shards ran the suite once, as each curl job did (Playwright's own JSON report):
		// the two failures, and the example's flaky test.
		const counts = (list: StoredRun[]) => ({
			total: list.reduce((n, r) => n + r.total, 0),
			unexpected: list.reduce((n, r) => n + r.unexpected, 0),
			flaky: list.reduce((n, r) => n + r.flaky, 0)
		});
		const uploads = runs.filter((r) => r.source === 'json_upload');
		expect(counts([uploads[0]!])).toMatchObject({ unexpected: 2, flaky: 1 });
		expect(counts([uploads[1]!])).toEqual(counts([uploads[0]!]));
		expect(counts(shards)).toEqual(counts([uploads[0]!]));
		// gitlab-ci-local marks a job failed when its script failed: the shard with a failure.
		for (const shard of shards) expect(verdicts.get(shard.job_name!)).toBe(shard.unexpected > 0 ? 'FAIL' : 'PASS');

		// The GitLab project, unset in the connection, is the one the pipeline ran in.
		const connection = await admin('GET', `/api/v1/projects/${project.id}/integrations/gitlab`);
		expect(connection.body).toMatchObject({ gitlabProject: null, effectiveProject: 'group/app' });

		// GitLab's side: one note on !1 of group/app, naming each failure with its verdict, and a
		// "flackyness" status on the merge request's commit.
		const notesOnMr = () => gl.notes.filter((n) => n.projectId === GITLAB_PROJECT_ID && n.mrIid === MR_IID);
		const statusesOnSha = () => gl.statuses.filter((s) => s.projectId === GITLAB_PROJECT_ID && s.sha === sha && s.name === 'flackyness');
		const written = async () => notesOnMr().length > 0 && statusesOnSha().some((s) => s.state !== 'pending' && s.state !== 'running');
		await waitFor('a note on the merge request and a final commit status', written, GITLAB_WRITE_TIMEOUT_MS).catch((err: Error) => {
			const calls = gl.requests.map((r) => `${r.method} ${r.path}`);
			throw new Error(`${err.message}; GitLab was asked:\n${calls.join('\n') || '(nothing)'}`);
		});
		// A few more seconds: no second note may follow (an update of the one note is fine).
		await new Promise((resolve) => setTimeout(resolve, 5_000));
		expect(gl.requests.filter((r) => r.method === 'POST' && /\/merge_requests\/\d+\/notes$/.test(r.path))).toHaveLength(1);
		const notes = notesOnMr();
		expect(notes).toHaveLength(1);
		const body = notes[0]!.body;
		expect(body).toContain('Flackyness: 1 new failure');
		const fresh = sectionNaming(body, NEW_FAILURE);
		expect(fresh.heading).toMatch(/^\*\*New: failing here, not known to fail on main/);
		const known = sectionNaming(body, KNOWN_FLAKY);
		expect(known.heading).toMatch(/^\*\*Known flaky/);
		expect(known.line).toMatch(/flaky: \d+(\.\d)?% per attempt \(/);
		const status = statusesOnSha().at(-1)!;
		// A new failure is a real one: the status fails, and links back to Flackyness.
		expect(status).toMatchObject({ state: 'failed', name: 'flackyness' });
		expect(status.targetUrl).toMatch(new RegExp(`^${server.url.replace(/[.]/g, '\\.')}/`));

		// The job token was in every job's environment; it went nowhere.
		expect(JSON.stringify(gl.requests)).not.toContain(JOB_TOKEN);
		expect(await dumpIngestedText(server)).not.toContain(JOB_TOKEN);
	});
});
