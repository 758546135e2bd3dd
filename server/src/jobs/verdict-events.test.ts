import { describe, expect, it } from 'vitest';
import { analyzeTest, resolveQuarantinePolicy, type RunObservation } from '../analysis/index.js';
import type { HealthBefore } from '../repositories/events.js';
import { policyAction, verdictEvent } from './verdict-events.js';

/** Branch-only failures and inactive tests make no event and are never quarantined automatically. */

const T0 = Date.UTC(2026, 10, 1);
const obs = (i: number, branch: string, outcome: RunObservation['outcome']): RunObservation => ({
	runId: `r${i}`,
	at: new Date(T0 + i * 3_600_000),
	commitSha: `${branch}-${i}`,
	branch,
	isDefaultBranch: branch === 'main',
	commitOrder: branch === 'main' ? i : undefined,
	pipelineId: String(i),
	jobId: String(i),
	isMergeRequest: branch !== 'main',
	outcome,
	attempts: outcome === 'flaky' ? 2 : 1,
	failedAttempts: outcome === 'expected' ? 0 : 1,
	durationMs: 1000,
	errorFingerprint: outcome === 'expected' ? null : 'fp',
	infra: false
});
const passes = Array.from({ length: 30 }, (_, i) => obs(i, 'main', 'expected'));
const failing = analyzeTest([...passes, obs(40, 'feature/x', 'unexpected'), obs(41, 'feature/x', 'unexpected')]);
const flaky = analyzeTest(passes.map((o, i) => (i % 3 === 0 ? obs(i, 'main', 'flaky') : o)));
const healthy: HealthBefore = { state: 'healthy', quarantine: null, lastPolicyRelease: null };
const policy = resolveQuarantinePolicy({ minFailureChance: 0.01 });
const now = new Date(T0 + 50 * 3_600_000);

describe('events and the quarantine policy for failing and inactive tests', () => {
	it('records no event when a test becomes failing, and never quarantines it', () => {
		expect(failing.state).toBe('failing');
		expect(verdictEvent('p', 't', healthy, failing)).toBeNull();
		expect(policyAction(policy, healthy, failing, now)).toBeNull();
	});

	it('skips an inactive test: no event, no automatic quarantine; the same verdict on an active test has both', () => {
		expect(flaky.state).toBe('flaky');
		expect(verdictEvent('p', 't', healthy, flaky)).toMatchObject({ kind: 'flaky', toState: 'flaky' });
		expect(policyAction(policy, healthy, flaky, now)).toMatchObject({ quarantine: expect.any(Object) });
		const inactive = { ...healthy, inactiveSince: new Date(T0) };
		expect(verdictEvent('p', 't', inactive, flaky)).toBeNull();
		expect(policyAction(policy, inactive, flaky, now)).toBeNull();
	});
});
