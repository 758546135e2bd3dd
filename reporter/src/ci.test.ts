import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ciHeaders, detectCi, envSuffix, headerName, isGitLab, parseParallelJobName, sanitizeCi } from './ci.js';
import type { GitRunner } from './git.js';

const noGit: GitRunner = () => undefined;
const SHA = '0123456789abcdef0123456789abcdef01234567';

/** Variables every GitLab job has, including the two that hold credentials. */
const gitlabBase = {
	GITLAB_CI: 'true',
	CI: 'true',
	CI_SERVER_URL: 'https://gitlab.example.com',
	CI_PROJECT_PATH: 'group/app',
	CI_PROJECT_ID: '42',
	CI_PROJECT_URL: 'https://gitlab.example.com/group/app',
	CI_COMMIT_SHA: SHA.toUpperCase(),
	CI_COMMIT_REF_NAME: 'main',
	CI_DEFAULT_BRANCH: 'main',
	CI_COMMIT_TIMESTAMP: '2026-03-01T10:00:00+01:00',
	CI_COMMIT_AUTHOR: 'Ada Lovelace <ada@example.com>',
	CI_COMMIT_TITLE: 'Fix the thing',
	CI_PIPELINE_ID: '1000',
	CI_PIPELINE_IID: '12',
	CI_PIPELINE_URL: 'https://gitlab.example.com/group/app/-/pipelines/1000',
	CI_PIPELINE_SOURCE: 'push',
	CI_JOB_ID: '5000',
	CI_JOB_NAME: 'e2e',
	CI_JOB_URL: 'https://gitlab.example.com/group/app/-/jobs/5000',
	CI_JOB_STARTED_AT: '2026-03-01T10:01:00Z',
	CI_NODE_TOTAL: '1',
	CI_JOB_TOKEN: 'glcbt-SECRET-JOB-TOKEN',
	CI_REPOSITORY_URL: 'https://gitlab-ci-token:glcbt-SECRET-JOB-TOKEN@gitlab.example.com/group/app.git',
	CI_REGISTRY_PASSWORD: 'SECRET-REGISTRY-PASSWORD'
};

const detect = (env: Record<string, string | undefined>, extra: Partial<Parameters<typeof detectCi>[0]> = {}) =>
	detectCi({ env, cwd: '/nowhere', git: noGit, ...extra });

