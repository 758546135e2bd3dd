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
	for (const r of results) {
		if (r.outcome === 'skipped') continue;
		total++;
		// Playwright stops retrying at the first pass, so both outcomes mean the first attempt failed.
		if (r.outcome !== 'unexpected' && r.outcome !== 'flaky') continue;
		failures++;
		if (r.errorFingerprint) byFingerprint.set(r.errorFingerprint, (byFingerprint.get(r.errorFingerprint) ?? 0) + 1);
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
	return { ...base, infra: false, reason: `${summary}${cluster}` };
}
