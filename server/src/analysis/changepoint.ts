/**
 * Bayesian change-point segmentation of one test's history, after LUCI Analysis (Chromium).
 *
 * The history is a sequence of commit positions; each position holds counts of runs R, runs with
 * an unexpected result H, such runs that were retried T, and such runs where every retry failed
 * too U. A segment's marginal log-likelihood is
 *   lnB(H + a1, R − H + b1) − lnB(a1, b1) + lnB(U + a2, T − U + b2) − lnB(a2, b2)
 * and a segment is split at its best point when that gains more than the threshold, recursively.
 *
 * Binary segmentation alone misses a short block in the middle of a long history ("masking": a
 * regression fixed four commits later barely changes either half's rate). So each step also tries
 * to cut out a short block bounded by failures, with two change points; that wins when its gain
 * exceeds the threshold once per change point and beats the best single split by a threshold.
 */
import { lnBeta, lnGamma } from './beta.js';

export interface PositionCounts {
	/** Runs. */
	runs: number;
	/** Runs with at least one unexpected attempt. */
	failed: number;
	/** Failed runs that had two or more attempts. */
	retried: number;
	/** Retried failed runs in which every attempt failed ("sticky"). */
	sticky: number;
}

export interface ChangePointPriors {
	a1: number;
	b1: number;
	a2: number;
	b2: number;
}

export const LUCI_PRIORS: ChangePointPriors = { a1: 0.05, b1: 0.5, a2: 0.5, b2: 0.5 };
/** ln(10^4): a split must make the data 10 000 times more likely. */
export const LUCI_SPLIT_THRESHOLD = Math.log(1e4);

export interface Segment {
	/** Index of the first position in the segment. */
	start: number;
	/** Index after the last position. */
	end: number;
	counts: PositionCounts;
	/** Log-likelihood gain of the split that opened this segment (0 for the first). */
	gainAtStart: number;
}

// Counts are integers, so ln Γ(k + offset) is cached per offset: the split search evaluates
// thousands of segment likelihoods per test and would otherwise spend its time in lnGamma.
const lnGammaCaches = new Map<number, Float64Array>();

function lnGammaShifted(k: number, offset: number): number {
	let cache = lnGammaCaches.get(offset);
	if (cache === undefined || k >= cache.length) {
		const size = Math.max(1024, 2 ** Math.ceil(Math.log2(k + 1)));
		const grown = new Float64Array(size);
		const from = cache?.length ?? 0;
		if (cache !== undefined) grown.set(cache);
		for (let i = from; i < size; i++) grown[i] = lnGamma(i + offset);
		lnGammaCaches.set(offset, grown);
		cache = grown;
	}
	return cache[k]!;
}

function lnBetaCounts(successes: number, failures: number, a: number, b: number): number {
	if (Number.isInteger(successes) && Number.isInteger(failures) && successes < 1 << 20 && failures < 1 << 20) {
		return lnGammaShifted(successes, a) + lnGammaShifted(failures, b) - lnGammaShifted(successes + failures, a + b);
	}
	return lnBeta(successes + a, failures + b);
}

/** Marginal log-likelihood of one segment under the LUCI model. */
export function segmentLogLikelihood(c: PositionCounts, priors: ChangePointPriors = LUCI_PRIORS): number {
	return scorer(priors)(c.runs, c.failed, c.retried, c.sticky);
}

type Scorer = (runs: number, failed: number, retried: number, sticky: number) => number;
const scorers = new WeakMap<ChangePointPriors, Scorer>();

/** The likelihood with the priors' normalising constants computed once. */
function scorer(priors: ChangePointPriors): Scorer {
	let f = scorers.get(priors);
	if (f === undefined) {
		const { a1, b1, a2, b2 } = priors;
		const norm = lnBeta(a1, b1) + lnBeta(a2, b2);
		f = (runs, failed, retried, sticky) =>
			lnBetaCounts(failed, runs - failed, a1, b1) + lnBetaCounts(sticky, retried - sticky, a2, b2) - norm;
		scorers.set(priors, f);
	}
	return f;
}

