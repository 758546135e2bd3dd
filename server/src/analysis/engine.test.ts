import { describe, expect, it } from 'vitest';
import { analyzeTest } from './engine.js';
import { DEFAULT_ANALYSIS_SETTINGS, resolveAnalysisSettings } from './settings.js';
import type { Outcome, RunObservation } from './types.js';

const T0 = Date.UTC(2025, 0, 6, 8);
const HOUR = 3_600_000;
const sha = (commit: number, branch = 'main') =>
	(branch === 'main' ? 'a' : 'b') + commit.toString(16).padStart(39, '0');

interface RunSpec {
	commit: number;
	outcome: Outcome;
	attempts?: number;
	failedAttempts?: number;
	infra?: boolean;
	branch?: string;
	/** Hours after the commit's first pipeline. */
	later?: number;
	fingerprint?: string;
	ordered?: boolean;
}

let runCounter = 0;
function obs(spec: RunSpec): RunObservation {
	const branch = spec.branch ?? 'main';
	const attempts = spec.attempts ?? (spec.outcome === 'flaky' ? 2 : 1);
	const failedAttempts =
		spec.failedAttempts ?? (spec.outcome === 'unexpected' ? attempts : spec.outcome === 'flaky' ? attempts - 1 : 0);
	runCounter++;
	return {
		runId: `run-${runCounter}`,
		at: new Date(T0 + spec.commit * 2 * HOUR + (spec.later ?? 0) * HOUR),
		commitSha: sha(spec.commit, branch),
		branch,
		isDefaultBranch: branch === 'main',
		commitOrder: branch === 'main' && spec.ordered !== false ? spec.commit : undefined,
		pipelineId: `p-${runCounter}`,
		jobId: `j-${runCounter}`,
		isMergeRequest: branch !== 'main',
		outcome: spec.outcome,
		attempts,
		failedAttempts,
		durationMs: 2000 * attempts,
		errorFingerprint: spec.outcome === 'expected' ? null : (spec.fingerprint ?? 'assertion0000000'),
		infra: spec.infra ?? false
	};
}

/** One run per commit, commits `from` to `to` (exclusive). */
const runs = (from: number, to: number, outcome: Outcome, extra: Partial<RunSpec> = {}) =>
	Array.from({ length: to - from }, (_, i) => obs({ commit: from + i, outcome, ...extra }));

/** Deterministic pseudo-random pattern for flaky histories (no Math.random in tests). */
function pattern(n: number, rate: number, seed: number): boolean[] {
	let x = seed >>> 0;
	return Array.from({ length: n }, () => {
		x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
		return x / 2 ** 32 < rate;
	});
}

