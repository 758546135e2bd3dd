import { describe, expect, it } from 'vitest';
import { infraFingerprints, judgeJobInfra, type JobResult } from './infra.js';
import { resolveInfraGuardSettings } from './settings.js';

const passes = (n: number): JobResult[] => Array.from({ length: n }, () => ({ outcome: 'expected' }));
const fails = (n: number, fp: (i: number) => string | null, outcome: JobResult['outcome'] = 'unexpected'): JobResult[] =>
	Array.from({ length: n }, (_, i) => ({ outcome, errorFingerprint: fp(i) }));

describe('judgeJobInfra', () => {
	it('marks a job where most tests failed', () => {
		const j = judgeJobInfra([...passes(30), ...fails(70, () => 'connrefused00000')]);
		expect(j.infra).toBe(true);
		expect(j.failureShare).toBeCloseTo(0.7, 12);
		expect(j.topFingerprint).toBe('connrefused00000');
		expect(j.topFingerprintCount).toBe(70);
		expect(j.reason).toMatch(/70 of 100 tests \(70%\) failed their first attempt/);
	});

	it('marks a job where a handful of tests failed with one error, even when retries passed', () => {
		const j = judgeJobInfra([...passes(186), ...fails(12, () => 'browserclosed000', 'flaky'), ...fails(2, (i) => `own${i}`)]);
		expect(j.infra).toBe(true);
		expect(j.firstAttemptFailures).toBe(14);
		expect(j.reason).toMatch(/one error across many tests/);
	});

	it('leaves ordinary failures with distinct errors alone', () => {
		const j = judgeJobInfra([...passes(180), ...fails(12, (i) => `assert${i}`)]);
		expect(j.infra).toBe(false);
		expect(j.reason).not.toMatch(/infrastructure/);
	});

	it('ignores skipped tests and never judges tiny jobs', () => {
		const tiny = judgeJobInfra([...fails(5, () => 'x'), ...Array.from({ length: 50 }, () => ({ outcome: 'skipped' as const }))]);
		expect(tiny.results).toBe(5);
		expect(tiny.infra).toBe(false);
		expect(tiny.reason).toMatch(/too few results/);
	});

	it('marks a short outage: consecutive tests failing with one error, no pass among them', () => {
		const t0 = Date.UTC(2025, 2, 3, 10);
		const at = (i: number) => new Date(t0 + i * 5_000).toISOString();
		const job: JobResult[] = Array.from({ length: 200 }, (_, i) =>
			i >= 100 && i < 104
				? { outcome: 'flaky', errorFingerprint: 'connrefused00000', startedAt: at(i) }
				: { outcome: 'expected', startedAt: at(i) }
		);
		const j = judgeJobInfra(job);
		expect(j.infra).toBe(true);
		expect(j.reason).toMatch(/4 of the 4 tests started within 15 s failed with one error/);
		// Without start times the burst cannot be seen.
		expect(judgeJobInfra(job.map(({ startedAt: _startedAt, ...r }) => r)).infra).toBe(false);
	});

	it('does not take failures with one generic error but passes in between for a burst', () => {
		const t0 = Date.UTC(2025, 2, 3, 10);
		const job: JobResult[] = Array.from({ length: 200 }, (_, i) => ({
			outcome: i % 10 === 3 && i < 40 ? 'unexpected' : 'expected',
			errorFingerprint: i % 10 === 3 && i < 40 ? 'testtimeout00000' : null,
			startedAt: new Date(t0 + i * 2_000)
		}));
		expect(judgeJobInfra(job).infra).toBe(false);
	});

	it('takes its thresholds from settings', () => {
		const job = [...passes(60), ...fails(40, (i) => `a${i}`)];
		expect(judgeJobInfra(job).infra).toBe(false);
		expect(judgeJobInfra(job, resolveInfraGuardSettings({ failureShare: 0.4 })).infra).toBe(true);
	});
});

describe('infraFingerprints', () => {
	it('keeps errors seen (nearly) only in infrastructure jobs, not generic ones', () => {
		const set = infraFingerprints([
			{ fingerprint: 'connrefused', failures: 420, failuresInInfraJobs: 400 },
			{ fingerprint: 'testtimeout', failures: 300, failuresInInfraJobs: 40 },
			{ fingerprint: 'rare', failures: 6, failuresInInfraJobs: 6 }
		]);
		expect([...set]).toEqual(['connrefused']);
	});
});
