import { describe, expect, it } from 'vitest';
import { analyzeTest } from './engine.js';
import { resolveAnalysisSettings } from './settings.js';
import type { RunObservation } from './types.js';

/** Branch-only failures: the `failing` state (issue 14 §1). */

const T0 = Date.UTC(2026, 10, 2, 9);
const HOUR = 3_600_000;
let n = 0;

/** One run of the test: `pass` or `fail` (every attempt), on `branch` at commit `commit`, `hours` after T0. */
function run(branch: string, commit: string, hours: number, result: 'pass' | 'fail' | 'retry', attempts = 1): RunObservation {
	n++;
	const failedAttempts = result === 'pass' ? 0 : result === 'retry' ? 1 : attempts;
	return {
		runId: `r${n}`,
		at: new Date(T0 + hours * HOUR),
		commitSha: `${branch}:${commit}`,
		branch,
		isDefaultBranch: branch === 'main',
		commitOrder: branch === 'main' ? hours : undefined,
		pipelineId: String(1000 + n),
		jobId: String(5000 + n),
		isMergeRequest: branch !== 'main',
		outcome: result === 'pass' ? 'expected' : result === 'retry' ? 'flaky' : 'unexpected',
		attempts: result === 'retry' ? 2 : attempts,
		failedAttempts,
		durationMs: 1500,
		errorFingerprint: result === 'pass' ? null : 'expect-toBe-0001',
		infra: false
	};
}

/** `count` passing default-branch runs, one commit each, one an hour from `from`. */
const mainPasses = (from: number, count: number) => Array.from({ length: count }, (_, i) => run('main', `m${from + i}`, from + i, 'pass'));

describe('failing: fails on feature branches, never on the default branch', () => {
	it('names the branch when a new project has only run a feature branch, and it failed every time', () => {
		const v = analyzeTest([run('feature/x', 'c1', 0, 'fail', 3), run('feature/x', 'c1', 1, 'fail', 3), run('feature/x', 'c2', 2, 'fail', 3)]);
		expect(v.state).toBe('failing');
		expect(v.evidence.failingBranches).toEqual([
			{ branch: 'feature/x', failedRuns: 3, runs: 3, firstFailedAt: new Date(T0).toISOString(), lastFailedAt: new Date(T0 + 2 * HOUR).toISOString() }
		]);
		expect(v.evidence.reasons[0]).toMatch(/^Failing on feature branch feature\/x \(3 of 3 runs failed, last 2026-11-02\); the default branch has not run it yet\./);
		expect(v.firstDetectedAt?.toISOString()).toBe(new Date(T0).toISOString());
		expect(v.evidence.counts.branchFailuresIgnored).toBe(3);
	});

	it('keeps branch failures out of the estimate: same score as the default-branch history alone', () => {
		const main = mainPasses(0, 40);
		const now = { now: new Date(T0 + 43 * HOUR) };
		const alone = analyzeTest(main, undefined, now);
		const v = analyzeTest([...main, run('feature/y', 'c1', 41, 'pass'), run('feature/y', 'c2', 42, 'fail'), run('feature/y', 'c3', 43, 'fail')], undefined, now);
		expect(alone.state).toBe('healthy');
		expect(v.state).toBe('failing');
		expect(v.score).toBeCloseTo(alone.score, 10);
		expect(v.flakeRate).toBe(0);
		expect(v.evidence.failingBranches).toEqual([expect.objectContaining({ branch: 'feature/y', failedRuns: 2, runs: 3 })]);
		expect(v.evidence.reasons[0]).toMatch(/never seen failing on the default branch \(40 runs\)/);
	});

	it('lists every failing branch, the most recent failure first', () => {
		const v = analyzeTest([...mainPasses(0, 20), run('feature/a', 'a1', 21, 'fail'), run('feature/b', 'b1', 22, 'fail'), run('feature/c', 'c1', 23, 'pass')]);
		expect(v.state).toBe('failing');
		expect(v.evidence.failingBranches?.map((b) => b.branch)).toEqual(['feature/b', 'feature/a']);
	});

	it('goes back to healthy once the branch passes again and the merge passes on main', () => {
		const v = analyzeTest([
			...mainPasses(0, 20),
			run('feature/x', 'c1', 21, 'fail'),
			run('feature/x', 'c1', 22, 'fail'),
			run('feature/x', 'c2', 23, 'pass'),
			...mainPasses(24, 3)
		]);
		expect(v.state).toBe('healthy');
		expect(v.evidence.failingBranches).toEqual([]);
		expect(v.evidence.counts.branchFailuresIgnored).toBe(2);
	});

	it('lets an abandoned branch go after failingBranchDays', () => {
		const history = [...mainPasses(0, 10), run('feature/old', 'c1', 11, 'fail'), ...mainPasses(12 + 24 * 3, 5)];
		expect(analyzeTest(history, resolveAnalysisSettings({ failingBranchDays: 7 })).state).toBe('failing');
		expect(analyzeTest(history, resolveAnalysisSettings({ failingBranchDays: 2 })).state).toBe('healthy');
	});

	it('yields to default-branch evidence: flaky on main wins', () => {
		const main = mainPasses(0, 60);
		for (const i of [10, 30, 50]) main[i] = run('main', `m${i}`, i, 'retry');
		const v = analyzeTest([...main, run('feature/x', 'c1', 61, 'fail')]);
		expect(v.state).toBe('flaky');
		expect(v.evidence.failingBranches).toEqual([expect.objectContaining({ branch: 'feature/x' })]);
	});

	it('yields to default-branch evidence: broken on main wins', () => {
		const history = [...mainPasses(0, 30), ...Array.from({ length: 6 }, (_, i) => run('main', `b${i}`, 30 + i, 'fail', 2)), run('feature/x', 'c1', 40, 'fail')];
		expect(analyzeTest(history).state).toBe('broken');
	});

	it('beats suspect: a lone default-branch failure beside a failing branch is reported as such', () => {
		const main = mainPasses(0, 30);
		main[25] = run('main', 'm25', 25, 'fail');
		const suspect = analyzeTest(main);
		expect(suspect.state).toBe('suspect');
		const v = analyzeTest([...main, run('feature/x', 'c1', 31, 'fail')]);
		expect(v.state).toBe('failing');
		expect(v.evidence.reasons[0]).toMatch(/on the default branch 1 of 30 runs failed, not enough to call it flaky/);
	});

	it('is not failing when a branch commit also passed (that is mixed-outcome evidence, not a branch-only failure)', () => {
		const v = analyzeTest([...mainPasses(0, 20), run('feature/x', 'c1', 21, 'fail'), run('feature/x', 'c1', 22, 'pass')]);
		expect(v.state).not.toBe('failing');
		expect(v.evidence.failingBranches).toEqual([]);
	});
});