describe('GitLab', () => {
	it('reads a branch pipeline', () => {
		expect(detect({ ...gitlabBase, CI_COMMIT_BRANCH: 'main' })).toEqual({
			provider: 'gitlab',
			branch: 'main',
			defaultBranch: 'main',
			commitSha: SHA,
			commitTitle: 'Fix the thing',
			commitAuthor: 'Ada Lovelace <ada@example.com>',
			commitTimestamp: '2026-03-01T10:00:00+01:00',
			pipelineId: '1000',
			pipelineIid: '12',
			pipelineUrl: 'https://gitlab.example.com/group/app/-/pipelines/1000',
			pipelineSource: 'push',
			jobId: '5000',
			jobName: 'e2e',
			jobUrl: 'https://gitlab.example.com/group/app/-/jobs/5000',
			projectPath: 'group/app'
		});
	});

	it('never reads CI_JOB_TOKEN, CI_REPOSITORY_URL or other credentials', () => {
		const text = JSON.stringify([detect(gitlabBase), ciHeaders(detect(gitlabBase))]);
		expect(text).not.toContain('SECRET');
		expect(text).not.toContain('gitlab-ci-token');
		expect(text).not.toContain('.git');
	});

	it('reads a merge request pipeline, where CI_COMMIT_BRANCH is unset', () => {
		const ci = detect({
			...gitlabBase,
			CI_COMMIT_REF_NAME: 'feature/x',
			CI_PIPELINE_SOURCE: 'merge_request_event',
			CI_MERGE_REQUEST_IID: '77',
			CI_MERGE_REQUEST_SOURCE_BRANCH_NAME: 'feature/x',
			CI_MERGE_REQUEST_TARGET_BRANCH_NAME: 'main',
			CI_MERGE_REQUEST_DIFF_BASE_SHA: SHA
		});
		expect(ci).toMatchObject({ branch: 'feature/x', mrIid: 77, mrSourceBranch: 'feature/x', mrTargetBranch: 'main', pipelineSource: 'merge_request_event' });
	});

	it('reads a tag pipeline: a tag, no branch', () => {
		const ci = detect({ ...gitlabBase, CI_COMMIT_REF_NAME: 'v1.2.0', CI_COMMIT_TAG: 'v1.2.0' });
		expect(ci.tag).toBe('v1.2.0');
		expect(ci.branch).toBeUndefined();
	});

	it('reads a scheduled pipeline', () => {
		expect(detect({ ...gitlabBase, CI_COMMIT_BRANCH: 'main', CI_PIPELINE_SOURCE: 'schedule' })).toMatchObject({ pipelineSource: 'schedule', branch: 'main' });
	});

	it('reads the shard of a parallel job', () => {
		expect(detect({ ...gitlabBase, CI_JOB_NAME: 'e2e 2/3', CI_NODE_INDEX: '2', CI_NODE_TOTAL: '3' })).toMatchObject({ jobName: 'e2e 2/3', shardIndex: 2, shardTotal: 3 });
	});

	it('takes the shard that ran (config.shard) over the environment', () => {
		const ci = detect({ ...gitlabBase, CI_NODE_INDEX: '2', CI_NODE_TOTAL: '3' }, { shard: { current: 1, total: 4 } });
		expect(ci).toMatchObject({ shardIndex: 1, shardTotal: 4 });
	});

	it('recognises gitlab-ci-local, which sets GITLAB_CI=false and names parallel jobs "e2e: [1/2]"', () => {
		const env = { ...gitlabBase, GITLAB_CI: 'false', CI_JOB_NAME: 'e2e: [1/2]', CI_NODE_INDEX: undefined, CI_NODE_TOTAL: undefined };
		expect(isGitLab(env)).toBe(true);
		expect(detect(env)).toMatchObject({ provider: 'gitlab', jobName: 'e2e: [1/2]', shardIndex: 1, shardTotal: 2 });
	});

	it('is not fooled by a lone CI_PROJECT_PATH', () => {
		expect(isGitLab({ CI_PROJECT_PATH: 'a/b' })).toBe(false);
	});
});

describe('parseParallelJobName', () => {
	it('reads both styles and nothing else', () => {
		expect(parseParallelJobName('e2e 1/2')).toEqual({ base: 'e2e', index: 1, total: 2 });
		expect(parseParallelJobName('test: e2e: [3/4]')).toEqual({ base: 'test: e2e', index: 3, total: 4 });
		expect(parseParallelJobName('e2e')).toBeUndefined();
		expect(parseParallelJobName('e2e 3/2')).toBeUndefined();
		expect(parseParallelJobName('e2e: [chromium, 1]')).toBeUndefined();
	});
});

describe('GitHub Actions', () => {
	it('reads a pull request workflow, with the PR number from the event file', () => {
		const dir = mkdtempSync(path.join(os.tmpdir(), 'flackyness-gh-'));
		const eventPath = path.join(dir, 'event.json');
		writeFileSync(eventPath, JSON.stringify({ number: 9, pull_request: { number: 9, head: { sha: SHA } }, repository: { default_branch: 'main' } }));
		const ci = detect({
			GITHUB_ACTIONS: 'true',
			CI: 'true',
			GITHUB_SHA: 'ffffffffffffffffffffffffffffffffffffffff',
			GITHUB_REF: 'refs/pull/9/merge',
			GITHUB_REF_NAME: '9/merge',
			GITHUB_HEAD_REF: 'feature/y',
			GITHUB_BASE_REF: 'main',
			GITHUB_REPOSITORY: 'org/app',
			GITHUB_RUN_ID: '777',
			GITHUB_RUN_NUMBER: '31',
			GITHUB_RUN_ATTEMPT: '2',
			GITHUB_JOB: 'e2e',
			GITHUB_EVENT_NAME: 'pull_request',
			GITHUB_SERVER_URL: 'https://github.com',
			GITHUB_EVENT_PATH: eventPath,
			GITHUB_TOKEN: 'ghs_SECRET'
		});
		expect(ci).toEqual({
			provider: 'github',
			branch: 'feature/y',
			defaultBranch: 'main',
			commitSha: SHA,
			pipelineId: '777',
			pipelineIid: '31',
			pipelineUrl: 'https://github.com/org/app/actions/runs/777/attempts/2',
			pipelineSource: 'pull_request',
			jobName: 'e2e',
			mrIid: 9,
			mrSourceBranch: 'feature/y',
			mrTargetBranch: 'main',
			projectPath: 'org/app'
		});
	});

	it('survives a missing event file', () => {
		expect(detect({ GITHUB_ACTIONS: 'true', GITHUB_REF_NAME: 'main', GITHUB_EVENT_PATH: '/does/not/exist' })).toEqual({ provider: 'github', branch: 'main' });
	});
});

