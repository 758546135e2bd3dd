import type { PrismaClient } from '../generated/prisma/client.js';
import type { SecretBox } from '../lib/secrets.js';
import { latestRunLinks, recordGitlabCheck, type GitlabIntegrationRow } from '../repositories/gitlab.js';
import { GitlabClient, GitlabError, type GitlabClientOptions, type GitlabFailure, type GitlabProject } from './gitlab-client.js';

/** Binds a sealed token to its row: copied into another project's row, it does not open. */
export const tokenContext = (projectId: string) => `gitlab_integrations.token:${projectId}`;

const ACCESS_LEVELS: Record<number, string> = { 5: 'Minimal', 10: 'Guest', 15: 'Planner', 20: 'Reporter', 30: 'Developer', 40: 'Maintainer', 50: 'Owner' };
const DEVELOPER = 30;

export type CheckStatus = 'ok' | 'no_project' | 'unreadable_token' | GitlabFailure;

export interface CheckResult {
	ok: boolean;
	status: CheckStatus;
	message: string;
	gitlabProject: string | null;
	project?: { id: number; name: string; pathWithNamespace: string; webUrl: string };
	/** The token's role on the project, e.g. "Developer". */
	access?: string;
	scopes?: string[];
	checkedAt: Date;
}

/**
 * The GitLab project path from a pipeline or job link: https://gitlab.example.com/[root/]group/app/-/pipelines/1
 * → group/app. A relative URL root (GitLab served under /gitlab) is taken off when it matches.
 */
export function projectPathFromLink(link: string, gitlabUrl: string): string | null {
	let u: URL;
	try {
		u = new URL(link);
	} catch {
		return null;
	}
	const at = u.pathname.indexOf('/-/');
	if (at <= 0) return null;
	let path = u.pathname.slice(0, at);
	const root = URL.canParse(gitlabUrl) ? new URL(gitlabUrl).pathname.replace(/\/+$/, '') : '';
	if (root && path.startsWith(`${root}/`)) path = path.slice(root.length);
	try {
		path = decodeURIComponent(path.replace(/^\/+/, ''));
	} catch {
		// A CI link with bad percent-encoding (%zz) names no project; the connection must still answer.
		return null;
	}
	return path.includes('/') ? path : null;
}

/** The project to talk to: the one set in the connection, else the one the latest GitLab CI run came from. */
export async function effectiveGitlabProject(prisma: PrismaClient, row: GitlabIntegrationRow): Promise<{ path: string | null; from: 'settings' | 'runs' | null }> {
	if (row.gitlabProject) return { path: row.gitlabProject, from: 'settings' };
	const links = await latestRunLinks(prisma, row.projectId);
	for (const link of [links?.pipelineUrl, links?.jobUrl]) {
		const path = link ? projectPathFromLink(link, row.url) : null;
		if (path) return { path, from: 'runs' };
	}
	return { path: null, from: null };
}

function accessOf(p: GitlabProject): number | null {
	const levels = [p.permissions?.project_access?.access_level, p.permissions?.group_access?.access_level].filter((l): l is number => typeof l === 'number');
	return levels.length ? Math.max(...levels) : null;
}

async function scopesOf(client: GitlabClient): Promise<string[] | undefined> {
	try {
		const self = await client.getTokenSelf();
		return Array.isArray(self.scopes) ? self.scopes : undefined;
	} catch (err) {
		// Older GitLab versions lack the endpoint; the project answer alone must then do.
		if (err instanceof GitlabError && (err.kind === 'not_found' || err.kind === 'bad_url' || err.kind === 'no_access')) return undefined;
		throw err;
	}
}

function success(row: GitlabIntegrationRow, path: string, p: GitlabProject, scopes: string[] | undefined): Omit<CheckResult, 'checkedAt'> {
	const level = accessOf(p);
	const access = level === null ? undefined : (ACCESS_LEVELS[level] ?? `level ${level}`);
	const project = { id: p.id, name: p.name, pathWithNamespace: p.path_with_namespace, webUrl: p.web_url };
	const base = { gitlabProject: path, project, ...(access ? { access } : {}), ...(scopes ? { scopes } : {}) };
	if (scopes && !scopes.includes('api')) {
		return {
			...base,
			ok: false,
			status: 'missing_scope',
			message: `The token can read "${p.path_with_namespace}" but has only the scopes ${scopes.join(', ') || '(none)'}: notes and statuses need the "api" scope.`
		};
	}
	const warn = row.commitStatus && level !== null && level < DEVELOPER ? ` Commit statuses need the Developer role; this token has ${access}.` : '';
	return {
		...base,
		ok: warn === '',
		status: warn ? 'no_access' : 'ok',
		message: `Connected to GitLab: project "${p.name}" (${p.path_with_namespace})${access ? `, the token has ${access} access` : ''}.${warn}`
	};
}

type ProbeOptions = Pick<GitlabClientOptions, 'timeoutMs' | 'observe'>;

async function probe(prisma: PrismaClient, secrets: SecretBox, row: GitlabIntegrationRow, opts: ProbeOptions): Promise<Omit<CheckResult, 'checkedAt'>> {
	const { path } = await effectiveGitlabProject(prisma, row);
	let token: string;
	try {
		token = secrets.open(row.tokenSealed, tokenContext(row.projectId));
	} catch (err) {
		return { ok: false, status: 'unreadable_token', message: (err as Error).message, gitlabProject: path };
	}
	if (!path) {
		return {
			ok: false,
			status: 'no_project',
			message: 'No GitLab project known yet: set the GitLab project (e.g. group/app), or send a run from GitLab CI first.',
			gitlabProject: null
		};
	}
	const client = new GitlabClient({ baseUrl: row.url, token, ...opts });
	try {
		const project = await client.getProject(path);
		return success(row, path, project, await scopesOf(client));
	} catch (err) {
		if (!(err instanceof GitlabError)) throw err;
		const message =
			err.kind === 'not_found' ? `GitLab found no project "${path}" the token can see (404): check the path, or add the token's user to the project.` : err.message;
		return { ok: false, status: err.kind, message, gitlabProject: path };
	}
}

/**
 * "Test connection": asks GitLab for the project with the stored token and says what is wrong, in
 * words; the answer is kept. Null when the connection was removed or changed while GitLab was asked:
 * the answer then belongs to no stored connection.
 */
export async function checkGitlabConnection(
	prisma: PrismaClient,
	secrets: SecretBox,
	row: GitlabIntegrationRow,
	opts: ProbeOptions = {}
): Promise<CheckResult | null> {
	const result = await probe(prisma, secrets, row, opts);
	const checkedAt = await recordGitlabCheck(prisma, row, { status: result.status, message: result.message });
	return checkedAt ? { ...result, checkedAt } : null;
}
