import { describe, expect, it } from 'vitest';
import { ago, commitUrl, dateTime, duration, impact, impactParts, mergeRequestUrl, pct, pctInterval, safeHref, sha } from './format';

describe('format', () => {
	it('writes percentages with a decimal only when small', () => {
		expect(pct(0.07)).toBe('7%');
		expect(pct(0.004)).toBe('0.4%');
		expect(pct(0)).toBe('0%');
		expect(pct(null)).toBe('–');
		expect(pct(Number.NaN)).toBe('–');
	});

	it('writes an estimate with its interval the way the issue asks: 7% (3–12%)', () => {
		expect(pctInterval(0.07, 0.03, 0.12)).toBe('7% (3–12%)');
		expect(pctInterval(0.014, 0.0, 0.053)).toBe('1.4% (0.0–5.3%)');
	});

	it('writes durations and CI time lost for people', () => {
		expect(duration(850)).toBe('850 ms');
		expect(duration(4200)).toBe('4.2 s');
		expect(duration(95_000)).toBe('1 min 35 s');
		expect(duration(3 * 3600_000 + 5 * 60_000)).toBe('3 h 5 min');
		expect(impact(0.001)).toBe('< 1 s/day');
		expect(impact(0.5)).toBe('30 s/day');
		expect(impact(12.4)).toBe('12 min/day');
		expect(impact(300)).toBe('5.0 h/day');
		expect(impactParts(9.1)).toEqual(['9.1', 'min/day']);
		expect(impactParts(0.001)).toEqual(['< 1', 's/day']);
		expect(impactParts(0)).toEqual(['0', '']);
	});

	it('writes times relative to now, and absolute ones in UTC', () => {
		const now = Date.parse('2026-11-26T12:00:00Z');
		expect(ago('2026-11-26T11:59:30Z', now)).toBe('just now');
		expect(ago('2026-11-26T09:00:00Z', now)).toBe('3 hours ago');
		expect(ago('2026-11-25T12:00:00Z', now)).toBe('yesterday');
		expect(ago(null, now)).toBe('never');
		expect(dateTime('2026-11-26T09:05:00Z')).toBe('26 Nov 2026, 09:05 UTC');
		expect(sha('0123456789abcdef')).toBe('01234567');
	});

	it('turns only http(s) URLs into links, and derives GitLab commit and MR pages', () => {
		expect(safeHref('javascript:alert(1)')).toBeNull();
		expect(safeHref('data:text/html,<script>')).toBeNull();
		expect(safeHref('not a url')).toBeNull();
		expect(safeHref('https://gitlab.example.com/a/-/pipelines/1')).toBe('https://gitlab.example.com/a/-/pipelines/1');
		const pipeline = 'https://gitlab.example.com/group/app/-/pipelines/4711';
		expect(commitUrl(pipeline, 'abc1234def')).toBe('https://gitlab.example.com/group/app/-/commit/abc1234def');
		expect(commitUrl(pipeline, 'not-a-sha')).toBeNull();
		expect(mergeRequestUrl('https://gitlab.example.com/group/app/-/jobs/9', 42)).toBe('https://gitlab.example.com/group/app/-/merge_requests/42');
		expect(mergeRequestUrl('https://github.com/a/b/actions/runs/1', 42)).toBeNull();
	});
});
