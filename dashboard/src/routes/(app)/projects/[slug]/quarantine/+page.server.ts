import { get } from '$lib/server/api';
import type { QuarantineList } from '$lib/types';
import type { PageServerLoad } from './$types';

export const load = (async (event) => {
	const { project } = await event.parent();
	return { list: await get<QuarantineList>(event, `/projects/${encodeURIComponent(project.slug)}/quarantines`) };
}) satisfies PageServerLoad;
