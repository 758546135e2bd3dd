/**
 * The flakiness engine: one test's history in, one explained verdict out. See DETECTION.md.
 *
 * 1. Failures in jobs judged infrastructure failures are set aside (counted, shown, not used).
 * 2. The default-branch history, by commit order, is segmented with LUCI's change-point model.
 *    A segment that fails (nearly) every run, every retry, and could not plausibly be flakes at
 *    the rate seen elsewhere is *broken*; if the newest segment is broken, so is the test.
 * 3. Everything else is flakiness evidence: commits with mixed outcomes (a retry passed, or two
 *    runs of one commit disagreed) prove flakiness; failures on commits that passed before and
 *    after, without a change point, show it statistically.
 * 4. A Beta posterior over attempts, with time-decayed pseudo-counts, gives the score and its
 *    credible interval. The "fixed" rule asks for a clean streak that a still-flaky test would
 *    reach by chance with at most its share of an error budget spent over the test's life.
 */
import { betaInterval, betaQuantile, lnBeta } from './beta.js';
import { segmentHistory, type PositionCounts } from './changepoint.js';
import { DEFAULT_ANALYSIS_SETTINGS, type AnalysisSettings } from './settings.js';
import type {
	AnalysisContext,
	FailingBranchEvidence,
	MixedCommitEvidence,
	NotCountedReason,
	RunObservation,
	SegmentEvidence,
	SegmentKind,
	Verdict,
	VerdictEvidence,
	VerdictFigures,
	VerdictState
} from './types.js';

const DAY_MS = 86_400_000;
const NUMERIC_ID = /^\d{1,15}$/;
/** Segments kept in the evidence (the newest): bounds the JSON of a long, restless history. */
const MAX_SEGMENTS = 50;
/** Upper bound of the clean runs the "fixed" rule asks for (a test that failed once in a million runs). */
const MAX_REQUIRED_RUNS = 1 << 20;
/** Newest default-branch commits that must all have failed in infrastructure-flagged jobs before the test is called broken anyway. */
const INFRA_STREAK_COMMITS = 3;

interface Run {
	obs: RunObservation;
	t: number;
	attempts: number;
	/** Attempts whose status differed from the expected one. */
	failedAttempts: number;
	/** At least one unexpected attempt. */
	failed: boolean;
	/** The last attempt was as expected. */
	passed: boolean;
	/** Failed on every attempt. */
	sticky: boolean;
	/** A failure attributed to infrastructure. */
	infra: boolean;
}

interface Position {
	sha: string;
	order: number;
	runs: Run[];
	counts: PositionCounts;
}

/** Playwright's outcome() is the truth about expectations; attempt counts are read through it. */
function normalise(obs: RunObservation, infraFingerprints: ReadonlySet<string> | undefined): Run | null {
	if (obs.outcome === 'skipped') return null;
	let attempts = Math.max(1, Math.floor(obs.attempts) || 1);
	let failedAttempts: number;
	if (obs.outcome === 'expected') failedAttempts = 0;
	else if (obs.outcome === 'unexpected') failedAttempts = attempts;
	else {
		attempts = Math.max(2, attempts);
		failedAttempts = Math.min(attempts - 1, Math.max(1, Math.floor(obs.failedAttempts) || 1));
	}
	const failed = failedAttempts > 0;
	const infraFingerprint = !!obs.errorFingerprint && !!infraFingerprints?.has(obs.errorFingerprint);
	return {
		obs,
		t: obs.at.getTime(),
		attempts,
		failedAttempts,
		failed,
		passed: obs.outcome !== 'unexpected',
		sticky: obs.outcome === 'unexpected',
		infra: failed && (obs.infra || infraFingerprint)
	};
}

function positionCounts(runs: readonly Run[]): PositionCounts {
	const c: PositionCounts = { runs: 0, failed: 0, retried: 0, sticky: 0 };
	for (const r of runs) {
		c.runs++;
		if (!r.failed) continue;
		c.failed++;
		if (r.attempts >= 2) {
			c.retried++;
			if (r.sticky) c.sticky++;
		}
	}
	return c;
}

/** Default-branch runs grouped by commit, oldest commit first. */
function defaultBranchPositions(runs: readonly Run[]): Position[] {
	const bySha = new Map<string, Run[]>();
	let allOrdered = true;
	for (const r of runs) {
		if (!r.obs.isDefaultBranch) continue;
		if (r.obs.commitOrder === undefined || r.obs.commitOrder === null) allOrdered = false;
		const list = bySha.get(r.obs.commitSha);
		if (list) list.push(r);
		else bySha.set(r.obs.commitSha, [r]);
	}
	// Without a known commit order, a commit sits where its first pipeline does: pipeline ids grow
	// in creation order (push order) on GitLab and GitHub, while job start times can overtake one
	// another. Non-numeric ids leave the first time the commit was seen.
	let numericIds = !allOrdered;
	if (numericIds) {
		for (const list of bySha.values()) {
			if (!list.every((r) => NUMERIC_ID.test(r.obs.pipelineId))) {
				numericIds = false;
				break;
			}
		}
	}
	const positions: Position[] = [];
	for (const [sha, list] of bySha) {
		let order = Infinity;
		for (const r of list) {
			const key = allOrdered ? r.obs.commitOrder! : numericIds ? Number(r.obs.pipelineId) : r.t;
			if (key < order) order = key;
		}
		positions.push({ sha, order, runs: list, counts: { runs: 0, failed: 0, retried: 0, sticky: 0 } });
	}
	positions.sort((a, b) => a.order - b.order || (a.sha < b.sha ? -1 : a.sha > b.sha ? 1 : 0));
	return positions;
}

