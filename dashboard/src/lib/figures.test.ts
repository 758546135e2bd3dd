import { describe, expect, it } from 'vitest';
import { failedRunsWords, notCountedWords } from './figures';

const figures = {
	runSet: 'default-branch' as const,
	totalRuns: 249,
	countedRuns: 111,
	failedRuns: 8,
	flakyRuns: 8,
	unexpectedRuns: 0,
	notCounted: { skipped: 10, infrastructure: 2, broken: 0, featureBranch: 1, otherBranches: 125 }
};

describe('figure words', () => {
	it('names the run set and prints the denominator the share uses', () => {
		expect(failedRunsWords(figures)).toBe('8 of 111 default-branch runs (7%): 8 passed on retry, 0 failed every attempt');
		expect(failedRunsWords({ ...figures, runSet: 'all-branches', countedRuns: 3, failedRuns: 0, flakyRuns: 0 })).toBe(
			'0 of 3 runs on all branches (0%): 0 passed on retry, 0 failed every attempt'
		);
	});

	it('accounts for every run left out, so the counts add up to the runs analysed', () => {
		expect(notCountedWords(figures)).toBe(
			'138 of 249 runs: 125 on other branches, 2 failed in infrastructure-failed jobs, 1 failed on feature-branch commits that never passed, 10 skipped'
		);
		const none = { ...figures, totalRuns: 111, notCounted: { skipped: 0, infrastructure: 0, broken: 0, featureBranch: 0, otherBranches: 0 } };
		expect(notCountedWords(none)).toBe('none of 111 runs');
	});
});
