/**
 * CI identity and git metadata of one Playwright invocation: GitLab first, GitHub Actions as a
 * fallback, `FLACKYNESS_*` overrides, git for local runs. Only the variables named here are read:
 * never `CI_JOB_TOKEN`, `CI_REPOSITORY_URL` or anything else that may hold a credential.
 */
import { readFileSync } from 'node:fs';
import { ciMetadataSchema, type CiMetadata } from './protocol.js';
import { readGit, runGit, type GitRunner } from './git.js';

type Env = Record<string, string | undefined>;
export type CiField = keyof CiMetadata;
export type RawCi = { [K in CiField]?: unknown };

export const CI_FIELDS = Object.keys(ciMetadataSchema.shape) as CiField[];
const NUMERIC_FIELDS = new Set<CiField>(['mrIid', 'shardIndex', 'shardTotal']);
const URL_FIELDS = new Set<CiField>(['pipelineUrl', 'jobUrl']);
const TRUNCATE: Partial<Record<CiField, number>> = { commitTitle: 1000, commitAuthor: 500 };

/** `commitSha` → `COMMIT_SHA`: the suffix of its `FLACKYNESS_*` override. */
export function envSuffix(field: CiField): string {
	return field.replace(/([A-Z])/g, '_$1').toUpperCase();
}

/** `commitSha` → `X-Flackyness-Commit-Sha`: its header on `POST /api/v1/reports`. */
export function headerName(field: CiField): string {
	const words = field.replace(/([A-Z])/g, ' $1').split(' ');
	return `X-Flackyness-${words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('-')}`;
}

function value(env: Env, name: string): string | undefined {
	const v = env[name]?.trim();
	return v ? v : undefined;
}

function int(raw: unknown): number | undefined {
	if (typeof raw === 'number') return raw;
	if (typeof raw !== 'string' || !/^\s*\d+\s*$/.test(raw)) return undefined;
	return Number(raw);
}

function firstLine(s: unknown): string | undefined {
	return typeof s === 'string' && s.trim() ? s.trim().split('\n')[0]!.trim() : undefined;
}

/**
 * The shard in a parallel job's name: GitLab's `e2e 1/2` or gitlab-ci-local's `e2e: [1/2]`.
 */
export function parseParallelJobName(name: string | undefined): { base: string; index: number; total: number } | undefined {
	const m = name?.match(/^(.*?)(?: (\d+)\/(\d+)|: \[(\d+)\/(\d+)\])$/);
	if (!m) return undefined;
	const index = Number(m[2] ?? m[4]);
	const total = Number(m[3] ?? m[5]);
	return index >= 1 && index <= total ? { base: m[1]!, index, total } : undefined;
}

/** GitLab sets GITLAB_CI=true; gitlab-ci-local sets it to false but has the project and pipeline variables. */
export function isGitLab(env: Env): boolean {
	return env.GITLAB_CI === 'true' || (!!value(env, 'CI_PROJECT_PATH') && !!(value(env, 'CI_PIPELINE_ID') || value(env, 'CI_SERVER_URL')));
}

