import { error } from '@sveltejs/kit';
import { get } from '$lib/server/api';
import type { RunDetail } from '$lib/types';
import type { PageServerLoad } from './$types';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const load = (async (event) => {
	if (!UUID.test(event.params.id)) error(404, 'There is no such run.');
	const run = await get<RunDetail>(event, `/runs/${event.params.id}`);
	const { projects } = await event.parent();
	const project = projects.find((p) => p.id === run.projectId) ?? null;
	return { run, project, projectSlug: project?.slug };
}) satisfies PageServerLoad;