interface Posterior {
	alpha: number;
	beta: number;
	attempts: number;
	failedAttempts: number;
}

function posterior(runs: readonly Run[], s: AnalysisSettings, now: number, halfLifeMs: number): Posterior {
	let alpha = s.priorAlpha;
	let beta = s.priorBeta;
	let attempts = 0;
	let failedAttempts = 0;
	for (const r of runs) {
		const w = Math.pow(0.5, Math.max(0, now - r.t) / halfLifeMs);
		alpha += w * r.failedAttempts;
		beta += w * (r.attempts - r.failedAttempts);
		attempts += r.attempts;
		failedAttempts += r.failedAttempts;
	}
	return { alpha, beta, attempts, failedAttempts };
}

const iso = (t: number) => new Date(t).toISOString();
const short = (sha: string) => sha.slice(0, 8);
const pct = (x: number) => {
	const v = x * 100;
	return `${v >= 10 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toPrecision(2)}%`;
};
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Analyses one test's history. Pure: the same observations and settings give the same verdict. */
export function analyzeTest(
	observations: readonly RunObservation[],
	s: AnalysisSettings = DEFAULT_ANALYSIS_SETTINGS,
	context: AnalysisContext = {}
): Verdict {
	const halfLifeMs = s.halfLifeDays * DAY_MS;
	let skippedRuns = 0;
	let lastSeen = -Infinity;
	const runs: Run[] = [];
	for (const obs of observations) {
		lastSeen = Math.max(lastSeen, obs.at.getTime());
		const r = normalise(obs, context.infraFingerprints);
		if (r) runs.push(r);
		else skippedRuns++;
	}
	runs.sort((a, b) => a.t - b.t);
	const now = context.now?.getTime() ?? (Number.isFinite(lastSeen) ? lastSeen : 0);
	const reasons: string[] = [];

	// 1. Infrastructure failures are set aside.
	const infraRuns = runs.filter((r) => r.infra);
	const clean = runs.filter((r) => !r.infra);

	// 2. Change points over the default branch.
	const positions = defaultBranchPositions(clean);
	for (const p of positions) p.counts = positionCounts(p.runs);
	const rawSegments = segmentHistory(
		positions.map((p) => p.counts),
		{ threshold: s.changePointThreshold }
	);
	const candidate = rawSegments.map(
		(seg) =>
			seg.counts.runs >= s.minBrokenRuns &&
			seg.counts.failed >= s.brokenMinFailRate * seg.counts.runs &&
			(seg.counts.retried === 0 || seg.counts.sticky >= s.brokenMinStickiness * seg.counts.retried)
	);

	// Feature-branch commits that only ever failed, on every attempt, may be real bugs in an
	// unmerged change: they prove nothing about flakiness.
	const passedShas = new Set<string>();
	for (const r of clean) if (r.passed) passedShas.add(r.obs.commitSha);
	const branchIgnored = (r: Run) => !r.obs.isDefaultBranch && r.sticky && !passedShas.has(r.obs.commitSha);

	const inCandidate = new Set<Run>();
	rawSegments.forEach((seg, i) => {
		if (!candidate[i]) return;
		for (let k = seg.start; k < seg.end; k++) for (const r of positions[k]!.runs) inCandidate.add(r);
	});
	// The flake rate seen outside failing segments, pessimistically high: a failing streak is a
	// regression only if even that rate cannot explain it.
	const background = posterior(
		clean.filter((r) => !inCandidate.has(r) && !branchIgnored(r)),
		s,
		now,
		Number.POSITIVE_INFINITY
	);
	const flakeCeiling = betaQuantile((1 + s.credibleMass) / 2, background.alpha, background.beta);
	const segmentKinds: SegmentKind[] = rawSegments.map((seg, i) => {
		if (candidate[i]) {
			let failedAttempts = 0;
			for (let k = seg.start; k < seg.end; k++) for (const r of positions[k]!.runs) failedAttempts += r.failedAttempts;
			if (failedAttempts * Math.log(flakeCeiling) < Math.log(s.brokenImplausibility)) return 'broken';
		}
		return seg.counts.failed > 0 ? 'flaky' : 'passing';
	});
	const brokenRuns = new Set<Run>();
	rawSegments.forEach((seg, i) => {
		if (segmentKinds[i] !== 'broken') return;
		for (let k = seg.start; k < seg.end; k++) for (const r of positions[k]!.runs) brokenRuns.add(r);
	});

	const segments: SegmentEvidence[] = rawSegments.map((seg, i) => {
		const first = positions[seg.start]!;
		const last = positions[seg.end - 1]!;
		return {
			kind: segmentKinds[i]!,
			firstSha: first.sha,
			lastSha: last.sha,
			firstAt: iso(Math.min(...first.runs.map((r) => r.t))),
			lastAt: iso(Math.max(...last.runs.map((r) => r.t))),
			commits: seg.end - seg.start,
			runs: seg.counts.runs,
			failedRuns: seg.counts.failed,
			retriedFailures: seg.counts.retried,
			stickyFailures: seg.counts.sticky,
			changePointGain: seg.gainAtStart
		};
	});

	// 3. Flakiness evidence: everything outside broken segments and ignored branch failures.
	let branchFailuresIgnored = 0;
	const evidence: Run[] = [];
	for (const r of clean) {
		if (brokenRuns.has(r)) continue;
		if (branchIgnored(r)) {
			branchFailuresIgnored++;
			continue;
		}
		evidence.push(r);
	}

	const bySha = new Map<string, Run[]>();
	for (const r of evidence) {
		const list = bySha.get(r.obs.commitSha);
		if (list) list.push(r);
		else bySha.set(r.obs.commitSha, [r]);
	}
	const mixed: (MixedCommitEvidence & { detectedT: number })[] = [];
	const isolatedShas = new Map<string, number>();
	for (const [sha, list] of bySha) {
		let sawFail = false;
		let sawPass = false;
		let inRun = false;
		let detectedT = Number.NaN;
		let failedRuns = 0;
		let passedRuns = 0;
		for (const r of list) {
			if (r.failed) failedRuns++;
			if (r.passed) passedRuns++;
			if (r.failed && r.passed) inRun = true;
			sawFail ||= r.failed;
			sawPass ||= r.passed;
			if (Number.isNaN(detectedT) && sawFail && sawPass) detectedT = r.t;
		}
		if (!Number.isNaN(detectedT)) {
			// A failure and a pass in different runs: a run that failed throughout next to one that
			// passed, or a run with a failed attempt next to one without.
			const crossRun =
				(list.some((r) => r.sticky) && list.some((r) => r.passed)) ||
				(list.some((r) => r.failed) && list.some((r) => !r.failed));
			mixed.push({
				sha,
				branch: list[0]!.obs.branch,
				kind: inRun && crossRun ? 'both' : inRun ? 'in-run' : 'cross-run',
				runs: list.length,
				failedRuns,
				passedRuns,
				detectedAt: iso(detectedT),
				lastAt: iso(list[list.length - 1]!.t),
				detectedT
			});
		} else if (sawFail) {
			isolatedShas.set(sha, list.find((r) => r.failed)!.t);
		}
	}
	mixed.sort((a, b) => b.detectedT - a.detectedT);
	const isolatedFailureCommits = isolatedShas.size;
	// Failures on consecutive default-branch commits form one streak: a streak is one event, which
	// is what a short regression the change points could not isolate looks like. Separate streaks
	// with passing commits between them are what flakiness looks like.
	const streakTimes: number[] = [];
	let inStreak = false;
	for (const p of positions) {
		if (p.runs.every((r) => brokenRuns.has(r))) continue;
		const t = isolatedShas.get(p.sha);
		if (t === undefined) {
			inStreak = false;
			continue;
		}
		if (!inStreak) streakTimes.push(t);
		inStreak = true;
		isolatedShas.delete(p.sha);
	}
	// What remains is off the default branch: each commit is its own event.
	streakTimes.push(...isolatedShas.values());
	streakTimes.sort((a, b) => a - b);

	// 4. The estimate. Feature-branch data is censored (a commit that only ever failed is left out,
	// its passes are not), so rates and clean streaks come from the default branch when it has
	// enough runs; feature branches still count through their mixed commits above.
	const defaultEvidence = evidence.filter((r) => r.obs.isDefaultBranch);
	const rateRuns = defaultEvidence.length >= s.minRunsForRate ? defaultEvidence : evidence;
	const post = posterior(rateRuns, s, now, halfLifeMs);
	const score = post.alpha / (post.alpha + post.beta);
	const interval = betaInterval(post.alpha, post.beta, s.credibleMass);
	const evidenceFailures = evidence.filter((r) => r.failed);
	const rateFailures = rateRuns.filter((r) => r.failed).length;
	const flakeRate = rateRuns.length === 0 ? 0 : rateFailures / rateRuns.length;
	const lastFlakyT = evidenceFailures.length > 0 ? evidenceFailures[evidenceFailures.length - 1]!.t : null;

	// 5. The state.
	const mixedTimes = mixed.map((m) => m.detectedT).sort((a, b) => a - b);
	const byMixed = mixed.length >= s.minMixedCommits ? mixedTimes[s.minMixedCommits - 1]! : null;
	const enoughRuns = evidence.length >= s.minRunsForRate;
	const byIsolated =
		streakTimes.length >= s.minIsolatedFailures && enoughRuns ? streakTimes[s.minIsolatedFailures - 1]!
			: null;
	const flakyProven = byMixed !== null || byIsolated !== null;
	const failingBranches = failingBranchesOf(clean, branchIgnored, now - s.failingBranchDays * DAY_MS);

	const lastIdx = rawSegments.length - 1;
	const tipBroken = lastIdx >= 0 && segmentKinds[lastIdx] === 'broken';
	const infraStreak = tipBroken ? null : infraFailureStreak(runs);

	let state: VerdictState;
	let changePoint: VerdictEvidence['changePoint'] = null;
	let firstDetectedAt: number | null = null;
	let fixedRule: VerdictEvidence['fixedRule'] = null;
	let fixedStreaks: FixedStreakTimes = { relapseAt: null, fixedAt: null };
	let failureProbability = score;

	if (tipBroken) {
		state = 'broken';
		const seg = rawSegments[lastIdx]!;
		const first = positions[seg.start]!;
		const prev = seg.start > 0 ? positions[seg.start - 1]! : null;
		const firstBadT = Math.min(...first.runs.map((r) => r.t));
		changePoint = {
			firstBadSha: first.sha,
			firstBadAt: iso(firstBadT),
			lastGoodSha: prev?.sha ?? null,
			lastGoodAt: prev ? iso(Math.max(...prev.runs.map((r) => r.t))) : null,
			gain: prev ? seg.gainAtStart : null
		};
		const segRuns = positions.slice(seg.start, seg.end).flatMap((p) => p.runs);
		segRuns.sort((a, b) => a.t - b.t);
		firstDetectedAt = segRuns[Math.min(segRuns.length, s.minBrokenRuns) - 1]!.t;
		failureProbability = seg.counts.failed / seg.counts.runs;
		const stickiness =
			seg.counts.retried > 0
				? `; ${seg.counts.sticky} of ${plural(seg.counts.retried, 'retried failure')} failed on every attempt`
				: '';
		reasons.push(
			`Broken since commit ${short(first.sha)}: ${seg.counts.failed} of ${plural(seg.counts.runs, 'run')} ` +
				`on ${plural(seg.end - seg.start, 'commit')} failed${stickiness}.` +
				(prev ? ` Last passing commit: ${short(prev.sha)}.` : ' It has not passed on the default branch yet.')
		);
		reasons.push(
			`A failure streak this long is implausible as flakiness (the rate seen elsewhere is at most ${pct(flakeCeiling)} per attempt).`
		);
	} else if (infraStreak) {
		state = 'broken';
		const { streak, prev } = infraStreak;
		const first = streak[0]!;
		const firstBadT = Math.min(...first.runs.map((r) => r.t));
		changePoint = {
			firstBadSha: first.sha,
			firstBadAt: iso(firstBadT),
			lastGoodSha: prev?.sha ?? null,
			lastGoodAt: prev ? iso(Math.max(...prev.runs.map((r) => r.t))) : null,
			gain: null
		};
		firstDetectedAt = Math.max(...streak[INFRA_STREAK_COMMITS - 1]!.runs.map((r) => r.t));
		failureProbability = 1;
		reasons.push(
			`Failed on each of the last ${plural(streak.length, 'default-branch commit')} since ${short(first.sha)}, ` +
				`always in jobs judged infrastructure failures: the build or environment is broken, not the test alone.`
		);
	} else if (flakyProven) {
		firstDetectedAt = Math.min(byMixed ?? Infinity, byIsolated ?? Infinity);
		const streakRuns = clean.filter((r) => !brokenRuns.has(r));
		fixedRule = fixedRuleFor(streakRuns, rateRuns, s);
		fixedStreaks = fixedStreakTimes(streakRuns, rateRuns, s, fixedRule.requiredRuns);
		const { cleanRunsSince, requiredRuns, rate } = fixedRule;
		state = cleanRunsSince >= requiredRuns ? 'fixed' : 'flaky';
		if (mixed.length > 0) {
			const m = mixed[0]!;
			const how =
				m.kind === 'cross-run'
					? `${m.failedRuns} failed and ${m.passedRuns} passed`
					: 'failed and passed on retry in the same run';
			reasons.push(
				`Passed and failed on the same code: ${plural(mixed.length, 'commit')} with mixed outcomes ` +
					`(latest ${short(m.sha)} on ${m.branch}: ${how}).`
			);
		}
		if (streakTimes.length > 0) {
			reasons.push(
				`Failed on ${plural(isolatedFailureCommits, 'other commit')} in ${plural(streakTimes.length, 'separate streak')} with passing ` +
					`commits between them and no change point: failures come and go without code changes.`
			);
		}
		reasons.push(
			`Estimated failure probability ${pct(score)} per attempt (${Math.round(s.credibleMass * 100)}% interval ` +
				`${pct(interval.low)}–${pct(interval.high)}); ${rateFailures} of ${plural(rateRuns.length, rateRuns === defaultEvidence ? 'default-branch run' : 'run')} had a failed attempt.`
		);
		const budget =
			`a still-flaky test passes that many in a row with a chance of at most ${fixedRule.errorBudget.toPrecision(2)}, ` +
			`the share of the ${pct(1 - s.fixedConfidence)} error budget over the test's life spent on the streak after ` +
			`its ${ordinal(fixedRule.looks)} failed run (1/(k(k + 1)) of it after the k-th)`;
		if (state === 'fixed') {
			reasons.unshift(
				`Fixed: ${plural(cleanRunsSince, 'clean run')} since the last flaky failure on ${iso(lastFlakyT!).slice(0, 10)}; ` +
					`at the ${pct(rate)} of runs that failed while it was flaky, ${requiredRuns} are needed: ${budget}.`
			);
		} else {
			reasons.push(
				`${plural(cleanRunsSince, 'clean run')} since the last failure; ${requiredRuns - cleanRunsSince} more ` +
					`(${requiredRuns} in a row) are needed to call it fixed: at the ${pct(rate)} of runs that failed while it was flaky, ${budget}.`
			);
		}
	} else if (failingBranches.length > 0) {
		// Branch-only failures: kept out of the estimate above, but not "healthy" either.
		state = 'failing';
		firstDetectedAt = Math.min(...failingBranches.map((b) => Date.parse(b.firstFailedAt)));
		const defaultRuns = clean.filter((r) => r.obs.isDefaultBranch);
		const defaultFailed = defaultRuns.filter((r) => r.failed).length;
		const named = failingBranches
			.slice(0, 3)
			.map((b) => `${b.branch} (${b.failedRuns} of ${plural(b.runs, 'run')} failed, last ${b.lastFailedAt.slice(0, 10)})`)
			.join(', ');
		const more = failingBranches.length > 3 ? ` and ${failingBranches.length - 3} more` : '';
		reasons.push(
			`Failing on ${failingBranches.length === 1 ? 'feature branch' : `${failingBranches.length} feature branches`} ${named}${more}; ` +
				(defaultRuns.length === 0
					? 'the default branch has not run it yet.'
					: defaultFailed === 0
						? `never seen failing on the default branch (${plural(defaultRuns.length, 'run')}).`
						: `on the default branch ${defaultFailed} of ${plural(defaultRuns.length, 'run')} failed, not enough to call it flaky.`)
		);
		reasons.push('Likely a bug in an unmerged change: these failures are not counted as flakiness.');
	} else if (
		evidenceFailures.length > 0 &&
		(now - lastFlakyT! <= s.suspectDays * DAY_MS || streakTimes.length >= s.minIsolatedFailures)
	) {
		state = 'suspect';
		firstDetectedAt = evidenceFailures[0]!.t;
		reasons.push(
			streakTimes.length >= s.minIsolatedFailures
				? `Failed on ${plural(isolatedFailureCommits, 'commit')} but has only ${plural(evidence.length, 'run')}: too few to judge.`
				: `One unexplained failure (${iso(lastFlakyT!).slice(0, 10)}, commit ${short(evidenceFailures[evidenceFailures.length - 1]!.obs.commitSha)}) ` +
						`without a passing retry or re-run of that commit: not enough to call it flaky.`
		);
	} else {
		state = 'healthy';
		reasons.push(
			evidenceFailures.length === 0
				? `No flaky failures in ${plural(evidence.length, 'run')}.`
				: `One old unexplained failure in ${plural(evidence.length, 'run')}.`
		);
	}

	const pastBroken = segments.filter((seg, i) => seg.kind === 'broken' && !(tipBroken && i === lastIdx));
	for (const seg of pastBroken.slice(-3)) {
		const next = segments[segments.indexOf(seg) + 1];
		reasons.push(
			`Was broken from ${short(seg.firstSha)} (${seg.firstAt.slice(0, 10)})` +
				(next ? ` until ${short(next.firstSha)} (${next.firstAt.slice(0, 10)})` : '') +
				'; those failures are not counted as flakiness.'
		);
	}
	if (infraRuns.length > 0) {
		reasons.push(
			`${plural(infraRuns.length, 'failed run')} in jobs judged infrastructure failures ${infraRuns.length === 1 ? 'is' : 'are'} not counted.`
		);
	}
	if (branchFailuresIgnored > 0) {
		reasons.push(
			`${plural(branchFailuresIgnored, 'failed run')} on feature-branch commits that never passed ${branchFailuresIgnored === 1 ? 'is' : 'are'} not counted (possibly real bugs in unmerged changes).`
		);
	}

	// Impact: minutes per day this test's failures cost, at its current failure probability.
	const windowStart = now - s.impactWindowDays * DAY_MS;
	const recent = runs.filter((r) => r.t >= windowStart);
	const firstT = runs.length > 0 ? runs[0]!.t : now;
	const spanDays = Math.max(1, Math.min(s.impactWindowDays, (now - Math.max(firstT, windowStart)) / DAY_MS));
	const runsPerDay = recent.length / spanDays;
	const durationSource = recent.length > 0 ? recent : runs;
	const meanAttemptMinutes =
		durationSource.length === 0
			? 0
			: durationSource.reduce((sum, r) => sum + r.obs.durationMs / r.attempts, 0) / durationSource.length / 60_000;
	const impactMinutes = failureProbability * runsPerDay * meanAttemptMinutes;

	const failures = clean.filter((r) => r.obs.outcome === 'unexpected').length;
	const flakyRuns = clean.filter((r) => r.obs.outcome === 'flaky').length;
	const lastBrokenSeg = tipBroken ? rawSegments[lastIdx]! : null;

	// A test skipped in every run has no outcome to judge: it is neither healthy nor scored.
	if (runs.length === 0 && skippedRuns > 0) {
		state = 'skipped';
		reasons.splice(0, reasons.length, `Skipped in all ${plural(skippedRuns, 'run')}: there is no outcome to judge.`);
	}
	const figures = verdictFigures({
		skippedRuns,
		runs,
		infraRuns,
		brokenRuns,
		branchIgnoredRuns: clean.filter((r) => !brokenRuns.has(r) && branchIgnored(r)),
		evidence,
		rateRuns,
		defaultRunSet: rateRuns === defaultEvidence,
		now
	});
	const stateSince = stateSinceOf(state, {
		observations,
		positions,
		segments,
		tipBroken,
		changePoint,
		firstDetectedAt,
		fixedStreaks,
		lastFlakyT,
		evidenceFailures,
		suspectMs: s.suspectDays * DAY_MS
	});

	return {
		state,
		score,
		scoreLow: interval.low,
		scoreHigh: interval.high,
		flakeRate,
		runs: runs.length,
		failures,
		flakyRuns,
		mixedCommits: mixed.length,
		impactMinutes,
		firstDetectedAt: firstDetectedAt === null ? null : new Date(firstDetectedAt),
		lastFlakyAt: lastFlakyT === null ? null : new Date(lastFlakyT),
		lastSeenAt: Number.isFinite(lastSeen) ? new Date(lastSeen) : null,
		changePointSha: changePoint?.firstBadSha ?? null,
		changePointAt: changePoint ? new Date(changePoint.firstBadAt) : null,
		stateSince: stateSince === null ? null : new Date(stateSince),
		evidence: {
			version: 1,
			reasons,
			estimate: {
				mean: score,
				low: interval.low,
				high: interval.high,
				credibleMass: s.credibleMass,
				halfLifeDays: s.halfLifeDays,
				alpha: post.alpha,
				beta: post.beta,
				attempts: post.attempts,
				failedAttempts: post.failedAttempts
			},
			counts: {
				runs: runs.length,
				evidenceRuns: evidence.length,
				failures,
				flakyRuns,
				mixedCommits: mixed.length,
				isolatedFailures: isolatedFailureCommits,
				failureStreaks: streakTimes.length,
				infraRuns: infraRuns.length,
				skippedRuns,
				branchFailuresIgnored,
				brokenRuns: lastBrokenSeg ? lastBrokenSeg.counts.runs : 0
			},
			mixedCommits: mixed.slice(0, s.evidenceLimit).map(({ detectedT: _detectedT, ...m }) => m),
			mixedCommitsTotal: mixed.length,
			segments: segments.slice(-MAX_SEGMENTS),
			changePoint,
			fixedRule,
			failingBranches,
			infra: infraRuns
				.slice(-s.evidenceLimit)
				.reverse()
				.map((r) => ({
					runId: r.obs.runId,
					at: iso(r.t),
					commitSha: r.obs.commitSha,
					fingerprint: r.obs.errorFingerprint ?? null
				})),
			impact: { runsPerDay, meanAttemptMinutes, failureProbability },
			figures
		}
	};
}

