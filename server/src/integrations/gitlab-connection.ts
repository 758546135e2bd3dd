import type pg from 'pg';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { SecretBox } from '../lib/secrets.js';
import type { GitlabIntegrationRow } from '../repositories/gitlab.js';
import { GitlabClient, type GitlabFailure } from './gitlab-client.js';
import { tokenContext } from './gitlab.js';

/** What the GitLab queue's work needs: the database, the secrets, where the dashboard is, limits. */
export interface ReportDeps {
	pool: pg.Pool;
	prisma: PrismaClient;
	secrets: () => Promise<SecretBox>;
	/** The dashboard's base URL, for the links in notes and statuses. */
	dashboard: string;
	timeoutMs: number;
	retryBaseMs: number;
	observe?: (operation: string, outcome: 'ok' | GitlabFailure) => void;
}

/** A report that cannot succeed until someone changes something: not retried. */
export class Unreportable extends Error {
	constructor(
		readonly kind: string,
		message: string
	) {
		super(message);
	}
}

/** The connection's client and GitLab project, or why there is none to write to. */
export async function openConnection(deps: ReportDeps, integration: GitlabIntegrationRow, fallbackPaths: Array<string | null | undefined>): Promise<{ client: GitlabClient; gitlabProject: string }> {
	const gitlabProject = integration.gitlabProject ?? fallbackPaths.find((p): p is string => !!p);
	if (!gitlabProject) throw new Unreportable('no_project', 'No GitLab project known: set the GitLab project in the connection, or send CI_PROJECT_PATH with the runs.');
	let token: string;
	try {
		token = (await deps.secrets()).open(integration.tokenSealed, tokenContext(integration.projectId));
	} catch (err) {
		throw new Unreportable('unreadable_token', `The stored GitLab token cannot be read: ${(err as Error).message}`);
	}
	const client = new GitlabClient({ baseUrl: integration.url, token, timeoutMs: deps.timeoutMs, ...(deps.observe ? { observe: deps.observe } : {}) });
	return { client, gitlabProject };
}

