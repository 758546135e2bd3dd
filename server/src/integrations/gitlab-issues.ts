import { findGitlabIntegration } from '../repositories/gitlab.js';
import { findIssue, issueSubject, saveIssue, type ClaimedReport, type IssueSubject } from '../repositories/gitlab-reports.js';
import { GitlabError } from './gitlab-client.js';
import { openConnection, type ReportDeps } from './gitlab-connection.js';
import { code, duration, percent, testName } from './gitlab-note.js';

/**
 * One GitLab issue per flaky test: opened when the test becomes flaky, its description kept to the
 * latest evidence, closed when the test is fixed, reopened (never a second one) if it flakes again.
 * Driven by the test's events through the GitLab queue; each job acts on the test's current verdict.
 */

const CLOSE = new Set(['fixed', 'healthy']);

const day = (d: Date | null) => (d ? d.toISOString().slice(0, 10) : 'unknown');

export function issueTitle(t: IssueSubject): string {
	const title = `Flaky test: ${testName(t)}`;
	return title.length > 250 ? `${title.slice(0, 249)}…` : title;
}

/** The issue's description: the verdict with its evidence, owners mentioned (GitLab notifies them). */
export function issueDescription(t: IssueSubject, dashboard: string): string {
	const chance = t.score !== null && t.scoreLow !== null && t.scoreHigh !== null ? `${percent(t.score)} of attempts fail (${percent(t.scoreLow)}–${percent(t.scoreHigh)})` : 'failure chance not estimated yet';
	const lines = [
		'<!-- flackyness:issue -->',
		`**Test:** ${code(testName(t), 500)}`,
		'',
		`**Verdict:** ${t.state ?? 'not analysed'} since ${day(t.stateSince)} · ${chance}`,
		`**Evidence:** ${t.runs ?? 0} runs, ${t.failures ?? 0} failed, ${t.flakyRuns ?? 0} passed only on retry · first seen flaky ${day(t.firstDetectedAt)}, last ${day(t.lastFlakyAt)}`,
		`**CI time lost:** about ${duration((t.impactMinutes ?? 0) * 60_000)} a day`
	];
	if (t.quarantineReason !== null) lines.push(`**Quarantined:** ${code(t.quarantineReason, 300)}${t.quarantineUntil ? ` until ${day(t.quarantineUntil)}` : ''}`);
	const owners = t.owners.filter((o) => /^@[\w.\-/]+$/.test(o));
	if (owners.length > 0) lines.push(`**Owners:** ${owners.join(' ')}`);
	lines.push('', `[History and evidence in Flackyness](${dashboard}/tests/${t.testId}) · this issue is kept up to date by Flackyness and closed when the test is fixed.`);
	return lines.join('\n');
}

export async function deliverIssue(deps: ReportDeps, job: ClaimedReport): Promise<string> {
	const integration = await findGitlabIntegration(deps.prisma, job.projectId);
	if (!integration?.issues) return 'nothing to write: issues are off';
	const t = await issueSubject(deps.pool, job.projectId, job.pipelineId);
	if (!t) return 'nothing to write: the test was deleted';
	const kept = await findIssue(deps.prisma, job.projectId, t.testId);
	// A quarantine keeps an issue open; it opens none (a broken test quarantined by a person is no flaky test).
	// Only `flaky` opens one (never `failing`: a branch-only failure is the MR's business), and never for an inactive test.
	const open = t.inactiveSince === null && (t.state === 'flaky' || (t.state === 'quarantined' && kept?.state === 'opened'));
	const close = t.state !== null && CLOSE.has(t.state) && kept?.state === 'opened';
	if (!open && !close) return `nothing to write: the test is ${t.state ?? 'not analysed'}`;

	const { client, gitlabProject } = await openConnection(deps, integration, [kept?.gitlabProject, t.projectPath]);
	const key = { projectId: job.projectId, testId: t.testId };
	const fields = { title: issueTitle(t), description: issueDescription(t, deps.dashboard), labels: (integration.issueLabels ?? []).join(',') };
	if (kept) {
		try {
			const issue = await client.updateIssue(kept.gitlabProject, kept.issueIid, {
				...fields,
				...(open && kept.state === 'closed' ? { state_event: 'reopen' as const } : {}),
				...(close ? { state_event: 'close' as const } : {})
			});
			await saveIssue(deps.prisma, key, { gitlabProject: kept.gitlabProject, issueIid: issue.iid, webUrl: issue.web_url, state: issue.state });
			return `issue #${issue.iid} ${close ? 'closed' : kept.state === 'closed' ? 'reopened' : 'updated'}`;
		} catch (err) {
			// Someone deleted the issue: a flaky test gets a new one; a fixed one needs none.
			if (!(err instanceof GitlabError && err.kind === 'not_found')) throw err;
			if (close) {
				await saveIssue(deps.prisma, key, { gitlabProject: kept.gitlabProject, issueIid: kept.issueIid, webUrl: kept.webUrl, state: 'closed' });
				return `issue #${kept.issueIid} was deleted: nothing to close`;
			}
		}
	}
	const issue = await client.createIssue(gitlabProject, fields);
	await saveIssue(deps.prisma, key, { gitlabProject, issueIid: issue.iid, webUrl: issue.web_url, state: issue.state });
	return `issue #${issue.iid} opened`;
}