/**
 * The "fixed" rule, sound when the verdict is re-checked after every run. Each failed run starts a
 * new clean streak; if the test is still flaky, the streak after the k-th failed run reaches N
 * runs with probability E[(1 − p)^N] = B(α, β + N) / B(α, β) (p's posterior from the runs up to
 * the last failure). Spending 1/(k(k + 1)) of the error budget 1 − c on the k-th streak keeps the
 * chance that a steadily flaky test is ever called fixed, over its whole life, below 1 − c.
 * N is fixed for the length of a streak (it depends only on the runs before it).
 */
function fixedRuleFor(streakRuns: readonly Run[], rateRuns: readonly Run[], s: AnalysisSettings): NonNullable<VerdictEvidence['fixedRule']> {
	// The streak: runs on any branch since the newest failure outside infrastructure and broken
	// segments (a failure on a feature branch, even one left out of the evidence, ends it too).
	let lastFailT = -Infinity;
	let looks = 0;
	for (const r of streakRuns) {
		if (!r.failed) continue;
		looks++;
		if (r.t > lastFailT) lastFailT = r.t;
	}
	looks = Math.max(1, looks);
	let cleanRunsSince = 0;
	for (const r of streakRuns) if (r.t > lastFailT) cleanRunsSince++;
	// The rate while flaky: runs up to that failure, default-branch ones when there are enough
	// (feature-branch data is censored: failures on commits that never passed are left out).
	let failed = 0;
	let passed = 0;
	for (const r of rateRuns) {
		if (r.t > lastFailT) continue;
		if (r.failed) failed++;
		else passed++;
	}
	const errorBudget = (1 - s.fixedConfidence) / (looks * (looks + 1));
	const alpha = s.priorAlpha + failed;
	const beta = s.priorBeta + passed;
	const lnB = lnBeta(alpha, beta);
	const lnChance = (n: number) => lnBeta(alpha, beta + n) - lnB;
	const target = Math.log(errorBudget);
	let hi = 1;
	while (lnChance(hi) > target && hi < MAX_REQUIRED_RUNS) hi *= 2;
	let lo = 0;
	while (hi - lo > 1) {
		const mid = (lo + hi) >> 1;
		if (lnChance(mid) > target) lo = mid;
		else hi = mid;
	}
	return {
		cleanRunsSince,
		requiredRuns: hi,
		rate: alpha / (alpha + beta),
		looks,
		errorBudget,
		chanceIfFlaky: Math.exp(lnChance(cleanRunsSince))
	};
}