export function gitlabMetadata(env: Env): RawCi {
	const v = (name: string) => value(env, name);
	const tag = v('CI_COMMIT_TAG');
	const mrSource = v('CI_MERGE_REQUEST_SOURCE_BRANCH_NAME');
	const jobName = v('CI_JOB_NAME');
	const nodeIndex = int(v('CI_NODE_INDEX'));
	const nodeTotal = int(v('CI_NODE_TOTAL'));
	// CI_NODE_TOTAL is 1 in every job; CI_NODE_INDEX exists only in `parallel:` jobs.
	const shard = nodeIndex !== undefined && nodeTotal !== undefined ? { index: nodeIndex, total: nodeTotal } : parseParallelJobName(jobName);
	return {
		provider: 'gitlab',
		// CI_COMMIT_BRANCH is unset in merge request and tag pipelines; CI_COMMIT_REF_NAME is then the tag.
		branch: v('CI_COMMIT_BRANCH') ?? mrSource ?? (tag ? undefined : v('CI_COMMIT_REF_NAME')),
		defaultBranch: v('CI_DEFAULT_BRANCH'),
		tag,
		commitSha: v('CI_COMMIT_SHA'),
		commitTitle: v('CI_COMMIT_TITLE') ?? firstLine(env.CI_COMMIT_MESSAGE),
		commitAuthor: v('CI_COMMIT_AUTHOR'),
		commitTimestamp: v('CI_COMMIT_TIMESTAMP'),
		pipelineId: v('CI_PIPELINE_ID'),
		pipelineIid: v('CI_PIPELINE_IID'),
		pipelineUrl: v('CI_PIPELINE_URL'),
		pipelineSource: v('CI_PIPELINE_SOURCE'),
		jobId: v('CI_JOB_ID'),
		jobName,
		jobUrl: v('CI_JOB_URL'),
		mrIid: int(v('CI_MERGE_REQUEST_IID')),
		mrSourceBranch: mrSource,
		mrTargetBranch: v('CI_MERGE_REQUEST_TARGET_BRANCH_NAME'),
		shardIndex: shard?.index,
		shardTotal: shard?.total,
		projectPath: v('CI_PROJECT_PATH')
	};
}

function get(obj: unknown, ...path: string[]): unknown {
	let cur = obj;
	for (const key of path) {
		if (!cur || typeof cur !== 'object') return undefined;
		cur = (cur as Record<string, unknown>)[key];
	}
	return cur;
}

function readJson(path: string | undefined): unknown {
	if (!path) return undefined;
	try {
		return JSON.parse(readFileSync(path, 'utf8'));
	} catch {
		return undefined;
	}
}

export function githubMetadata(env: Env, readEvent: (path: string | undefined) => unknown = readJson): RawCi {
	const v = (name: string) => value(env, name);
	const event = readEvent(v('GITHUB_EVENT_PATH'));
	const pr = get(event, 'pull_request');
	const repo = v('GITHUB_REPOSITORY');
	const runId = v('GITHUB_RUN_ID');
	const attempt = v('GITHUB_RUN_ATTEMPT');
	const server = v('GITHUB_SERVER_URL') ?? 'https://github.com';
	const isTag = env.GITHUB_REF_TYPE === 'tag' || !!env.GITHUB_REF?.startsWith('refs/tags/');
	const author = get(event, 'head_commit', 'author');
	const authorName = get(author, 'name');
	const authorEmail = get(author, 'email');
	return {
		provider: 'github',
		// In pull request workflows GITHUB_REF_NAME is `123/merge`; GITHUB_HEAD_REF is the branch.
		branch: v('GITHUB_HEAD_REF') ?? (isTag ? undefined : v('GITHUB_REF_NAME')),
		defaultBranch: get(event, 'repository', 'default_branch'),
		tag: isTag ? v('GITHUB_REF_NAME') : undefined,
		// GITHUB_SHA of a pull request workflow is a merge commit that exists nowhere else.
		commitSha: get(pr, 'head', 'sha') ?? v('GITHUB_SHA'),
		commitTitle: firstLine(get(event, 'head_commit', 'message')),
		commitAuthor: typeof authorName === 'string' ? (typeof authorEmail === 'string' ? `${authorName} <${authorEmail}>` : authorName) : undefined,
		commitTimestamp: get(event, 'head_commit', 'timestamp'),
		pipelineId: runId,
		pipelineIid: v('GITHUB_RUN_NUMBER'),
		pipelineUrl: repo && runId ? `${server}/${repo}/actions/runs/${runId}${attempt ? `/attempts/${attempt}` : ''}` : undefined,
		pipelineSource: v('GITHUB_EVENT_NAME'),
		jobName: v('GITHUB_JOB'),
		mrIid: get(pr, 'number'),
		mrSourceBranch: pr ? v('GITHUB_HEAD_REF') : undefined,
		mrTargetBranch: pr ? v('GITHUB_BASE_REF') : undefined,
		projectPath: repo
	};
}

