import { get, query } from '$lib/server/api';
import type { CriticalPath, DurationPoint, Facets, SlowerTestRow, SlowestPage } from '$lib/types';
import type { PageServerLoad } from './$types';

const WINDOWS = [7, 14, 30, 90];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const load = (async (event) => {
	const { project } = await event.parent();
	const p = event.url.searchParams;
	const days = Number(p.get('days') ?? '14');
	const page = Number(p.get('page') ?? '1');
	const filters = {
		days: WINDOWS.includes(days) ? days : 14,
		// '' → the default branch, '*' → every branch, else one branch.
		branch: (p.get('branch') ?? '').slice(0, 255),
		sort: p.get('sort') === 'p95' ? 'p95' : 'p50',
		bucket: p.get('bucket') === 'week' ? 'week' : 'day',
		page: Number.isInteger(page) && page >= 1 && page <= 10_000 ? page : 1
	};
	const slug = encodeURIComponent(project.slug);
	const [slowest, slower, critical, facets] = await Promise.all([
		get<SlowestPage>(event, `/projects/${slug}/durations/slowest${query({ days: filters.days, branch: filters.branch, sort: filters.sort, page: filters.page, pageSize: 20 })}`),
		get<{ items: SlowerTestRow[]; recentDays: number }>(event, `/projects/${slug}/durations/slower${query({ branch: filters.branch })}`),
		get<CriticalPath>(event, `/projects/${slug}/durations/critical-path${query({ slowest: 3 })}`),
		get<Facets>(event, `/projects/${slug}/facets`)
	]);
	const asked = p.get('test') ?? '';
	const testId = UUID.test(asked) ? asked : (slowest.items[0]?.testId ?? null);
	const trend = testId
		? await get<{ points: DurationPoint[] }>(event, `/tests/${testId}/durations${query({ days: 90, bucket: filters.bucket, branch: filters.branch })}`)
		: null;
	const chosen = slowest.items.find((t) => t.testId === testId) ?? null;
	return { slowest, slower: slower.items, recentDays: slower.recentDays, critical, facets, filters, windows: WINDOWS, testId, chosen, trend: trend?.points ?? [] };
}) satisfies PageServerLoad;
