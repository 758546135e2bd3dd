import { findGitlabIntegration } from '../repositories/gitlab.js';
import {
	defaultBranchName,
	failReport,
	findMrNote,
	finishReport,
	pipelineFailures,
	pipelineRuns,
	pipelineTotals,
	saveMrNote,
	withNoteLock,
	type ClaimedReport
} from '../repositories/gitlab-reports.js';
import { GitlabError, type GitlabClient } from './gitlab-client.js';
import { openConnection, Unreportable, type ReportDeps } from './gitlab-connection.js';
import { projectPathFromLink } from './gitlab.js';
import { deliverIssue } from './gitlab-issues.js';
import { judge, renderNote, statusDescription, type Judged } from './gitlab-note.js';

/**
 * Writes one pipeline's verdicts to GitLab: the `flackyness` commit status and the merge request's
 * note (created once, then updated by later pipelines; created again if someone deleted it). Runs
 * from the gitlab_jobs queue, never from ingestion or analysis: a slow or failing GitLab delays only
 * this, and failures are retried with backoff (honouring Retry-After) and shown to admins.
 */

/** Failed and flaky tests listed in one note; more are counted, not listed. */
const LISTED = 200;
const MAX_BACKOFF_MS = 3_600_000;
/** A Retry-After beyond this is not believed. */
const MAX_RETRY_AFTER_MS = 6 * 3_600_000;

/** Numeric pipeline ids compare as numbers: an older pipeline's late report must not replace a newer note. */
function olderPipeline(a: string, b: string): boolean {
	return /^\d+$/.test(a) && /^\d+$/.test(b) ? BigInt(a) < BigInt(b) : false;
}

async function writeNote(deps: ReportDeps, client: GitlabClient, key: { projectId: string; gitlabProject: string; mrIid: number }, pipelineId: string, body: string): Promise<string> {
	return withNoteLock(deps.pool, key, async () => {
		const kept = await findMrNote(deps.prisma, key.projectId, key.gitlabProject, key.mrIid);
		if (kept && olderPipeline(pipelineId, kept.pipelineId)) return `note on !${key.mrIid} left as pipeline ${kept.pipelineId} wrote it (newer)`;
		if (kept) {
			try {
				await client.updateMrNote(key.gitlabProject, key.mrIid, Number(kept.noteId), body);
				await saveMrNote(deps.prisma, key, Number(kept.noteId), pipelineId);
				return `note updated on !${key.mrIid}`;
			} catch (err) {
				// Someone deleted the note: write a new one.
				if (!(err instanceof GitlabError && err.kind === 'not_found')) throw err;
			}
		}
		const note = await client.createMrNote(key.gitlabProject, key.mrIid, body);
		await saveMrNote(deps.prisma, key, note.id, pipelineId);
		return `note ${kept ? 'written again' : 'written'} on !${key.mrIid}`;
	});
}

/** Does the work of one claimed pipeline report; answers what was written, in words. */
export async function deliverReport(deps: ReportDeps, job: ClaimedReport): Promise<string> {
	const integration = await findGitlabIntegration(deps.prisma, job.projectId);
	if (!integration || (!integration.mrNotes && !integration.commitStatus)) return 'nothing to write: no GitLab connection, or notes and statuses off';
	const runs = await pipelineRuns(deps.pool, job.projectId, job.pipelineId);
	if (runs.length === 0) return 'nothing to write: the pipeline has no runs (deleted)';
	const { client, gitlabProject } = await openConnection(deps, integration, [
		...runs.map((r) => r.projectPath),
		...runs.map((r) => projectPathFromLink(r.pipelineUrl ?? r.jobUrl ?? '', integration.url))
	]);

	const runIds = runs.map((r) => r.id);
	const totals = await pipelineTotals(deps.pool, runIds);
	const listed = await pipelineFailures(deps.pool, runIds, LISTED);
	const start = runs.reduce((min, r) => (r.startedAt < min ? r.startedAt : min), runs[0]!.startedAt);
	const results: Judged[] = listed.map((r) => ({ ...r, kind: judge(r, start) }));
	const input = {
		pipelineId: job.pipelineId,
		runs,
		totals,
		results,
		omitted: Math.max(0, totals.failed + totals.flaky - listed.length),
		defaultBranch: await defaultBranchName(deps.pool, job.projectId),
		dashboard: deps.dashboard
	};
	const done: string[] = [];

	const sha = runs.find((r) => r.commitSha)?.commitSha;
	if (integration.commitStatus && sha) {
		const status = statusDescription(
			results.filter((r) => r.outcome === 'unexpected'),
			input
		);
		const target = runs.find((r) => r.unexpected > 0) ?? runs[0]!;
		const ref = runs.find((r) => r.branch)?.branch;
		await client.setCommitStatus(gitlabProject, sha, {
			state: status.state,
			name: 'flackyness',
			description: status.description,
			target_url: `${deps.dashboard}/runs/${target.id}`,
			...(ref ? { ref } : {}),
			...(/^\d+$/.test(job.pipelineId) && Number(job.pipelineId) <= Number.MAX_SAFE_INTEGER ? { pipeline_id: Number(job.pipelineId) } : {})
		});
		done.push(`status ${status.state} on ${sha.slice(0, 8)}`);
	}
	const mrIid = runs.find((r) => r.mrIid !== null)?.mrIid;
	if (integration.mrNotes && mrIid != null) {
		done.push(await writeNote(deps, client, { projectId: job.projectId, gitlabProject, mrIid }, job.pipelineId, renderNote(input)));
	}
	return done.length ? done.join('; ') : 'nothing to write: not a merge request pipeline, and no commit';
}

export function backoffMs(attempt: number, baseMs: number, retryAfter?: number): number {
	const backoff = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.max(0, attempt - 1));
	return Math.max(backoff, Math.min(retryAfter ?? 0, MAX_RETRY_AFTER_MS));
}

export interface ReportOutcome {
	outcome: 'done' | 'retry' | 'failed';
	message: string;
	kind?: string;
}

/** Delivers a claimed report and records what happened on its row; never throws for GitLab's answers. */
export async function processReport(deps: ReportDeps, job: ClaimedReport): Promise<ReportOutcome> {
	try {
		const message = job.kind === 'issue' ? await deliverIssue(deps, job) : await deliverReport(deps, job);
		await finishReport(deps.pool, job, message);
		return { outcome: 'done', message };
	} catch (err) {
		const final = err instanceof Unreportable || (err instanceof GitlabError && !err.retryable);
		const kind = err instanceof Unreportable || err instanceof GitlabError ? err.kind : 'internal';
		const retryAfter = err instanceof GitlabError ? err.retryAfterMs : undefined;
		const message = (err as Error).message;
		const outcome = await failReport(deps.pool, job, { kind, message, delayMs: backoffMs(job.attempts, deps.retryBaseMs, retryAfter), final });
		return { outcome, message, kind };
	}
}