interface FixedStreakTimes {
	/** The failure that ended the newest clean streak long enough for "fixed" (flaky again since). */
	relapseAt: number | null;
	/** When the current clean streak reached `requiredRuns` (fixed since). */
	fixedAt: number | null;
}

/**
 * The times the fixed rule changed the state, as it judged them then: for each clean streak that
 * ended in a failure, the runs it required were those of the rule at the failure that began it
 * (`fixedRuleFor` on the history up to that failure); the current streak uses `requiredRuns`.
 */
function fixedStreakTimes(streakRuns: readonly Run[], rateRuns: readonly Run[], s: AnalysisSettings, requiredRuns: number): FixedStreakTimes {
	let relapseAt: number | null = null;
	let prevFail = -1;
	for (let i = 0; i < streakRuns.length; i++) {
		if (!streakRuns[i]!.failed) continue;
		if (prevFail >= 0 && i - prevFail - 1 > 0) {
			const required = fixedRuleFor(streakRuns.slice(0, prevFail + 1), rateRuns, s).requiredRuns;
			if (i - prevFail - 1 >= required) relapseAt = streakRuns[i]!.t;
		}
		prevFail = i;
	}
	const reached = prevFail >= 0 ? streakRuns[prevFail + requiredRuns] : undefined;
	return { relapseAt, fixedAt: reached ? reached.t : null };
}