describe('analyzeTest', () => {
	it('calls a test that always passes healthy', () => {
		const v = analyzeTest(runs(0, 100, 'expected'));
		expect(v.state).toBe('healthy');
		expect(v.runs).toBe(100);
		expect(v.mixedCommits).toBe(0);
		expect(v.changePointSha).toBeNull();
		expect(v.score).toBeLessThan(0.01);
		expect(v.scoreLow).toBeLessThan(v.score);
		expect(v.scoreHigh).toBeGreaterThan(v.score);
	});

	it('calls a test that passed on retry flaky, with the mixed commits as evidence', () => {
		const history = runs(0, 100, 'expected', { attempts: 1 });
		for (const c of [10, 40, 70, 95]) history[c] = obs({ commit: c, outcome: 'flaky' });
		const v = analyzeTest(history);
		expect(v.state).toBe('flaky');
		expect(v.mixedCommits).toBe(4);
		expect(v.flakyRuns).toBe(4);
		expect(v.evidence.mixedCommits[0]).toMatchObject({ sha: sha(95), kind: 'in-run' });
		expect(v.firstDetectedAt?.getTime()).toBe(history[10]!.at.getTime());
		expect(v.lastFlakyAt?.getTime()).toBe(history[95]!.at.getTime());
		expect(v.evidence.reasons[0]).toMatch(/same code/);
	});

	it('calls pass and fail on one commit across pipelines flaky', () => {
		const history = [...runs(0, 60, 'expected'), obs({ commit: 30, outcome: 'unexpected', later: 1 })];
		const v = analyzeTest(history);
		expect(v.state).toBe('flaky');
		expect(v.evidence.mixedCommits).toEqual([
			expect.objectContaining({ sha: sha(30), kind: 'cross-run', failedRuns: 1, passedRuns: 1 })
		]);
	});

	it('counts merge-request re-runs of one commit as mixed outcomes', () => {
		const history = [
			...runs(0, 60, 'expected'),
			obs({ commit: 57, branch: 'feature/x', outcome: 'unexpected' }),
			obs({ commit: 57, branch: 'feature/x', outcome: 'expected', later: 1 })
		];
		const v = analyzeTest(history);
		expect(v.state).toBe('flaky');
		expect(v.evidence.mixedCommits[0]).toMatchObject({ sha: sha(57, 'feature/x'), branch: 'feature/x', kind: 'cross-run' });
	});

	it('reports a deterministic regression as broken with the exact change point, never flaky', () => {
		for (const attempts of [1, 3]) {
			const history = [...runs(0, 60, 'expected'), ...runs(60, 100, 'unexpected', { attempts })];
			const v = analyzeTest(history);
			expect(v.state).toBe('broken');
			expect(v.changePointSha).toBe(sha(60));
			expect(v.changePointAt?.getTime()).toBe(history[60]!.at.getTime());
			expect(v.evidence.changePoint).toMatchObject({ firstBadSha: sha(60), lastGoodSha: sha(59) });
			expect(v.mixedCommits).toBe(0);
			expect(v.evidence.counts.brokenRuns).toBe(40);
			expect(v.evidence.reasons[0]).toMatch(/^Broken since commit/);
		}
	});

	it('finds the change point without a known commit order, from first-seen times', () => {
		const history = [...runs(0, 50, 'expected'), ...runs(50, 70, 'unexpected')].map((o) => ({
			...o,
			commitOrder: undefined
		}));
		const v = analyzeTest(history);
		expect(v.state).toBe('broken');
		expect(v.changePointSha).toBe(sha(50));
	});

	it('without a commit order, places commits by their first pipeline id, not by job start times', () => {
		const history = [...runs(0, 40, 'expected'), ...runs(40, 60, 'unexpected')].map((o, i) => ({
			...o,
			commitOrder: undefined,
			pipelineId: String(1000 + i)
		}));
		// The jobs of commit 40's pipeline start after those of commit 41's.
		history[40] = { ...history[40]!, at: new Date(history[41]!.at.getTime() + 60_000) };
		const v = analyzeTest(history);
		expect(v.state).toBe('broken');
		expect(v.changePointSha).toBe(sha(40));
		expect(v.evidence.changePoint?.lastGoodSha).toBe(sha(39));
	});

	it('orders by commit, not by time: a late re-run of an old commit stays where it belongs', () => {
		const history = [
			...runs(0, 60, 'expected'),
			...runs(60, 90, 'unexpected'),
			obs({ commit: 20, outcome: 'expected', later: 200 })
		];
		const v = analyzeTest(history);
		expect(v.state).toBe('broken');
		expect(v.changePointSha).toBe(sha(60));
	});

	it('isolates a short regression in the middle of a long history and does not call it flaky', () => {
		// Binary segmentation alone finds no single split worth ln(10^4) here (masking).
		const history = [...runs(0, 150, 'expected'), ...runs(150, 155, 'unexpected', { attempts: 2 }), ...runs(155, 250, 'expected')];
		const v = analyzeTest(history);
		expect(v.state).toBe('healthy');
		expect(v.evidence.segments.map((s) => [s.kind, s.firstSha])).toEqual([
			['passing', sha(0)],
			['broken', sha(150)],
			['passing', sha(155)]
		]);
	});

	it('counts failures on consecutive commits as one streak, not as separate flakes', () => {
		// Two consecutive failing commits without retries: too short to isolate, one event.
		const history = [...runs(0, 150, 'expected'), ...runs(150, 152, 'unexpected'), ...runs(152, 250, 'expected')];
		const v = analyzeTest(history);
		expect(v.state).not.toBe('flaky');
		expect(v.evidence.counts.failureStreaks).toBe(1);
	});

	it('calls a regression that was fixed healthy and keeps the broken segment as evidence', () => {
		const history = [...runs(0, 60, 'expected'), ...runs(60, 80, 'unexpected', { attempts: 2 }), ...runs(80, 140, 'expected')];
		const v = analyzeTest(history);
		expect(v.state).toBe('healthy');
		expect(v.mixedCommits).toBe(0);
		expect(v.changePointSha).toBeNull();
		expect(v.evidence.segments.map((s) => [s.kind, s.firstSha])).toEqual([
			['passing', sha(0)],
			['broken', sha(60)],
			['passing', sha(80)]
		]);
		expect(v.evidence.reasons.join(' ')).toMatch(/Was broken from/);
	});

	it('keeps infrastructure failures out of the evidence but counts them', () => {
		const history = runs(0, 80, 'expected');
		for (const c of [10, 30, 50]) history.push(obs({ commit: c, outcome: 'unexpected', infra: true, later: -0.5 }));
		const v = analyzeTest(history);
		expect(v.state).toBe('healthy');
		expect(v.mixedCommits).toBe(0);
		expect(v.runs).toBe(83);
		expect(v.evidence.counts.infraRuns).toBe(3);
		expect(v.evidence.infra).toHaveLength(3);
		// The same failures without the flag are flakiness.
		const unflagged = analyzeTest(history.map((o) => ({ ...o, infra: false })));
		expect(unflagged.state).toBe('flaky');
		expect(unflagged.mixedCommits).toBe(3);
	});

	it('treats a failure with a known infrastructure fingerprint as infrastructure', () => {
		const history = [...runs(0, 40, 'expected'), obs({ commit: 20, outcome: 'flaky', later: 1, fingerprint: 'connrefused00000' })];
		expect(analyzeTest(history).state).toBe('flaky');
		const v = analyzeTest(history, undefined, { infraFingerprints: new Set(['connrefused00000']) });
		expect(v.state).toBe('healthy');
		expect(v.evidence.counts.infraRuns).toBe(1);
	});

	it('applies the fixed rule: a clean streak a still-flaky test would reach with at most its share of the error budget', () => {
		const flakyPart = pattern(100, 0.2, 7).map((f, i) => obs({ commit: i, outcome: f ? 'flaky' : 'expected' }));
		const lastFlaky = flakyPart.map((o) => o.outcome).lastIndexOf('flaky');
		const head = flakyPart.slice(0, lastFlaky + 1);
		const failedRuns = head.filter((o) => o.outcome === 'flaky').length;
		expect(analyzeTest(head).state).toBe('flaky');
		let firstFixed: number | null = null;
		let required: number | null = null;
		for (let n = 0; n <= 300 && firstFixed === null; n++) {
			const v = analyzeTest([...head, ...runs(lastFlaky + 1, lastFlaky + 1 + n, 'expected')]);
			const rule = v.evidence.fixedRule!;
			expect(rule.cleanRunsSince).toBe(n);
			// The runs asked for depend only on the runs before the streak: fixed while it grows.
			required ??= rule.requiredRuns;
			expect(rule.requiredRuns).toBe(required);
			expect(rule.looks).toBe(failedRuns);
			expect(rule.errorBudget).toBeCloseTo((1 - DEFAULT_ANALYSIS_SETTINGS.fixedConfidence) / (failedRuns * (failedRuns + 1)), 12);
			expect(v.state).toBe(n >= rule.requiredRuns ? 'fixed' : 'flaky');
			// The streak asked for is the shortest whose chance under continued flakiness fits the budget.
			if (n === rule.requiredRuns - 1) expect(rule.chanceIfFlaky).toBeGreaterThan(rule.errorBudget);
			if (v.state === 'fixed') {
				firstFixed = n;
				expect(rule.chanceIfFlaky).toBeLessThanOrEqual(rule.errorBudget);
				expect(v.evidence.reasons[0]).toMatch(/^Fixed: \d+ clean runs since the last flaky failure/);
				expect(v.evidence.reasons[0]).toContain('error budget');
			} else if (n > 0) {
				expect(v.evidence.reasons.join(' ')).toContain(`${rule.requiredRuns - n} more (${rule.requiredRuns} in a row) are needed to call it fixed`);
			}
		}
		// About 20% of runs failed, 20 failures: more than the 28 one look would ask, still a few weeks of runs.
		expect(firstFixed).toBeGreaterThan(28);
		expect(firstFixed).toBeLessThan(150);
	});

	it('holds under repeated looks: a steady 10% flaky test without retries is never called fixed, its verdict re-checked after every run', () => {
		let longestStreak = 0;
		for (const seed of [1, 2, 3, 4, 5, 6]) {
			const fails = pattern(400, 0.1, seed);
			const history: RunObservation[] = [];
			let streak = 0;
			const states = new Set<string>();
			fails.forEach((f, i) => {
				history.push(obs({ commit: i, outcome: f ? 'unexpected' : 'expected', attempts: 1 }));
				streak = f ? 0 : streak + 1;
				longestStreak = Math.max(longestStreak, streak);
				states.add(analyzeTest(history).state);
			});
			expect(states.has('flaky')).toBe(true);
			expect(states.has('fixed')).toBe(false);
		}
		// The histories hold clean streaks that one-look rule, ln(0.05)/ln(0.9) = 28 runs, would have called a fix.
		expect(longestStreak).toBeGreaterThanOrEqual(Math.ceil(Math.log(0.05) / Math.log(0.9)));
	});

	it('calls a real fix of a test flaky without retries fixed, within a bounded number of clean runs', () => {
		const flaky = pattern(300, 0.1, 11).map((f, i) => obs({ commit: i, outcome: f ? 'unexpected' : 'expected', attempts: 1 }));
		const history = [...flaky];
		let fixedAfter: number | null = null;
		for (let n = 1; n <= 400 && fixedAfter === null; n++) {
			history.push(obs({ commit: 300 + n, outcome: 'expected', attempts: 1 }));
			if (analyzeTest(history).state === 'fixed') fixedAfter = n;
		}
		expect(fixedAfter).not.toBeNull();
		expect(fixedAfter!).toBeLessThan(250);
	});

	it('detects flaky tests without retries from isolated failures across commits, at 2% and 5%', () => {
		for (const [rate, seed] of [
			[0.02, 3],
			[0.05, 4]
		] as const) {
			const history = pattern(300, rate, seed).map((f, i) => obs({ commit: i, outcome: f ? 'unexpected' : 'expected', attempts: 1 }));
			const v = analyzeTest(history);
			expect(v.state).toBe('flaky');
			expect(v.mixedCommits).toBe(0);
			expect(v.evidence.counts.failureStreaks).toBeGreaterThanOrEqual(2);
		}
	});

	it('never calls a fresh regression without retries flaky: suspect on its first failure, broken from the third', () => {
		const history = runs(0, 150, 'expected', { attempts: 1 });
		for (let k = 1; k <= 4; k++) {
			history.push(obs({ commit: 150 + k, outcome: 'unexpected', attempts: 1 }));
			const v = analyzeTest(history);
			expect(v.state).not.toBe('flaky');
			if (k === 1) expect(v.state).toBe('suspect');
			if (k >= 3) {
				expect(v.state).toBe('broken');
				expect(v.changePointSha).toBe(sha(151));
			}
		}
	});

	it('reads test.fail() through the outcome: an expected failure is a pass', () => {
		// A parser that counts the expected failing attempt as a failed attempt must not create flakiness.
		const history = runs(0, 50, 'expected', { failedAttempts: 1 });
		expect(analyzeTest(history).state).toBe('healthy');
		// An unexpected pass on one run and the expected failure on another run of that commit is mixed.
		history.push(obs({ commit: 25, outcome: 'unexpected', later: 1 }));
		expect(analyzeTest(history).state).toBe('flaky');
	});

	it('calls scattered failures without retries flaky by statistics alone', () => {
		const history = runs(0, 200, 'expected');
		for (const c of [20, 90, 150]) history[c] = obs({ commit: c, outcome: 'unexpected' });
		const v = analyzeTest(history);
		expect(v.state).toBe('flaky');
		expect(v.mixedCommits).toBe(0);
		expect(v.evidence.counts.isolatedFailures).toBe(3);
		expect(v.firstDetectedAt?.getTime()).toBe(history[90]!.at.getTime());
	});

	it('makes a lone recent failure suspect, and forgets an old one', () => {
		const recent = runs(0, 100, 'expected');
		recent[98] = obs({ commit: 98, outcome: 'unexpected' });
		expect(analyzeTest(recent).state).toBe('suspect');
		const old = runs(0, 200, 'expected');
		old[5] = obs({ commit: 5, outcome: 'unexpected' });
		expect(analyzeTest(old).state).toBe('healthy');
	});

	it('makes a test with very few runs suspect rather than flaky', () => {
		const history = [
			obs({ commit: 0, outcome: 'unexpected' }),
			obs({ commit: 1, outcome: 'expected' }),
			obs({ commit: 2, outcome: 'unexpected' }),
			obs({ commit: 3, outcome: 'expected' })
		];
		expect(analyzeTest(history).state).toBe('suspect');
	});

	it('does not call a very flaky test without retries broken', () => {
		for (const seed of [1, 2, 3, 4, 5]) {
			const history = pattern(300, 0.5, seed).map((f, i) => obs({ commit: i, outcome: f ? 'unexpected' : 'expected' }));
			expect(analyzeTest(history).state).toBe('flaky');
		}
	});

	it('ignores feature-branch commits that only ever failed (a bug in an unmerged change)', () => {
		const history = [
			...runs(0, 80, 'expected'),
			obs({ commit: 3, branch: 'feature/y', outcome: 'unexpected', attempts: 3 }),
			obs({ commit: 3, branch: 'feature/y', outcome: 'unexpected', attempts: 3, later: 1 }),
			obs({ commit: 4, branch: 'feature/y', outcome: 'unexpected', attempts: 3, later: 2 }),
			obs({ commit: 5, branch: 'feature/y', outcome: 'expected', later: 3 })
		];
		const v = analyzeTest(history);
		expect(v.state).toBe('healthy');
		expect(v.evidence.counts.branchFailuresIgnored).toBe(3);
	});

	it('calls a test broken when every recent commit failed in infrastructure-flagged jobs', () => {
		const history = [...runs(0, 50, 'expected'), ...runs(50, 54, 'unexpected', { infra: true })];
		const v = analyzeTest(history);
		expect(v.state).toBe('broken');
		expect(v.changePointSha).toBe(sha(50));
		expect(v.evidence.changePoint?.lastGoodSha).toBe(sha(49));
		// One outage at the tip is not a streak.
		expect(analyzeTest([...runs(0, 50, 'expected'), ...runs(50, 51, 'unexpected', { infra: true })]).state).toBe('healthy');
	});

	it('skips skipped runs and handles an empty history', () => {
		const v = analyzeTest([...runs(0, 10, 'skipped'), ...runs(10, 20, 'expected')]);
		expect(v.runs).toBe(10);
		expect(v.evidence.counts.skippedRuns).toBe(10);
		const empty = analyzeTest([]);
		expect(empty.state).toBe('healthy');
		expect(empty.runs).toBe(0);
		expect(empty.lastSeenAt).toBeNull();
	});

	it('estimates impact from runs per day, duration and failure probability', () => {
		const history = pattern(120, 0.3, 11).map((f, i) => obs({ commit: i, outcome: f ? 'flaky' : 'expected' }));
		const v = analyzeTest(history);
		const { runsPerDay, meanAttemptMinutes, failureProbability } = v.evidence.impact;
		expect(runsPerDay).toBeCloseTo(12, 0); // one run every two hours
		expect(meanAttemptMinutes).toBeCloseTo(2000 / 60_000, 6);
		expect(failureProbability).toBe(v.score);
		expect(v.impactMinutes).toBeCloseTo(v.score * runsPerDay * meanAttemptMinutes, 12);
	});

	it('is deterministic and its evidence survives JSON', () => {
		const history = [...runs(0, 60, 'expected'), ...runs(60, 70, 'flaky'), ...runs(70, 90, 'unexpected', { attempts: 3 })];
		const a = analyzeTest(history);
		const b = analyzeTest([...history].reverse());
		expect(b).toEqual(a);
		expect(JSON.parse(JSON.stringify(a.evidence))).toEqual(a.evidence);
	});

	it('honours project settings', () => {
		const history = [...runs(0, 60, 'expected'), obs({ commit: 30, outcome: 'flaky', later: 1 })];
		expect(analyzeTest(history).state).toBe('flaky');
		expect(analyzeTest(history, resolveAnalysisSettings({ minMixedCommits: 2 })).state).not.toBe('flaky');
		expect(() => resolveAnalysisSettings({ credibleMass: 2 })).toThrow();
	});
});
