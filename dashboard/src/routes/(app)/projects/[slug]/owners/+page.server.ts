import { get } from '$lib/server/api';
import type { OwnersList } from '$lib/types';
import type { PageServerLoad } from './$types';

export const load = (async (event) => {
	const { project } = await event.parent();
	return { list: await get<OwnersList>(event, `/projects/${encodeURIComponent(project.slug)}/owners`) };
}) satisfies PageServerLoad;