/** `FLACKYNESS_BRANCH`, `FLACKYNESS_COMMIT_SHA`, … : one variable per field, winning over detection. */
export function overrideMetadata(env: Env): RawCi {
	const raw: RawCi = {};
	for (const field of CI_FIELDS) {
		const v = value(env, `FLACKYNESS_${envSuffix(field)}`);
		if (v !== undefined) raw[field] = NUMERIC_FIELDS.has(field) ? (int(v) ?? v) : v;
	}
	return raw;
}

/** The URL without `user:password@`, or undefined when it is not a URL. */
export function stripUserinfo(url: string): string | undefined {
	try {
		const u = new URL(url);
		u.username = '';
		u.password = '';
		return u.toString();
	} catch {
		return undefined;
	}
}

/** Keeps the fields that pass `ciMetadataSchema`, drops the rest: bad metadata must not cost the run. */
export function sanitizeCi(raw: RawCi): CiMetadata {
	const out: Record<string, unknown> = {};
	for (const field of CI_FIELDS) {
		let v = raw[field];
		if (v === undefined || v === null) continue;
		if (typeof v === 'string') {
			// eslint-disable-next-line no-control-regex
			v = v.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
			if (URL_FIELDS.has(field)) v = stripUserinfo(v as string);
			const max = TRUNCATE[field];
			if (max !== undefined && typeof v === 'string') v = v.slice(0, max);
		}
		const parsed = ciMetadataSchema.shape[field].safeParse(v);
		if (parsed.success && parsed.data !== undefined) out[field] = parsed.data;
	}
	if (typeof out.shardIndex === 'number' && typeof out.shardTotal === 'number' && out.shardIndex > out.shardTotal) {
		delete out.shardIndex;
		delete out.shardTotal;
	}
	const checked = ciMetadataSchema.safeParse(out);
	return checked.success ? checked.data : {};
}

function defined(raw: RawCi): RawCi {
	return Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined && v !== null)) as RawCi;
}

export interface DetectCiInput {
	env: Env;
	/** Playwright's `config.shard`: what actually ran wins over what the environment says. */
	shard?: { current: number; total: number } | null;
	/** Where to ask git, for local runs. */
	cwd: string;
	git?: GitRunner;
	readEvent?: (path: string | undefined) => unknown;
}

export function detectCi(input: DetectCiInput): CiMetadata {
	const { env } = input;
	let raw: RawCi;
	if (isGitLab(env)) raw = gitlabMetadata(env);
	else if (env.GITHUB_ACTIONS === 'true') raw = githubMetadata(env, input.readEvent);
	else raw = { provider: env.CI && env.CI !== 'false' ? 'other' : 'local' };
	raw = { ...defined(raw), ...defined(overrideMetadata(env)) };
	if (input.shard) {
		raw.shardIndex = input.shard.current;
		raw.shardTotal = input.shard.total;
	}
	if ((raw.provider === 'local' || raw.provider === 'other') && (raw.branch === undefined || raw.commitSha === undefined)) {
		raw = { ...defined({ ...readGit(input.cwd, input.git ?? runGit) }), ...raw };
	}
	return sanitizeCi(raw);
}

/**
 * The metadata as `X-Flackyness-*` headers. Values outside printable ASCII (commit titles, author
 * names) and values holding `%` are percent-encoded as UTF-8 (header values are bytes, not text);
 * the server decodes every value with decodeURIComponent, keeping it as is when that fails.
 */
export function ciHeaders(meta: CiMetadata): Record<string, string> {
	const headers: Record<string, string> = {};
	for (const field of CI_FIELDS) {
		const v = meta[field];
		if (v === undefined) continue;
		const s = String(v);
		headers[headerName(field)] = /^[\x20-\x24\x26-\x7e]*$/.test(s) ? s : encodeURIComponent(s);
	}
	return headers;
}
