import { execFileSync } from 'node:child_process';

export interface GitInfo {
	branch?: string;
	commitSha?: string;
	commitTimestamp?: string;
	commitAuthor?: string;
	commitTitle?: string;
}

/** Runs git with a short timeout; undefined on any failure (no git, not a repository, slow disk). */
export type GitRunner = (args: string[], cwd: string) => string | undefined;

export const runGit: GitRunner = (args, cwd) => {
	try {
		return execFileSync('git', args, {
			cwd,
			encoding: 'utf8',
			timeout: 2000,
			stdio: ['ignore', 'pipe', 'ignore'],
			windowsHide: true
		});
	} catch {
		return undefined;
	}
};

/** Branch and last commit of the working copy at `cwd`, for local runs. */
export function readGit(cwd: string, git: GitRunner = runGit): GitInfo {
	const info: GitInfo = {};
	const branch = git(['rev-parse', '--abbrev-ref', 'HEAD'], cwd)?.trim();
	// A detached HEAD has no branch name.
	if (branch && branch !== 'HEAD') info.branch = branch;
	const log = git(['log', '-1', '--format=%H%x00%cI%x00%an <%ae>%x00%s'], cwd);
	if (log) {
		const [sha, timestamp, author, title] = log.replace(/\n$/, '').split('\0');
		if (sha) info.commitSha = sha;
		if (timestamp) info.commitTimestamp = timestamp;
		if (author && author !== ' <>') info.commitAuthor = author;
		if (title) info.commitTitle = title;
	}
	return info;
}
