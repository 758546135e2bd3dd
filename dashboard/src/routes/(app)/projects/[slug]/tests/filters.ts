import { HEALTH_STATES, type HealthState } from '$lib/types';

/** The flaky-tests page's URL: every filter lives there, so a link shows the same list. */
export interface TestFilters {
	/** '' = the API's default (everything that needs attention), 'all', or one state. */
	state: '' | 'all' | HealthState;
	branch: string;
	project: string;
	/** Only this owner's tests, as stored (`@team-x`). */
	owner: string;
	q: string;
	/** '' = active tests (the API's default); 'inactive' = gone from the recent default-branch pipelines; 'all'. */
	activity: '' | 'inactive' | 'all';
	sort: 'impact' | 'score' | 'lastSeen' | 'flakeRate' | 'name';
	order: 'asc' | 'desc';
	page: number;
}

export const SORTS = ['impact', 'score', 'lastSeen', 'flakeRate', 'name'] as const;
export const PAGE_SIZE = 50;

/** Reads the filters from a URL; anything unknown falls back to the default instead of failing. */
export function parseFilters(params: URLSearchParams): TestFilters {
	const state = params.get('state') ?? '';
	const sort = params.get('sort') ?? 'impact';
	const order = params.get('order');
	const page = Number(params.get('page') ?? '1');
	const validSort = (SORTS as readonly string[]).includes(sort) ? (sort as TestFilters['sort']) : 'impact';
	return {
		state: state === 'all' || (HEALTH_STATES as string[]).includes(state) ? (state as TestFilters['state']) : '',
		branch: (params.get('branch') ?? '').slice(0, 255),
		project: (params.get('project') ?? '').slice(0, 255),
		owner: (params.get('owner') ?? '').trim().slice(0, 255),
		q: (params.get('q') ?? '').trim().slice(0, 200),
		activity: activityOf(params.get('activity')),
		sort: validSort,
		order: order === 'asc' || order === 'desc' ? order : validSort === 'name' ? 'asc' : 'desc',
		page: Number.isInteger(page) && page >= 1 && page <= 10_000 ? page : 1
	};
}

/** The read API's query for these filters. */
export function apiQuery(f: TestFilters): Record<string, string | number | undefined> {
	return {
		state: f.state === 'all' ? HEALTH_STATES.join(',') : f.state || undefined,
		branch: f.branch || undefined,
		project: f.project || undefined,
		owner: f.owner || undefined,
		q: f.q || undefined,
		activity: f.activity || undefined,
		sort: f.sort,
		order: f.order,
		page: f.page,
		pageSize: PAGE_SIZE
	};
}

export const hasFilters = (f: TestFilters) => Boolean(f.state || f.branch || f.project || f.owner || f.q || f.activity);

function activityOf(v: string | null): TestFilters['activity'] {
	return v === 'inactive' || v === 'all' ? v : '';
}
