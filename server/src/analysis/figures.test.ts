/**
 * The verdict's figures (evidence.figures: every run in one named bucket) and stateSince (when
 * the evidence for the state began), on hand-built histories.
 */
import { describe, expect, it } from 'vitest';
import { analyzeTest } from './engine.js';
import type { Outcome, RunObservation } from './types.js';

const T0 = Date.UTC(2026, 10, 2, 8);
const HOUR = 3_600_000;

let n = 0;
/** One run of the test on commit `commit` (one commit every two hours), on main unless told. */
function run(commit: number, outcome: Outcome, o: { branch?: string; infra?: boolean; later?: number } = {}): RunObservation {
	const branch = o.branch ?? 'main';
	const attempts = outcome === 'flaky' || outcome === 'unexpected' ? 2 : 1;
	n++;
	return {
		runId: `run-${n}`,
		at: new Date(T0 + commit * 2 * HOUR + (o.later ?? 0) * HOUR),
		commitSha: `${branch}-${commit}`,
		branch,
		isDefaultBranch: branch === 'main',
		commitOrder: branch === 'main' ? commit : undefined,
		pipelineId: `${n}`,
		jobId: `${n}`,
		isMergeRequest: branch !== 'main',
		outcome,
		attempts,
		failedAttempts: outcome === 'unexpected' ? 2 : outcome === 'flaky' ? 1 : 0,
		durationMs: 1000 * attempts,
		errorFingerprint: outcome === 'expected' || outcome === 'skipped' ? null : 'boom',
		infra: o.infra ?? false
	};
}
const range = (from: number, to: number, f: (i: number) => Outcome, o: { branch?: string } = {}) =>
	Array.from({ length: to - from }, (_, k) => run(from + k, f(from + k), o));
const at = (commit: number, later = 0) => new Date(T0 + commit * 2 * HOUR + later * HOUR);

describe('verdict figures', () => {
	it('puts every run in one bucket: counted (default branch), or not counted for a named reason', () => {
		const history = [
			...range(0, 40, (i) => (i % 8 === 3 ? 'flaky' : 'expected')),
			run(40, 'unexpected', { infra: true }),
			run(41, 'expected', { infra: true }), // a pass in an infrastructure job still counts
			run(42, 'skipped'),
			run(43, 'skipped'),
			run(1, 'unexpected', { branch: 'feature/a' }), // never passed on that commit
			run(2, 'expected', { branch: 'feature/a' }),
			run(3, 'expected', { branch: 'feature/a' })
		];
		const v = analyzeTest(history);
		const f = v.evidence.figures!;
		expect(f).toMatchObject({
			runSet: 'default-branch',
			totalRuns: 47,
			countedRuns: 41,
			failedRuns: 5,
			flakyRuns: 5,
			unexpectedRuns: 0,
			notCounted: { skipped: 2, infrastructure: 1, broken: 0, featureBranch: 1, otherBranches: 2 }
		});
		expect(f.countedRuns + Object.values(f.notCounted).reduce((a, b) => a + b, 0)).toBe(f.totalRuns);
		// The failed-run share is over the same runs the counts name.
		expect(v.flakeRate).toBeCloseTo(f.failedRuns / f.countedRuns, 12);
		// The newest failure left out: the infrastructure one, newer than the last flaky failure.
		expect(f.lastNotCountedFailure).toEqual({ at: at(40).toISOString(), runId: history[40]!.runId, reason: 'infrastructure' });
		expect(v.lastFlakyAt).toEqual(at(35));
		expect(f.estimatedAt).toBe(at(43).toISOString());
	});

	it('counts on all branches while the default branch has too few runs, and says so', () => {
		const v = analyzeTest([...range(0, 3, () => 'expected'), ...range(0, 6, (i) => (i === 2 ? 'flaky' : 'expected'), { branch: 'feature/b' })]);
		expect(v.evidence.figures).toMatchObject({ runSet: 'all-branches', totalRuns: 9, countedRuns: 9, failedRuns: 1, notCounted: { otherBranches: 0 } });
	});

	it('a test skipped in every run is "skipped", not healthy, and says why', () => {
		const v = analyzeTest(range(0, 86, () => 'skipped'));
		expect(v.state).toBe('skipped');
		expect(v.evidence.reasons).toEqual(['Skipped in all 86 runs: there is no outcome to judge.']);
		expect(v.evidence.figures).toMatchObject({ totalRuns: 86, countedRuns: 0, notCounted: { skipped: 86 } });
		expect(v.stateSince).toEqual(at(0));
		expect(v.impactMinutes).toBe(0);
	});
});

describe('stateSince: when the evidence for the state began', () => {
	it('broken: the first run on the first failing commit', () => {
		const v = analyzeTest([...range(0, 40, () => 'expected'), ...range(40, 52, () => 'unexpected')]);
		expect(v.state).toBe('broken');
		expect(v.stateSince).toEqual(at(40));
		expect(v.evidence.figures!.notCounted.broken).toBe(12);
		expect(v.evidence.figures!.lastNotCountedFailure?.reason).toBe('broken');
	});

	it('healthy after a broken stretch: the first run after it', () => {
		const v = analyzeTest([...range(0, 40, () => 'expected'), ...range(40, 52, () => 'unexpected'), ...range(52, 90, () => 'expected')]);
		expect(v.state).toBe('healthy');
		expect(v.stateSince).toEqual(at(52));
	});

	it('healthy without a failure: the first run', () => {
		const v = analyzeTest(range(5, 30, () => 'expected'));
		expect(v.stateSince).toEqual(at(5));
	});

	it('flaky: when flakiness was first proven (the first commit that passed on retry)', () => {
		const v = analyzeTest(range(0, 60, (i) => (i % 6 === 4 ? 'flaky' : 'expected')));
		expect(v.state).toBe('flaky');
		expect(v.stateSince).toEqual(at(4));
		expect(v.firstDetectedAt).toEqual(at(4));
	});

	it('flaky again after a clean stretch long enough for "fixed": the failure that ended it', () => {
		const flakyThenClean = [...range(0, 60, (i) => (i % 5 === 2 ? 'flaky' : 'expected')), ...range(60, 560, () => 'expected')];
		// The clean stretch 60–559 made it fixed...
		expect(analyzeTest(flakyThenClean).state).toBe('fixed');
		// ...and the failure that ended it made it flaky again, from that failure on.
		const v = analyzeTest([...flakyThenClean, ...range(560, 566, (i) => (i === 560 || i === 563 ? 'flaky' : 'expected'))]);
		expect(v.state).toBe('flaky');
		expect(v.stateSince).toEqual(at(560));
	});

	it('fixed: when the clean streak reached the length the rule asks', () => {
		const v = analyzeTest([...range(0, 60, (i) => (i % 5 === 2 ? 'flaky' : 'expected')), ...range(60, 160, () => 'expected')]);
		expect(v.state).toBe('fixed');
		const rule = v.evidence.fixedRule!;
		// The last flaky failure was on commit 57: the streak counts from commit 58.
		expect(v.stateSince).toEqual(at(57 + rule.requiredRuns));
	});

	it('suspect: the failure that raised the suspicion', () => {
		const v = analyzeTest([...range(0, 40, () => 'expected'), run(40, 'unexpected'), ...range(41, 45, () => 'expected')]);
		expect(v.state).toBe('suspect');
		expect(v.stateSince).toEqual(at(40));
	});
});
