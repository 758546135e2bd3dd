import { error } from '@sveltejs/kit';
import type { LayoutServerLoad } from './$types';

export const load = (async ({ params, parent }) => {
	const { projects } = await parent();
	const project = projects.find((p) => p.slug === params.slug);
	if (!project) error(404, `There is no project "${params.slug}".`);
	return { project };
}) satisfies LayoutServerLoad;
