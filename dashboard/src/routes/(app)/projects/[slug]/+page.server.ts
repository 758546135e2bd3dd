import { get, query } from '$lib/server/api';
import { publicUrl } from '$lib/server/config';
import type { FlakyTestRow, Page, Stats } from '$lib/types';
import type { PageServerLoad } from './$types';

/** Half a year of days: the calendar shows them all, the trend line the last 30. */
const DAYS = 182;

export const load = (async (event) => {
	const { project } = await event.parent();
	const slug = encodeURIComponent(project.slug);
	const [stats, top] = await Promise.all([
		get<Stats>(event, `/projects/${slug}/stats${query({ days: DAYS })}`),
		get<Page<FlakyTestRow>>(event, `/projects/${slug}/flaky-tests${query({ state: 'flaky,broken', sort: 'impact', pageSize: 5 })}`)
	]);
	return { stats, top: top.items, serverUrl: publicUrl(event.url) };
}) satisfies PageServerLoad;
