import { describe, expect, it } from 'vitest';
import { judgeQuarantine } from './quarantine.js';

const a = { file: 'a.spec.ts', titlePath: ['suite', 'a'], projectName: 'chromium' };
const b = { file: 'b.spec.ts', titlePath: ['b'], projectName: 'firefox' };

describe('judgeQuarantine', () => {
	it('passes only when every failure is quarantined', () => {
		const list = { tests: [a, { ...b, projectName: 'webkit' }] };
		expect(judgeQuarantine([a], list, 0)).toEqual({ unexpected: 1, quarantined: 1, allQuarantined: true });
		expect(judgeQuarantine([a, b], list, 0)).toEqual({ unexpected: 2, quarantined: 1, allQuarantined: false });
	});

	it('matches an entry without a project in every project', () => {
		expect(judgeQuarantine([b], { tests: [{ file: b.file, titlePath: b.titlePath, projectName: null }] }, 0).allQuarantined).toBe(true);
	});

	it('never covers errors outside tests, a missing list, or a run without failures', () => {
		expect(judgeQuarantine([a], { tests: [a] }, 1).allQuarantined).toBe(false);
		expect(judgeQuarantine([a], null, 0).allQuarantined).toBe(false);
		expect(judgeQuarantine([], { tests: [a] }, 0).allQuarantined).toBe(false);
	});
});
