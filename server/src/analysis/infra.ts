/**
 * The per-job infrastructure guard. When a job loses its browser, database or network, many of its
 * tests fail at once, usually with one error; retried elsewhere they pass, which would look like
 * "mixed outcomes on the same commit" for every one of them. Jobs judged here are marked, and
 * their failures are kept out of flakiness evidence.
 */
import type { Outcome } from './types.js';
import { DEFAULT_INFRA_GUARD_SETTINGS, type InfraGuardSettings } from './settings.js';

/** What the guard needs of one test's result in the job. */
export interface JobResult {
	outcome: Outcome;
	/** Fingerprint of the first error of the first failed attempt. */
	errorFingerprint?: string | null | undefined;
	/** When the test's first attempt started; enables the burst rule. */
	startedAt?: Date | string | undefined;
}

export interface InfraJudgement {
	infra: boolean;
	/** One sentence for the run page, whichever way the decision went. */
	reason: string;
	/** Non-skipped results. */
	results: number;
	/** Results whose first attempt failed (outcome unexpected or flaky). */
	firstAttemptFailures: number;
	failureShare: number;
	/** The most common fingerprint among the failures, when any failure had one. */
	topFingerprint: string | null;
	topFingerprintCount: number;
}

const percent = (x: number) => `${Math.round(x * 100)}%`;

/** Settings come resolved (`resolveInfraGuardSettings`), once per project rather than per job. */
export function judgeJobInfra(
	results: readonly JobResult[],
	s: InfraGuardSettings = DEFAULT_INFRA_GUARD_SETTINGS
): InfraJudgement {
	let total = 0;
	let failures = 0;
	const byFingerprint = new Map<string, number>();
	const startsByFingerprint = new Map<string, number[]>();
	const allStarts: number[] = [];
	for (const r of results) {
		if (r.outcome === 'skipped') continue;
		total++;
		const t = r.startedAt === undefined ? Number.NaN : new Date(r.startedAt).getTime();
		if (Number.isFinite(t)) allStarts.push(t);
		// Playwright stops retrying at the first pass, so both outcomes mean the first attempt failed.
		if (r.outcome !== 'unexpected' && r.outcome !== 'flaky') continue;
		failures++;
		if (!r.errorFingerprint) continue;
		byFingerprint.set(r.errorFingerprint, (byFingerprint.get(r.errorFingerprint) ?? 0) + 1);
		if (Number.isFinite(t)) {
			const list = startsByFingerprint.get(r.errorFingerprint);
			if (list) list.push(t);
			else startsByFingerprint.set(r.errorFingerprint, [t]);
		}
	}
	let topFingerprint: string | null = null;
	let topCount = 0;
	for (const [fp, n] of byFingerprint) {
		if (n > topCount || (n === topCount && topFingerprint !== null && fp < topFingerprint)) {
			topFingerprint = fp;
			topCount = n;
		}
	}
	const failureShare = total === 0 ? 0 : failures / total;
	const base = { results: total, firstAttemptFailures: failures, failureShare, topFingerprint, topFingerprintCount: topCount };
	const summary = `${failures} of ${total} tests (${percent(failureShare)}) failed their first attempt`;
	const cluster =
		topFingerprint === null ? '' : `; ${topCount} of them with one error (fingerprint ${topFingerprint})`;

	if (total < s.minResults) {
		return { ...base, infra: false, reason: `${summary}; too few results (< ${s.minResults}) to judge the job` };
	}
	if (failureShare >= s.failureShare) {
		return {
			...base,
			infra: true,
			reason: `${summary}${cluster}: at least ${percent(s.failureShare)} failed, an infrastructure failure`
		};
	}
	if (
		topCount >= s.clusterMinFailures &&
		topCount >= s.clusterConcentration * failures &&
		topCount >= s.clusterShare * total
	) {
		return {
			...base,
			infra: true,
			reason: `${summary}${cluster}: one error across many tests points at infrastructure`
		};
	}
	const burst = largestBurst(startsByFingerprint, allStarts, s);
	if (burst) {
		return {
			...base,
			infra: true,
			reason:
				`${summary}${cluster}: ${burst.count} of the ${burst.started} tests started within ${Math.round(burst.spanMs / 1000)} s ` +
				`failed with one error (fingerprint ${burst.fingerprint}), a short outage`
		};
	}
	return { ...base, infra: false, reason: `${summary}${cluster}` };
}

/**
 * A short outage (the app server restarting for half a minute) fails whatever starts at that
 * moment, with one error: consecutive tests, with (almost) no pass among them. Flaky tests or
 * regressions that share a generic message ("Test timeout of 30000ms exceeded.") fail with
 * passing tests in between.
 */
function largestBurst(
	starts: Map<string, number[]>,
	allStarts: number[],
	s: InfraGuardSettings
): { fingerprint: string; count: number; started: number; spanMs: number } | null {
	allStarts.sort((a, b) => a - b);
	// Results started in [from, to].
	const startedBetween = (from: number, to: number) => upperBound(allStarts, to) - lowerBound(allStarts, from);
	const windowMs = s.burstWindowSeconds * 1000;
	let best: { fingerprint: string; count: number; started: number; spanMs: number } | null = null;
	for (const [fingerprint, times] of starts) {
		if (times.length < s.burstMinFailures || (best && times.length <= best.count)) continue;
		times.sort((a, b) => a - b);
		for (let lo = 0; lo < times.length; lo++) {
			for (let hi = lo + s.burstMinFailures - 1; hi < times.length && times[hi]! - times[lo]! <= windowMs; hi++) {
				const count = hi - lo + 1;
				const started = startedBetween(times[lo]!, times[hi]!);
				if (count >= s.burstShare * started && (!best || count > best.count)) {
					best = { fingerprint, count, started, spanMs: times[hi]! - times[lo]! };
				}
			}
		}
	}
	return best;
}

function lowerBound(sorted: readonly number[], x: number): number {
	let lo = 0;
	let hi = sorted.length;
	while (lo < hi) {
		const mid = (lo + hi) >> 1;
		if (sorted[mid]! < x) lo = mid + 1;
		else hi = mid;
	}
	return lo;
}

function upperBound(sorted: readonly number[], x: number): number {
	let lo = 0;
	let hi = sorted.length;
	while (lo < hi) {
		const mid = (lo + hi) >> 1;
		if (sorted[mid]! <= x) lo = mid + 1;
		else hi = mid;
	}
	return lo;
}

/** How often one error fingerprint failed a test, and how often in jobs judged infrastructure failures. */
export interface FingerprintStats {
	fingerprint: string;
	failures: number;
	failuresInInfraJobs: number;
}

/**
 * Fingerprints that are infrastructure errors wherever they appear: those that (nearly) only
 * ever show up in jobs judged infrastructure failures. A small outage below the guard's
 * thresholds (three tests losing the app server for a moment) carries the same error as the big
 * ones. Generic errors ("Test timeout of 30000ms exceeded.") also fail ordinary flaky tests
 * outside such jobs, so they stay evidence even when a job full of them was judged.
 */
export function infraFingerprints(
	stats: Iterable<FingerprintStats>,
	s: InfraGuardSettings = DEFAULT_INFRA_GUARD_SETTINGS
): Set<string> {
	const out = new Set<string>();
	for (const f of stats) {
		if (f.failuresInInfraJobs >= s.fingerprintMinFailures && f.failuresInInfraJobs >= s.fingerprintInfraShare * f.failures) {
			out.add(f.fingerprint);
		}
	}
	return out;
}
