import { error, fail } from '@sveltejs/kit';
import { call } from '$lib/server/api';
import { publicUrl } from '$lib/server/config';
import type { Actions, PageServerLoad } from './$types';

export const load = (async (event) => {
	const { user } = await event.parent();
	if (user.role !== 'admin') error(403, 'Only admins create projects.');
	return { serverUrl: publicUrl(event.url) };
}) satisfies PageServerLoad;

export const actions = {
	default: async (event) => {
		const form = await event.request.formData();
		const name = String(form.get('name') ?? '').trim();
		const slug = String(form.get('slug') ?? '').trim().toLowerCase();
		const r = await call<{ project: { slug: string; name: string }; token: string }>(event, 'POST', '/admin/projects', { slug, ...(name ? { name } : {}) });
		if (!r.ok) return fail(r.status === 409 ? 409 : 400, { name, slug, message: r.message.replace(/^body\.slug: /, 'Slug: ') });
		return { created: r.data.project, token: r.data.token };
	}
} satisfies Actions;