const ordinal = (n: number) => {
	const tens = n % 100;
	const suffix = tens >= 11 && tens <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
	return `${n}${suffix}`;
};

/**
 * The newest default-branch commits on which every run failed in an infrastructure-flagged job,
 * when there are at least INFRA_STREAK_COMMITS of them. A build that breaks the application for
 * every test looks like an outage to the per-job guard; a streak across commits is not one.
 */
function infraFailureStreak(runs: readonly Run[]): { streak: Position[]; prev: Position | null } | null {
	const positions = defaultBranchPositions(runs);
	let i = positions.length;
	while (i > 0 && positions[i - 1]!.runs.every((r) => r.infra)) i--;
	if (positions.length - i < INFRA_STREAK_COMMITS) return null;
	return { streak: positions.slice(i), prev: i > 0 ? positions[i - 1]! : null };
}

/**
 * Feature branches on which the test is failing now: the branch's newest run failed on a commit
 * that never passed (`ignored`), at or after `since`. A branch whose newest run passed (fixed, or
 * merged after a green pipeline) or that went quiet (abandoned) does not count.
 */
function failingBranchesOf(clean: readonly Run[], ignored: (r: Run) => boolean, since: number): FailingBranchEvidence[] {
	const byBranch = new Map<string, Run[]>();
	for (const r of clean) {
		if (r.obs.isDefaultBranch) continue;
		const list = byBranch.get(r.obs.branch);
		if (list) list.push(r);
		else byBranch.set(r.obs.branch, [r]);
	}
	const out: FailingBranchEvidence[] = [];
	for (const [branch, list] of byBranch) {
		const newest = list[list.length - 1]!;
		if (!ignored(newest) || newest.t < since) continue;
		const failed = list.filter(ignored);
		out.push({
			branch,
			failedRuns: failed.length,
			runs: list.length,
			firstFailedAt: iso(failed[0]!.t),
			lastFailedAt: iso(newest.t)
		});
	}
	return out.sort((a, b) => (a.lastFailedAt < b.lastFailedAt ? 1 : a.lastFailedAt > b.lastFailedAt ? -1 : 0));
}

