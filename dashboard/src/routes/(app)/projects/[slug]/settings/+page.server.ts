import { error, fail, redirect } from '@sveltejs/kit';
import { call, get } from '$lib/server/api';
import type { SettingsView, TokenInfo } from '$lib/types';
import { FIELDS, settingsBody } from './fields';
import { gitlabBody, gitlabMessage, type GitlabCheck, type GitlabView } from './gitlab';
import type { Actions, PageServerLoad } from './$types';

export const load = (async (event) => {
	const { project, user } = await event.parent();
	if (user.role !== 'admin') error(403, 'Only admins see a project’s tokens and thresholds.');
	const slug = encodeURIComponent(project.slug);
	const [tokens, settings, gitlab] = await Promise.all([
		get<{ tokens: TokenInfo[] }>(event, `/admin/projects/${slug}/tokens`),
		get<SettingsView>(event, `/projects/${slug}/settings`),
		call<GitlabView>(event, 'GET', `/projects/${slug}/integrations/gitlab`)
	]);
	// Only a 404 means "not connected yet"; showing any other failure as that would invite connecting again.
	if (!gitlab.ok && gitlab.status !== 404) {
		console.error(`flackyness dashboard: GET the GitLab connection of ${project.slug} answered ${gitlab.status}: ${gitlab.message}`);
		if (gitlab.status < 500) error(gitlab.status, gitlab.message);
		error(502, 'The Flackyness API could not answer the GitLab connection. Try again in a moment.');
	}
	return { tokens: tokens.tokens, settings, fields: FIELDS, gitlab: gitlab.ok ? gitlab.data : null };
}) satisfies PageServerLoad;

/** "body.analysis.credibleMass: Too big…" → "Credible interval: Too big…". */
function inWords(message: string): string {
	const m = /^body\.(analysis|infraGuard)\.(\w+): (.*)$/.exec(message);
	const field = m && FIELDS.find((f) => f.group === m[1] && f.key === m[2]);
	return field ? `${field.label}: ${m[3]}` : message.replace(/^body\.defaultBranch: /, 'Default branch: ');
}

const slugOf = (params: { slug: string }) => encodeURIComponent(params.slug);

export const actions = {
	createToken: async (event) => {
		const r = await call<{ token: string }>(event, 'POST', `/admin/projects/${slugOf(event.params)}/rotate-token`);
		if (!r.ok) return fail(r.status === 403 ? 403 : 400, { action: 'tokens', message: r.message });
		return { action: 'tokens', secret: r.data.token, done: 'New token created. Older tokens keep working until you revoke them.' };
	},
	rotate: async (event) => {
		const r = await call<{ token: string; revoked: number }>(event, 'POST', `/admin/projects/${slugOf(event.params)}/rotate-token?revokeOthers=true`);
		if (!r.ok) return fail(r.status === 403 ? 403 : 400, { action: 'tokens', message: r.message });
		return {
			action: 'tokens',
			secret: r.data.token,
			done: `Token rotated: ${r.data.revoked} older token${r.data.revoked === 1 ? '' : 's'} revoked. Update FLACKYNESS_TOKEN in your CI variables now.`
		};
	},
	revoke: async (event) => {
		const form = await event.request.formData();
		const tokenId = String(form.get('tokenId') ?? '');
		if (!/^[0-9a-f-]{36}$/i.test(tokenId)) return fail(400, { action: 'tokens', message: 'Pick a token to revoke.' });
		const r = await call(event, 'DELETE', `/admin/projects/${slugOf(event.params)}/tokens/${tokenId}`);
		if (!r.ok) return fail(r.status === 403 ? 403 : 400, { action: 'tokens', message: r.message });
		return { action: 'tokens', done: 'Token revoked: CI jobs still using it are refused from now on.' };
	},
	thresholds: async (event) => {
		const form = await event.request.formData();
		const { body, problem } = settingsBody(form);
		const values = Object.fromEntries([...form.entries()].map(([k, v]) => [k, String(v)]));
		if (problem) return fail(400, { action: 'thresholds', message: problem, values });
		const r = await call<{ queuedJobs: number }>(event, 'PUT', `/projects/${slugOf(event.params)}/settings`, body);
		if (!r.ok) return fail(400, { action: 'thresholds', message: inWords(r.message), values });
		return { action: 'thresholds', done: 'Thresholds saved. Every test is being analysed again with them.' };
	},
	gitlabSave: async (event) => {
		const form = await event.request.formData();
		// Echo what was typed, except the token: it never travels back to the browser.
		const values = Object.fromEntries([...form.entries()].filter(([k]) => k !== 'token').map(([k, v]) => [k, String(v)]));
		const r = await call<GitlabView>(event, 'PUT', `/projects/${slugOf(event.params)}/integrations/gitlab`, gitlabBody(form));
		if (!r.ok) return fail(r.status === 403 ? 403 : 400, { action: 'gitlab', message: gitlabMessage(r.message), values });
		return { action: 'gitlab', done: 'GitLab connection saved. Test it to see that the token works.' };
	},
	gitlabTest: async (event) => {
		const r = await call<GitlabCheck>(event, 'POST', `/projects/${slugOf(event.params)}/integrations/gitlab/test`);
		if (!r.ok) return fail(r.status === 403 ? 403 : 400, { action: 'gitlab', message: r.message });
		return { action: 'gitlab', check: r.data };
	},
	gitlabRemove: async (event) => {
		const r = await call(event, 'DELETE', `/projects/${slugOf(event.params)}/integrations/gitlab`);
		if (!r.ok) return fail(r.status === 403 ? 403 : 400, { action: 'gitlab', message: r.message });
		return { action: 'gitlab', done: 'GitLab connection removed; its token is deleted.' };
	},
	gitlabRetry: async (event) => {
		const r = await call<{ requeued: number }>(event, 'POST', `/projects/${slugOf(event.params)}/integrations/gitlab/reports/retry`);
		if (!r.ok) return fail(r.status === 403 ? 403 : 400, { action: 'gitlab', message: r.message });
		return { action: 'gitlab', done: `${r.data.requeued} report${r.data.requeued === 1 ? '' : 's'} will be sent again in a moment.` };
	},
	deleteProject: async (event) => {
		const form = await event.request.formData();
		if (String(form.get('confirm') ?? '').trim() !== event.params.slug) {
			return fail(400, { action: 'delete', message: `Type "${event.params.slug}" to confirm.` });
		}
		const r = await call(event, 'DELETE', `/admin/projects/${slugOf(event.params)}`);
		if (!r.ok) return fail(400, { action: 'delete', message: r.message });
		redirect(303, '/');
	}
} satisfies Actions;