/**
 * Splits a history (one entry per commit position, oldest first) into segments. Runs at one
 * position are never separated. O(n) per split search with prefix sums, so O(n · segments).
 */
export function segmentHistory(
	positions: readonly PositionCounts[],
	options: { priors?: ChangePointPriors; threshold?: number; maxBlock?: number } = {}
): Segment[] {
	const priors = options.priors ?? LUCI_PRIORS;
	const threshold = options.threshold ?? LUCI_SPLIT_THRESHOLD;
	const maxBlock = options.maxBlock ?? 64;
	const n = positions.length;
	if (n === 0) return [];
	const pr = new Float64Array(n + 1);
	const ph = new Float64Array(n + 1);
	const pt = new Float64Array(n + 1);
	const pu = new Float64Array(n + 1);
	for (let i = 0; i < n; i++) {
		const p = positions[i]!;
		pr[i + 1] = pr[i]! + p.runs;
		ph[i + 1] = ph[i]! + p.failed;
		pt[i + 1] = pt[i]! + p.retried;
		pu[i + 1] = pu[i]! + p.sticky;
	}
	const countsOf = (s: number, e: number): PositionCounts => ({
		runs: pr[e]! - pr[s]!,
		failed: ph[e]! - ph[s]!,
		retried: pt[e]! - pt[s]!,
		sticky: pu[e]! - pu[s]!
	});
	const score = scorer(priors);
	const ll = (s: number, e: number) => score(pr[e]! - pr[s]!, ph[e]! - ph[s]!, pt[e]! - pt[s]!, pu[e]! - pu[s]!);

	const cuts: { at: number; gain: number }[] = [];
	// Explicit stack instead of recursion: long, many-segment histories must not blow the stack.
	const stack: [number, number][] = [[0, n]];
	while (stack.length > 0) {
		const [s, e] = stack.pop()!;
		if (e - s < 2) continue;
		// A segment without failures, or failing throughout, has nothing to split.
		const failed = ph[e]! - ph[s]!;
		if (failed === 0 || (failed === pr[e]! - pr[s]! && pu[e]! - pu[s]! === pt[e]! - pt[s]!)) continue;
		const whole = ll(s, e);
		let bestGain = -Infinity;
		let bestAt = -1;
		for (let k = s + 1; k < e; k++) {
			const gain = ll(s, k) + ll(k, e) - whole;
			if (gain > bestGain) {
				bestGain = gain;
				bestAt = k;
			}
		}
		// A block [i, j) strictly inside, starting and ending at positions with failures.
		let blockGain = -Infinity;
		let blockStart = -1;
		let blockEnd = -1;
		if (e - s >= 3) {
			for (let i = s + 1; i < e - 1; i++) {
				if (positions[i]!.failed === 0) continue;
				const left = ll(s, i);
				for (let j = i + 1; j < e && j - i <= maxBlock; j++) {
					if (positions[j - 1]!.failed === 0) continue;
					const gain = left + ll(i, j) + ll(j, e) - whole;
					if (gain > blockGain) {
						blockGain = gain;
						blockStart = i;
						blockEnd = j;
					}
				}
			}
		}
		if (blockGain - 2 * threshold > Math.max(0, bestGain - threshold)) {
			cuts.push({ at: blockStart, gain: blockGain }, { at: blockEnd, gain: blockGain });
			stack.push([s, blockStart], [blockStart, blockEnd], [blockEnd, e]);
		} else if (bestGain > threshold) {
			cuts.push({ at: bestAt, gain: bestGain });
			stack.push([s, bestAt], [bestAt, e]);
		}
	}
	cuts.sort((x, y) => x.at - y.at);
	const segments: Segment[] = [];
	let start = 0;
	let gainAtStart = 0;
	for (const cut of [...cuts, { at: n, gain: 0 }]) {
		segments.push({ start, end: cut.at, counts: countsOf(start, cut.at), gainAtStart });
		start = cut.at;
		gainAtStart = cut.gain;
	}
	return segments;
}
