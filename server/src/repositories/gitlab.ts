import type { GitlabIntegration, PrismaClient } from '../generated/prisma/client.js';

export type GitlabIntegrationRow = GitlabIntegration;

export interface GitlabIntegrationInput {
	url: string;
	/** Sealed token; undefined keeps the stored one. */
	tokenSealed?: string | undefined;
	gitlabProject: string | null;
	mrNotes: boolean;
	commitStatus: boolean;
}

export function findGitlabIntegration(prisma: PrismaClient, projectId: string): Promise<GitlabIntegrationRow | null> {
	return prisma.gitlabIntegration.findUnique({ where: { projectId } });
}

/**
 * Creates or replaces the connection. A new token or address makes the last check meaningless, so
 * it is cleared then. Without a token only an existing connection changes.
 */
export function saveGitlabIntegration(prisma: PrismaClient, projectId: string, input: GitlabIntegrationInput, resetCheck: boolean): Promise<GitlabIntegrationRow> {
	const { tokenSealed, ...fields } = input;
	const update = { ...fields, ...(resetCheck ? { checkedAt: null, checkStatus: null, checkMessage: null } : {}) };
	if (!tokenSealed) return prisma.gitlabIntegration.update({ where: { projectId }, data: update });
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

export function recordGitlabCheck(prisma: PrismaClient, projectId: string, check: { status: string; message: string }): Promise<GitlabIntegrationRow> {
	return prisma.gitlabIntegration.update({
		where: { projectId },
		data: { checkedAt: new Date(), checkStatus: check.status, checkMessage: check.message.slice(0, 2000) }
	});
}

/** The GitLab pipeline and job links of the project's latest run that has one. */
export function latestRunLinks(prisma: PrismaClient, projectId: string): Promise<{ pipelineUrl: string | null; jobUrl: string | null } | null> {
	return prisma.run.findFirst({
		where: { projectId, OR: [{ pipelineUrl: { not: null } }, { jobUrl: { not: null } }] },
		orderBy: { startedAt: 'desc' },
		select: { pipelineUrl: true, jobUrl: true }
	});
}
