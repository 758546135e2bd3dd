import { clipText, storableText } from 'flackyness-reporter/protocol';
import type { GitlabIntegration, PrismaClient } from '../generated/prisma/client.js';

export type GitlabIntegrationRow = GitlabIntegration;

export interface GitlabIntegrationInput {
	url: string;
	/** Sealed token; undefined keeps the stored one. */
	tokenSealed?: string | undefined;
	gitlabProject: string | null;
	mrNotes: boolean;
	commitStatus: boolean;
	/** Absent: kept as stored (off and ["flaky-test"] for a new connection). */
	issues?: boolean;
	issueLabels?: string[];
}

export function findGitlabIntegration(prisma: PrismaClient, projectId: string): Promise<GitlabIntegrationRow | null> {
	return prisma.gitlabIntegration.findUnique({ where: { projectId } });
}

/**
 * Creates or replaces the connection. A new token or address makes the last check meaningless, so
 * it is cleared then. Without a token only the connection at `keepUrl` changes: the stored token was
 * given for that address, and a save that changed address or token meanwhile must not be paired with
 * it. Null when there is no such connection (removed, or moved elsewhere, since it was read).
 */
export async function saveGitlabIntegration(
	prisma: PrismaClient,
	projectId: string,
	input: GitlabIntegrationInput,
	resetCheck: boolean,
	keepUrl?: string
): Promise<GitlabIntegrationRow | null> {
	const { tokenSealed, ...fields } = input;
	const update = { ...fields, ...(resetCheck ? { checkedAt: null, checkStatus: null, checkMessage: null } : {}) };
	if (!tokenSealed) {
		const { count } = await prisma.gitlabIntegration.updateMany({ where: { projectId, url: keepUrl ?? fields.url }, data: update });
		return count === 1 ? findGitlabIntegration(prisma, projectId) : null;
	}
	return prisma.gitlabIntegration.upsert({
		where: { projectId },
		create: { projectId, ...fields, tokenSealed },
		update: { ...update, tokenSealed }
	});
}

export async function deleteGitlabIntegration(prisma: PrismaClient, projectId: string): Promise<boolean> {
	const { count } = await prisma.gitlabIntegration.deleteMany({ where: { projectId } });
	return count === 1;
}

/**
 * Keeps a check's answer on the connection that was checked; GitLab's words may hold anything, so
 * they are made storable first. Null when that connection was removed or got another address or
 * token while GitLab was asked.
 */
export async function recordGitlabCheck(
	prisma: PrismaClient,
	checked: Pick<GitlabIntegrationRow, 'projectId' | 'url' | 'tokenSealed'>,
	check: { status: string; message: string }
): Promise<Date | null> {
	const checkedAt = new Date();
	const { count } = await prisma.gitlabIntegration.updateMany({
		where: { projectId: checked.projectId, url: checked.url, tokenSealed: checked.tokenSealed },
		data: { checkedAt, checkStatus: check.status, checkMessage: clipText(storableText(check.message), 2000) }
	});
	return count === 1 ? checkedAt : null;
}

/** The GitLab pipeline and job links of the project's latest run that has one. */
export function latestRunLinks(prisma: PrismaClient, projectId: string): Promise<{ pipelineUrl: string | null; jobUrl: string | null } | null> {
	return prisma.run.findFirst({
		where: { projectId, OR: [{ pipelineUrl: { not: null } }, { jobUrl: { not: null } }] },
		orderBy: { startedAt: 'desc' },
		select: { pipelineUrl: true, jobUrl: true }
	});
}
