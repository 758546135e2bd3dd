import { error, fail } from '@sveltejs/kit';
import { call, get } from '$lib/server/api';
import type { UserInfo } from '$lib/types';
import type { Actions, PageServerLoad } from './$types';

export const load = (async (event) => {
	const { user } = await event.parent();
	if (user.role !== 'admin') error(403, 'Only admins manage users.');
	const { users } = await get<{ users: UserInfo[] }>(event, '/admin/users');
	return { users };
}) satisfies PageServerLoad;

const idOf = (form: FormData) => {
	const id = String(form.get('id') ?? '');
	return /^[0-9a-f-]{36}$/i.test(id) ? id : null;
};

export const actions = {
	create: async (event) => {
		const form = await event.request.formData();
		const email = String(form.get('email') ?? '').trim();
		const role = form.get('role') === 'admin' ? 'admin' : 'viewer';
		if (!email) return fail(400, { action: 'create', email, message: 'Enter an e-mail address.' });
		const r = await call<{ user: UserInfo; password: string }>(event, 'POST', '/admin/users', { email, role });
		if (!r.ok) return fail(r.status === 409 ? 409 : 400, { action: 'create', email, message: r.message.replace(/^body\.email: /, 'E-mail: ') });
		return { action: 'create', secret: r.data.password, who: r.data.user.email, done: `${r.data.user.email} can sign in now as ${role}.` };
	},
	role: async (event) => {
		const form = await event.request.formData();
		const id = idOf(form);
		const role = form.get('role') === 'admin' ? 'admin' : 'viewer';
		if (!id) return fail(400, { action: 'list', message: 'Pick a user.' });
		const r = await call<{ user: UserInfo }>(event, 'PATCH', `/admin/users/${id}`, { role });
		if (!r.ok) return fail(r.status === 409 ? 409 : 400, { action: 'list', message: r.message });
		return { action: 'list', done: `${r.data.user.email} is now ${r.data.user.role}.` };
	},
	reset: async (event) => {
		const form = await event.request.formData();
		const id = idOf(form);
		if (!id) return fail(400, { action: 'list', message: 'Pick a user.' });
		const r = await call<{ password: string }>(event, 'POST', `/admin/users/${id}/reset-password`, {});
		if (!r.ok) return fail(400, { action: 'list', message: r.message });
		return { action: 'list', secret: r.data.password, who: String(form.get('email') ?? ''), done: 'Password reset; their other sessions have ended.' };
	},
	remove: async (event) => {
		const form = await event.request.formData();
		const id = idOf(form);
		if (!id) return fail(400, { action: 'list', message: 'Pick a user.' });
		const r = await call(event, 'DELETE', `/admin/users/${id}`);
		if (!r.ok) return fail(r.status === 409 ? 409 : 400, { action: 'list', message: r.message });
		return { action: 'list', done: `${String(form.get('email') ?? 'The user')} was deleted and signed out.` };
	}
} satisfies Actions;
