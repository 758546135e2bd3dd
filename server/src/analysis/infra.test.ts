import { describe, expect, it } from 'vitest';
import { errorFingerprint, normaliseErrorMessage, stripAnsi } from './fingerprint.js';
import { judgeJobInfra, type JobResult } from './infra.js';
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
		const j = judgeJobInfra([...passes(190), ...fails(8, () => 'browserclosed000', 'flaky'), ...fails(2, (i) => `own${i}`)]);
		expect(j.infra).toBe(true);
		expect(j.firstAttemptFailures).toBe(10);
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

	it('takes its thresholds from settings', () => {
		const job = [...passes(60), ...fails(40, (i) => `a${i}`)];
		expect(judgeJobInfra(job).infra).toBe(false);
		expect(judgeJobInfra(job, resolveInfraGuardSettings({ failureShare: 0.4 })).infra).toBe(true);
	});
});

describe('error fingerprints', () => {
	const ansi = '\u001b[2mexpect(\u001b[22m\u001b[31mreceived\u001b[39m\u001b[2m).\u001b[22mtoBe\u001b[2m(\u001b[22m\u001b[32mexpected\u001b[39m\u001b[2m)\u001b[22m';

	it('strips ANSI colour codes', () => {
		expect(stripAnsi(`Error: ${ansi}`)).toBe('Error: expect(received).toBe(expected)');
	});

	it('drops the snippet, call log and stack, and masks volatile tokens', () => {
		const message =
			'Error: page.goto: net::ERR_CONNECTION_REFUSED at http://localhost:3000/checkout?id=42\n' +
			'Call log:\n  - navigating to "http://localhost:3000/checkout", waiting until "load"\n\n' +
			'  12 |   await page.goto("/checkout");\n    at /builds/app/tests/checkout.spec.ts:12:14';
		expect(normaliseErrorMessage(message)).toBe(
			'Error: page.goto: net::ERR_CONNECTION_REFUSED at <url>\n- navigating to "<url>", waiting until "load"'
		);
	});

	it('gives one fingerprint to one cause and different ones to different causes', () => {
		const a = errorFingerprint("Error: locator.click: Timeout 5000ms exceeded.\nCall log:\n  - waiting for getByRole('button')\n  - retrying 3 times");
		const b = errorFingerprint("Error: locator.click: Timeout 7000ms exceeded.\nCall log:\n  - waiting for getByRole('button')");
		const other = errorFingerprint("Error: locator.click: Timeout 5000ms exceeded.\nCall log:\n  - waiting for getByRole('link')");
		const c = errorFingerprint(`Error: ${ansi}\n\nExpected: 2\nReceived: 1`);
		expect(a).toMatch(/^[0-9a-f]{16}$/);
		expect(a).toBe(b);
		expect(c).not.toBe(a);
		expect(other).not.toBe(a);
		expect(errorFingerprint('Error: run 3f2a9c81d0 failed in /tmp/x/y.ts')).toBe(
			errorFingerprint('Error: run 77aa01bc9e failed in /var/z/w.ts')
		);
	});
});
