import { fail, redirect } from '@sveltejs/kit';
import { call } from '$lib/server/api';
import { dashboardKey } from '$lib/server/config';
import { safeNext, startSession } from '$lib/server/session';
import type { Actions, PageServerLoad } from './$types';

export const load = (async ({ locals, url }) => {
	if (locals.session) redirect(303, safeNext(url.searchParams.get('next')));
	return {};
}) satisfies PageServerLoad;

export const actions = {
	default: async (event) => {
		const form = await event.request.formData();
		const email = String(form.get('email') ?? '').trim();
		const password = String(form.get('password') ?? '');
		if (!email || !password) return fail(400, { email, message: 'Enter your e-mail and password.' });
		const key = dashboardKey();
		const headers: Record<string, string> = key
			? { 'x-flackyness-client-ip': event.getClientAddress(), 'x-flackyness-dashboard-key': key }
			: {};
		const r = await call<{ token: string }>(event, 'POST', '/auth/login', { email, password }, headers);
		if (r.status === 429) return fail(429, { email, message: 'Too many attempts. Wait a minute, then try again.' });
		if (!r.ok) return fail(400, { email, message: r.status === 401 ? 'Wrong e-mail or password.' : r.message });
		startSession(event, r.data.token);
		redirect(303, safeNext(event.url.searchParams.get('next')));
	}
} satisfies Actions;