describe('local runs and overrides', () => {
	const git: GitRunner = (args) => (args[0] === 'rev-parse' ? 'topic\n' : `${SHA}\u00002026-03-01T10:00:00+00:00\u0000Ada <ada@example.com>\u0000Local change\n`);

	it('asks git for branch and commit, and says local', () => {
		expect(detect({}, { git })).toEqual({
			provider: 'local',
			branch: 'topic',
			commitSha: SHA,
			commitTimestamp: '2026-03-01T10:00:00+00:00',
			commitAuthor: 'Ada <ada@example.com>',
			commitTitle: 'Local change'
		});
	});

	it('knows nothing when git is missing', () => {
		expect(detect({})).toEqual({ provider: 'local' });
	});

	it('marks an unknown CI as other', () => {
		expect(detect({ CI: 'true' }).provider).toBe('other');
	});

	it('lets FLACKYNESS_* variables override every field', () => {
		const ci = detect(
			{ ...gitlabBase, FLACKYNESS_BRANCH: 'release', FLACKYNESS_MR_IID: '5', FLACKYNESS_JOB_NAME: 'custom', FLACKYNESS_PROVIDER: 'other', FLACKYNESS_COMMIT_SHA: 'abcdef1' },
			{ git }
		);
		expect(ci).toMatchObject({ provider: 'other', branch: 'release', mrIid: 5, jobName: 'custom', commitSha: 'abcdef1' });
	});
});

describe('sanitizeCi', () => {
	it('drops invalid fields instead of failing, strips credentials and control characters', () => {
		expect(
			sanitizeCi({
				provider: 'jenkins',
				branch: 'main\n',
				commitSha: 'not-a-sha',
				pipelineId: 'has spaces',
				pipelineUrl: 'https://user:pw@ci.example.com/p/1',
				jobUrl: 'not a url',
				mrIid: -1,
				shardIndex: 3,
				shardTotal: 2,
				commitTitle: 'x'.repeat(5000),
				commitTimestamp: 'yesterday'
			})
		).toEqual({ branch: 'main', pipelineUrl: 'https://ci.example.com/p/1', commitTitle: 'x'.repeat(1000) });
	});
});

describe('headers', () => {
	it('names a header and a variable after each field', () => {
		expect(headerName('commitSha')).toBe('X-Flackyness-Commit-Sha');
		expect(headerName('mrSourceBranch')).toBe('X-Flackyness-Mr-Source-Branch');
		expect(envSuffix('mrSourceBranch')).toBe('MR_SOURCE_BRANCH');
	});

	it('percent-encodes values that are not printable ASCII', () => {
		expect(ciHeaders({ provider: 'gitlab', commitTitle: 'Ünïcode ✓', branch: '100%', shardIndex: 1, shardTotal: 2 })).toEqual({
			'X-Flackyness-Provider': 'gitlab',
			'X-Flackyness-Commit-Title': encodeURIComponent('Ünïcode ✓'),
			'X-Flackyness-Branch': '100%25',
			'X-Flackyness-Shard-Index': '1',
			'X-Flackyness-Shard-Total': '2'
		});
	});
});
