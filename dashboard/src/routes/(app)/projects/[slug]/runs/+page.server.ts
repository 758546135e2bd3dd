import { get, query } from '$lib/server/api';
import { publicUrl } from '$lib/server/config';
import type { Facets, Page, RunRow } from '$lib/types';
import type { PageServerLoad } from './$types';

const STATUSES = ['running', 'passed', 'failed', 'timedout', 'interrupted', 'incomplete'];

export const load = (async (event) => {
	const { project } = await event.parent();
	const p = event.url.searchParams;
	const page = Number(p.get('page') ?? '1');
	const filters = {
		branch: (p.get('branch') ?? '').slice(0, 255),
		status: STATUSES.includes(p.get('status') ?? '') ? p.get('status')! : '',
		page: Number.isInteger(page) && page >= 1 && page <= 10_000 ? page : 1
	};
	const slug = encodeURIComponent(project.slug);
	const [runs, facets] = await Promise.all([
		get<Page<RunRow>>(event, `/projects/${slug}/runs${query({ ...filters, pageSize: 50 })}`),
		get<Facets>(event, `/projects/${slug}/facets`)
	]);
	return { runs, facets, filters, statuses: STATUSES, serverUrl: publicUrl(event.url) };
}) satisfies PageServerLoad;
