import { get, query } from '$lib/server/api';
import type { Facets, FlakyTestRow, OwnersList, Page } from '$lib/types';
import { apiQuery, parseFilters } from './filters';
import type { PageServerLoad } from './$types';

export const load = (async (event) => {
	const { project } = await event.parent();
	const filters = parseFilters(event.url.searchParams);
	const slug = encodeURIComponent(project.slug);
	const [list, facets, owners] = await Promise.all([
		get<Page<FlakyTestRow>>(event, `/projects/${slug}/flaky-tests${query(apiQuery(filters))}`),
		get<Facets>(event, `/projects/${slug}/facets`),
		get<OwnersList>(event, `/projects/${slug}/owners`)
	]);
	return { list, facets, owners: owners.owners.map((o) => o.owner).sort(), filters };
}) satisfies PageServerLoad;
