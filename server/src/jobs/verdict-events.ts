import type { QuarantinePolicy, Verdict } from '../analysis/index.js';
import type { HealthBefore, TestEventInput } from '../repositories/events.js';

/**
 * What a new verdict means beyond itself: the event it is (a test became flaky or broken, or was
 * fixed) and what the quarantine policy does about it. Pure: the repositories read and write.
 */

const pct = (p: number) => `${(p * 100).toFixed(p < 0.01 ? 1 : 0)}%`;

function evidenceOf(v: Verdict): Record<string, unknown> {
	return {
		score: v.score,
		scoreLow: v.scoreLow,
		scoreHigh: v.scoreHigh,
		runs: v.runs,
		failures: v.failures,
		flakyRuns: v.flakyRuns,
		impactMinutes: v.impactMinutes,
		changePointSha: v.changePointSha,
		changePointAt: v.changePointAt,
		lastFlakyAt: v.lastFlakyAt
	};
}

/**
 * The event a verdict is, if any. A quarantined test keeps its stored state until released, so its
 * changes show when it is released. Becoming suspect, or healthy from a suspicion that was never
 * flaky or broken, is no news.
 */
export function verdictEvent(projectId: string, testId: string, before: HealthBefore | undefined, v: Verdict): TestEventInput | null {
	const from = before?.state ?? null;
	const to = v.state;
	// An inactive test (re-analysed by a recompute, not by a run of its own) is no news; nor is
	// `failing` (a branch-only failure: the MR note tells its author, no event, no GitLab issue).
	if (from === 'quarantined' || from === to || before?.inactiveSince) return null;
	const base = { projectId, testId, fromState: from, toState: to, details: evidenceOf(v) };
	if (to === 'flaky') return { ...base, kind: 'flaky' };
	if (to === 'broken') return { ...base, kind: 'broken' };
	// Recovered: from flaky or broken to fixed or healthy, also by way of suspect (the first passes after
	// a broken stretch often leave its failures looking like a suspect's before the stretch is clear).
	const wasBad = from === 'flaky' || from === 'broken' || (from === 'suspect' && (before?.lastVerdictEvent === 'flaky' || before?.lastVerdictEvent === 'broken'));
	if (wasBad && (to === 'fixed' || to === 'healthy')) return { ...base, kind: 'fixed' };
	return null;
}

export type PolicyAction = { quarantine: { reason: string; expiresAt: Date } } | { release: string } | null;

/**
 * The automatic quarantine: a flaky test whose failure chance is at least the threshold by the lower
 * bound of its interval is quarantined for the policy's days; a test the policy quarantined is
 * released once its verdict is fixed (or healthy). After a policy quarantine ended (expired, or a
 * person released it), only new flaky failures quarantine the test again.
 */
export function policyAction(policy: QuarantinePolicy, before: HealthBefore | undefined, v: Verdict, now: Date): PolicyAction {
	const q = before?.quarantine;
	if (q) return q.by === POLICY && (v.state === 'fixed' || v.state === 'healthy') ? { release: q.id } : null;
	const min = policy.minFailureChance;
	// Only flaky tests (never `failing`, broken or suspect ones), and never an inactive one.
	if (min === undefined || v.state !== 'flaky' || v.scoreLow < min || before?.inactiveSince) return null;
	const ended = before?.lastPolicyRelease;
	if (ended && (!v.lastFlakyAt || v.lastFlakyAt <= ended)) return null;
	return {
		quarantine: {
			reason: `Automatic: fails ${pct(v.score)} of attempts (${pct(v.scoreLow)}–${pct(v.scoreHigh)}), at least ${pct(min)} by the project's policy`,
			expiresAt: new Date(now.getTime() + policy.days * 86_400_000)
		}
	};
}

/** Who the automatic quarantine is, in quarantines.created_by and released_by. */
export const POLICY = 'policy';
