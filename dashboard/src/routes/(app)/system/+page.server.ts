import { error } from '@sveltejs/kit';
import { get } from '$lib/server/api';
import type { SystemHealth } from '$lib/system';
import type { PageServerLoad } from './$types';

export const load = (async (event) => {
	const { user } = await event.parent();
	if (user.role !== 'admin') error(403, 'Only admins see the system’s health.');
	return { health: await get<SystemHealth>(event, '/admin/health') };
}) satisfies PageServerLoad;
