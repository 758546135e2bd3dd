import { error } from '@sveltejs/kit';
import { get, query } from '$lib/server/api';
import { HEALTH_STATES, type FlakyTestRow, type OwnersList, type Page } from '$lib/types';
import type { PageServerLoad } from './$types';

const PAGE_SIZE = 50;

export const load = (async (event) => {
	const { project } = await event.parent();
	const owner = event.params.owner;
	if (!owner || owner.length > 255) error(404, 'There is no such owner.');
	const n = Number(event.url.searchParams.get('page') ?? '1');
	const page = Number.isInteger(n) && n >= 1 && n <= 10_000 ? n : 1;
	const slug = encodeURIComponent(project.slug);
	// Every state: an owner wants to see all of their tests, the healthy ones too.
	const q = query({ state: HEALTH_STATES.join(','), owner, sort: 'impact', order: 'desc', page, pageSize: PAGE_SIZE });
	const [list, owners] = await Promise.all([
		get<Page<FlakyTestRow>>(event, `/projects/${slug}/flaky-tests${q}`),
		get<OwnersList>(event, `/projects/${slug}/owners`)
	]);
	const counts = owners.owners.find((o) => o.owner === owner) ?? null;
	if (!counts && list.total === 0) error(404, `No test of ${project.name} is owned by ${owner}.`);
	return { owner, list, counts };
}) satisfies PageServerLoad;
