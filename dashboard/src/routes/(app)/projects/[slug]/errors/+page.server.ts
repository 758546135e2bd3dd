import { get, query } from '$lib/server/api';
import type { ErrorCluster } from '$lib/types';
import type { PageServerLoad } from './$types';

const PERIODS = [7, 30, 90];

export const load = (async (event) => {
	const { project } = await event.parent();
	const asked = Number(event.url.searchParams.get('days') ?? '30');
	const days = PERIODS.includes(asked) ? asked : 30;
	const { clusters } = await get<{ clusters: ErrorCluster[] }>(
		event,
		`/projects/${encodeURIComponent(project.slug)}/errors${query({ days, limit: 50 })}`
	);
	return { clusters, days, periods: PERIODS };
}) satisfies PageServerLoad;
