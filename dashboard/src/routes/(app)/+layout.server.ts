import { redirect } from '@sveltejs/kit';
import { get } from '$lib/server/api';
import { loginUrl } from '$lib/server/session';
import type { Project, SessionUser } from '$lib/types';
import type { LayoutServerLoad } from './$types';

export const load = (async (event) => {
	if (!event.locals.session) redirect(303, loginUrl(event.url));
	const [me, list] = await Promise.all([
		get<{ user: SessionUser }>(event, '/auth/me'),
		get<{ projects: Project[] }>(event, '/projects')
	]);
	event.locals.user = me.user;
	return { user: me.user, projects: list.projects };
}) satisfies LayoutServerLoad;