/**
 * The figures a user reads, each over a named set of runs: every run of the history falls in one
 * bucket (counted, or not counted and why), so the counts add up to the runs analysed.
 */
function verdictFigures(x: {
	skippedRuns: number;
	runs: readonly Run[];
	infraRuns: readonly Run[];
	brokenRuns: ReadonlySet<Run>;
	branchIgnoredRuns: readonly Run[];
	evidence: readonly Run[];
	rateRuns: readonly Run[];
	defaultRunSet: boolean;
	now: number;
}): VerdictFigures {
	let flaky = 0;
	let unexpected = 0;
	for (const r of x.rateRuns) {
		if (!r.failed) continue;
		if (r.sticky) unexpected++;
		else flaky++;
	}
	let last: VerdictFigures['lastNotCountedFailure'] = null;
	const consider = (list: Iterable<Run>, reason: NotCountedReason) => {
		for (const r of list) {
			if (r.failed && (last === null || r.t > Date.parse(last.at))) last = { at: iso(r.t), runId: r.obs.runId, reason };
		}
	};
	consider(x.infraRuns, 'infrastructure');
	consider(x.brokenRuns, 'broken');
	consider(x.branchIgnoredRuns, 'feature-branch');
	return {
		runSet: x.defaultRunSet ? 'default-branch' : 'all-branches',
		totalRuns: x.runs.length + x.skippedRuns,
		countedRuns: x.rateRuns.length,
		failedRuns: flaky + unexpected,
		flakyRuns: flaky,
		unexpectedRuns: unexpected,
		notCounted: {
			skipped: x.skippedRuns,
			infrastructure: x.infraRuns.length,
			broken: x.brokenRuns.size,
			featureBranch: x.branchIgnoredRuns.length,
			otherBranches: x.evidence.length - x.rateRuns.length
		},
		lastNotCountedFailure: last,
		estimatedAt: iso(x.now)
	};
}

