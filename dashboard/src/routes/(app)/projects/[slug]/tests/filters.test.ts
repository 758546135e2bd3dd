import { describe, expect, it } from 'vitest';
import { apiQuery, hasFilters, parseFilters } from './filters';

describe('flaky-test filters in the URL', () => {
	it('reads every filter, and falls back to defaults for anything unknown', () => {
		const f = parseFilters(new URLSearchParams('state=failing&branch=main&project=firefox&owner=%40web%2Fcheckout&q=%20pay%20&activity=inactive&sort=name&page=3'));
		expect(f).toEqual({ state: 'failing', branch: 'main', project: 'firefox', owner: '@web/checkout', q: 'pay', activity: 'inactive', sort: 'name', order: 'asc', page: 3 });
		expect(parseFilters(new URLSearchParams('state=wobbly&activity=gone&sort=random&order=up&page=-1'))).toEqual({
			state: '',
			branch: '',
			project: '',
			owner: '',
			q: '',
			activity: '',
			sort: 'impact',
			order: 'desc',
			page: 1
		});
		expect(hasFilters(f)).toBe(true);
		expect(hasFilters(parseFilters(new URLSearchParams('sort=score')))).toBe(false);
		expect(hasFilters(parseFilters(new URLSearchParams('owner=%40qa')))).toBe(true);
		expect(hasFilters(parseFilters(new URLSearchParams('activity=all')))).toBe(true);
	});

	it('asks the API for every state when "all" is chosen, and for its default when none is', () => {
		expect(apiQuery(parseFilters(new URLSearchParams('state=all'))).state).toBe('flaky,broken,suspect,failing,quarantined,fixed,healthy,skipped');
		expect(apiQuery(parseFilters(new URLSearchParams(''))).state).toBeUndefined();
		expect(apiQuery(parseFilters(new URLSearchParams('')))).toMatchObject({ sort: 'impact', order: 'desc', page: 1, pageSize: 50 });
		expect(apiQuery(parseFilters(new URLSearchParams(''))).owner).toBeUndefined();
		expect(apiQuery(parseFilters(new URLSearchParams('owner=%40qa'))).owner).toBe('@qa');
		// Active tests unless asked: the API's default.
		expect(apiQuery(parseFilters(new URLSearchParams(''))).activity).toBeUndefined();
		expect(apiQuery(parseFilters(new URLSearchParams('activity=inactive'))).activity).toBe('inactive');
	});
});
