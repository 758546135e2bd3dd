/** The GitLab connection as GET /api/v1/projects/:id/integrations/gitlab answers it (never the token). */
export interface GitlabView {
	url: string;
	tokenSet: true;
	gitlabProject: string | null;
	effectiveProject: string | null;
	mrNotes: boolean;
	commitStatus: boolean;
	issues: boolean;
	issueLabels: string[];
	createdAt: string;
	updatedAt: string;
	lastCheck: { at: string; ok: boolean; status: string; message: string } | null;
	reports: GitlabReports;
}

/** The queue of pipeline reports (MR notes and commit statuses) to GitLab. */
export interface GitlabReports {
	pending: number;
	retrying: number;
	failed: number;
	lastFailure: { at: string; pipelineId: string; kind: string | null; message: string } | null;
	lastSuccess: { at: string; pipelineId: string; outcome: string | null } | null;
}

/** POST …/integrations/gitlab/test */
export interface GitlabCheck {
	ok: boolean;
	status: string;
	message: string;
	gitlabProject: string | null;
	access?: string;
	checkedAt: string;
}

const LABELS: Record<string, string> = { url: 'GitLab URL', token: 'Access token', gitlabProject: 'GitLab project', mrNotes: 'Merge request notes', commitStatus: 'Commit status', issues: 'Issues for flaky tests', issueLabels: 'Issue labels' };

/** The form's fields as the API takes them; the token only when typed (empty keeps the stored one). */
export function gitlabBody(form: FormData): Record<string, unknown> {
	const text = (k: string) => String(form.get(k) ?? '').trim();
	const body: Record<string, unknown> = {
		url: text('url'),
		gitlabProject: text('gitlabProject') || null,
		mrNotes: form.get('mrNotes') !== null,
		commitStatus: form.get('commitStatus') !== null,
		issues: form.get('issues') !== null,
		issueLabels: text('issueLabels')
			.split(',')
			.map((l) => l.trim())
			.filter(Boolean)
	};
	if (text('token')) body.token = text('token');
	return body;
}

/** "body.url: must be…" → "GitLab URL: must be…". */
export function gitlabMessage(message: string): string {
	const m = /^body\.(\w+): (.*)$/.exec(message);
	return m && LABELS[m[1]!] ? `${LABELS[m[1]!]}: ${m[2]}` : message;
}
