import { describe, expect, it } from 'vitest';
import type { Health, HistoryItem, TestDetail } from './types';
import { failingHeadline, inactiveWords, verdictWords } from './verdict';

const health = (h: Partial<Health>): Health => ({
	state: 'healthy',
	stateSince: '2026-11-20T00:00:00Z',
	score: 0,
	scoreLow: 0,
	scoreHigh: 0,
	flakeRate: 0,
	runs: 0,
	failures: 0,
	flakyRuns: 0,
	mixedCommits: 0,
	impactMinutes: 0,
	firstDetectedAt: null,
	lastFlakyAt: null,
	changePointSha: null,
	changePointAt: null,
	analyzedAt: '2026-11-26T00:00:00Z',
	figures: null,
	evidence: {},
	...h
});

const test = (h: Health | null, quarantine: TestDetail['quarantine'] = null): TestDetail => ({
	id: 't',
	projectId: 'p',
	title: 'pays',
	titlePath: ['checkout', 'pays'],
	file: 'checkout.spec.ts',
	projectName: 'chromium',
	tags: [],
	owners: [],
	firstSeenAt: '2026-11-01T00:00:00Z',
	lastSeenAt: '2026-11-26T00:00:00Z',
	health: h,
	quarantine
});

const run = (commitSha: string, pipelineId: string): HistoryItem =>
	({ runId: pipelineId, startedAt: '2026-11-26T00:00:00Z', outcome: 'unexpected', commitSha, pipelineId }) as HistoryItem;

describe('the verdict in words', () => {
	it('says why a test is flaky, with the estimate and its interval', () => {
		const w = verdictWords(
			test(health({ state: 'flaky', mixedCommits: 4, score: 0.07, scoreLow: 0.03, scoreHigh: 0.12, evidence: { reasons: ['Passed and failed on the same code.'] } })),
			[]
		);
		expect(w.headline).toBe('flaky: mixed results on 4 commits, estimated 7% (3–12%)');
		expect(w.details).toEqual(['Passed and failed on the same code.']);
		expect(verdictWords(test(health({ state: 'flaky', mixedCommits: 1, score: 0.2, scoreLow: 0.1, scoreHigh: 0.3 })), []).headline).toBe(
			'flaky: mixed results on 1 commit, estimated 20% (10–30%)'
		);
	});

	it('names the commit and the first pipeline where a broken test began failing', () => {
		const sha = 'abc1234567890def';
		const history = [run(sha, '4712'), run(sha, '4711'), run('0000000fff', '4710')];
		const w = verdictWords(test(health({ state: 'broken', changePointSha: sha, evidence: { changePoint: { firstBadSha: sha, firstBadAt: '', lastGoodSha: null, lastGoodAt: null, gain: null } } })), history);
		expect(w.headline).toBe('broken since commit abc12345 — pipeline 4711');
		expect(verdictWords(test(health({ state: 'broken', changePointSha: sha })), []).headline).toBe('broken since commit abc12345');
	});

	it('says who quarantined a test and why, and what lies underneath', () => {
		const w = verdictWords(
			test(health({ state: 'quarantined', mixedCommits: 2, score: 0.1, scoreLow: 0.05, scoreHigh: 0.2 }), {
				id: 'q',
				reason: 'sandbox down',
				createdBy: 'ops@example.com',
				createdAt: '2026-11-26T00:00:00Z',
				expiresAt: '2026-12-10T00:00:00Z'
			}),
			[]
		);
		expect(w.headline).toBe('quarantined by ops@example.com until 10 Dec 2026: sandbox down');
		expect(w.details[0]).toBe('Underneath: mixed results on 2 commits, estimated 10% (5–20%).');
	});

	it('covers fixed, healthy and not yet analysed tests', () => {
		expect(verdictWords(test(health({ state: 'fixed', evidence: { fixedRule: { cleanRunsSince: 30, requiredRuns: 19, rate: 0.15 } } })), []).headline).toBe(
			'fixed: 30 clean runs since the last flaky failure (19 needed)'
		);
		expect(verdictWords(test(health({ runs: 12 })), []).headline).toBe('healthy: 12 runs analysed');
		const figures = {
			runSet: 'default-branch' as const,
			totalRuns: 15,
			countedRuns: 12,
			failedRuns: 0,
			flakyRuns: 0,
			unexpectedRuns: 0,
			notCounted: { skipped: 0, infrastructure: 0, broken: 0, featureBranch: 3, otherBranches: 0 },
			lastNotCountedFailure: null,
			estimatedAt: '2026-11-26T00:00:00Z'
		};
		expect(verdictWords(test(health({ runs: 15, figures })), []).headline).toBe('healthy: no failed run among 12 default-branch runs');
		// Three runs, all left out (feature-branch commits that never passed): no "0 runs" beside "3 runs".
		const none = { ...figures, totalRuns: 3, countedRuns: 0 };
		expect(verdictWords(test(health({ runs: 3, figures: none })), []).headline).toBe('healthy: no run counted yet (see the runs not counted below)');
		expect(verdictWords(test(health({ state: 'skipped', score: null, figures: { ...none, notCounted: { ...none.notCounted, featureBranch: 0, skipped: 86 } } })), []).headline).toBe(
			'skipped in all 86 runs: nothing to judge, so no failure chance'
		);
		expect(verdictWords(test(null), []).headline).toMatch(/^not analysed yet/);
	});

	it('names the branches a failing test fails on, and says when a test is inactive', () => {
		const branch = (name: string) => ({ branch: name, failedRuns: 2, runs: 3, firstFailedAt: '2026-11-20T00:00:00Z', lastFailedAt: '2026-11-21T00:00:00Z' });
		expect(verdictWords(test(health({ state: 'failing', evidence: { failingBranches: [branch('feature/sso')] } })), []).headline).toBe(
			'failing on feature/sso, never seen failing on the default branch'
		);
		expect(failingHeadline(['a', 'b', 'c', 'd', 'e'].map(branch))).toBe('failing on a, b, c and 2 more, never seen failing on the default branch');
		expect(inactiveWords('2026-11-28T10:00:00Z', 5)).toBe(
			'inactive since 28 Nov 2026 (not in the last 5 complete default-branch pipelines): removed or renamed; out of the active counts until it runs again'
		);
		expect(inactiveWords(null, 5)).toBeNull();
	});
});