/** When the evidence for the state began (see Verdict.stateSince); null when the state is not one of the engine's. */
function stateSinceOf(
	state: VerdictState,
	x: {
		observations: readonly RunObservation[];
		positions: readonly Position[];
		segments: readonly SegmentEvidence[];
		tipBroken: boolean;
		changePoint: VerdictEvidence['changePoint'];
		firstDetectedAt: number | null;
		fixedStreaks: FixedStreakTimes;
		lastFlakyT: number | null;
		evidenceFailures: readonly Run[];
		suspectMs: number;
	}
): number | null {
	let firstT = Infinity;
	for (const o of x.observations) firstT = Math.min(firstT, o.at.getTime());
	if (!Number.isFinite(firstT)) return null;
	// The first run after the newest broken stretch that is over: where a recovery began.
	let afterBroken: number | null = null;
	const past = x.tipBroken ? x.segments.slice(0, -1) : x.segments;
	for (let i = past.length - 1; i >= 0; i--) {
		if (past[i]!.kind !== 'broken') continue;
		const next = x.segments[i + 1];
		if (next) afterBroken = Date.parse(next.firstAt);
		break;
	}
	switch (state) {
		case 'broken':
			return x.changePoint ? Date.parse(x.changePoint.firstBadAt) : null;
		case 'skipped':
			return firstT;
		case 'failing':
			return x.firstDetectedAt;
		case 'fixed':
			return x.fixedStreaks.fixedAt;
		case 'flaky':
			// Flaky from when it was proven, or when it failed again after a broken stretch or after a
			// clean streak that had made it fixed.
			return Math.max(x.firstDetectedAt ?? firstT, afterBroken ?? -Infinity, x.fixedStreaks.relapseAt ?? -Infinity);
		case 'suspect': {
			// The failure that opened the suspicion: the first of the newest chain of failures less
			// than the suspect window apart.
			const f = x.evidenceFailures;
			if (f.length === 0) return null;
			let i = f.length - 1;
			while (i > 0 && f[i]!.t - f[i - 1]!.t <= x.suspectMs) i--;
			return f[i]!.t;
		}
		case 'healthy': {
			let t = Math.max(firstT, afterBroken ?? -Infinity);
			if (x.lastFlakyT !== null) t = Math.max(t, x.lastFlakyT + x.suspectMs);
			return t;
		}
		default:
			return null;
	}
}
