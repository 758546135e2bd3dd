import { error, fail, redirect } from '@sveltejs/kit';
import { call, get } from '$lib/server/api';
import type { SettingsView, TokenInfo, WebhookDelivery, WebhookView } from '$lib/types';
import { FIELDS, settingsBody } from './fields';
import { gitlabBody, gitlabMessage, type GitlabCheck, type GitlabView } from './gitlab';
import { webhookBody, webhookMessage } from './notifications';
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
	// The last deliveries of each webhook, for the delivery log (a webhook's log failing to load leaves it empty).
	const { webhooks } = await get<{ webhooks: WebhookView[] }>(event, `/projects/${slug}/webhooks`);
	const logs = await Promise.all(
		webhooks.map(async (w) => {
			const r = await call<{ deliveries: WebhookDelivery[] }>(event, 'GET', `/projects/${slug}/webhooks/${w.id}/deliveries?limit=10`);
			return r.ok ? r.data.deliveries : [];
		})
	);
	return {
		tokens: tokens.tokens,
		settings,
		fields: FIELDS,
		gitlab: gitlab.ok ? gitlab.data : null,
		webhooks: webhooks.map((w, i) => ({ ...w, log: logs[i] ?? [] }))
	};
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
	webhookAdd: async (event) => {
		const form = await event.request.formData();
		// Echo what was typed except the URL and the secret: they never travel back to the browser.
		const values: Record<string, string> = { kind: String(form.get('kind') ?? ''), owners: String(form.get('owners') ?? ''), events: form.getAll('events').map(String).join(',') };
		const r = await call<WebhookView>(event, 'POST', `/projects/${slugOf(event.params)}/webhooks`, webhookBody(form));
		if (!r.ok) return fail(r.status === 403 ? 403 : 400, { action: 'webhooks', message: webhookMessage(r.message), values });
		return { action: 'webhooks', done: `Webhook to ${r.data.host} added: it is told of what happens from now on.` };
	},
	webhookDelete: async (event) => {
		const form = await event.request.formData();
		const id = String(form.get('webhookId') ?? '');
		if (!/^[0-9a-f-]{36}$/i.test(id)) return fail(400, { action: 'webhooks', message: 'Pick a webhook to delete.' });
		const r = await call(event, 'DELETE', `/projects/${slugOf(event.params)}/webhooks/${id}`);
		if (!r.ok) return fail(r.status === 403 ? 403 : 400, { action: 'webhooks', message: r.message });
		return { action: 'webhooks', done: 'Webhook deleted, with its URL, secret and delivery log.' };
	},
	webhookResend: async (event) => {
		const form = await event.request.formData();
		const id = String(form.get('webhookId') ?? '');
		const delivery = String(form.get('deliveryId') ?? '');
		if (!/^[0-9a-f-]{36}$/i.test(id) || !/^[0-9a-f-]{36}$/i.test(delivery)) return fail(400, { action: 'webhooks', message: 'Pick a delivery to send again.' });
		const r = await call(event, 'POST', `/projects/${slugOf(event.params)}/webhooks/${id}/deliveries/${delivery}/resend`);
		if (!r.ok) return fail(r.status === 403 ? 403 : 400, { action: 'webhooks', message: r.message });
		return { action: 'webhooks', done: 'The delivery will be sent again in a moment.' };
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
