import { fail } from '@sveltejs/kit';
import { call } from '$lib/server/api';
import { startSession } from '$lib/server/session';
import type { Actions } from './$types';

export const actions = {
	default: async (event) => {
		const form = await event.request.formData();
		const currentPassword = String(form.get('currentPassword') ?? '');
		const newPassword = String(form.get('newPassword') ?? '');
		if (newPassword !== String(form.get('repeat') ?? '')) return fail(400, { message: 'The two new passwords differ.' });
		const r = await call<{ token: string }>(event, 'POST', '/auth/password', { currentPassword, newPassword });
		if (r.status === 429) return fail(429, { message: 'Too many attempts. Wait a minute.' });
		if (!r.ok) return fail(400, { message: r.message.replace(/^body\.(currentPassword|newPassword): /, (_, f) => (f === 'newPassword' ? 'New password: ' : '')) });
		startSession(event, r.data.token);
		return { done: 'Password changed. Your other sessions have ended.' };
	}
} satisfies Actions;
