import { describe, expect, it } from 'vitest';
import type { TestResultInput } from './protocol.js';
import { mergeRepeats, RepeatGroups } from './repeats.js';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, s)).toISOString();

function repeat(s: number, over: Partial<TestResultInput> = {}): TestResultInput {
	return {
		file: 'parcel.spec.ts',
		titlePath: ['parcels', 'wraps'],
		projectName: 'desktop',
		tags: ['slow'],
		outcome: 'expected',
		expectedStatus: 'passed',
		status: 'passed',
		attempts: 1,
		failedAttempts: 0,
		durationMs: 100,
		startedAt: at(s),
		annotations: [],
		...over
	};
}

const failed = (s: number, message: string, over: Partial<TestResultInput> = {}) =>
	repeat(s, { outcome: 'unexpected', status: 'failed', failedAttempts: 1, error: { message }, ...over });

describe('mergeRepeats', () => {
	it('makes repetitions that all passed one expected result with an attempt per repetition', () => {
		expect(mergeRepeats([repeat(2), repeat(0), repeat(1)])).toEqual({ ...repeat(0), attempts: 3, durationMs: 300 });
	});

	it('calls a test that failed in some repetitions and passed in others flaky, with the first failure as its error', () => {
		const merged = mergeRepeats([repeat(0), failed(1, 'torn'), repeat(2), failed(3, 'torn again'), repeat(4)]);
		expect(merged).toMatchObject({ outcome: 'flaky', status: 'passed', attempts: 5, failedAttempts: 2, error: { message: 'torn' }, startedAt: at(0) });
	});

	it('keeps unexpected when every repetition failed, and skipped ones out of the outcome', () => {
		expect(mergeRepeats([failed(0, 'a'), failed(1, 'b')])).toMatchObject({ outcome: 'unexpected', status: 'failed', attempts: 2, failedAttempts: 2 });
		const skipped = repeat(2, { outcome: 'skipped', status: 'skipped' });
		expect(mergeRepeats([failed(0, 'a'), skipped]).outcome).toBe('unexpected');
		expect(mergeRepeats([repeat(0), skipped]).outcome).toBe('expected');
		expect(mergeRepeats([skipped, repeat(3, { outcome: 'skipped', status: 'skipped' })]).outcome).toBe('skipped');
		// A repetition that passed on retry is flaky evidence of its own.
		expect(mergeRepeats([repeat(0), repeat(1, { outcome: 'flaky', attempts: 2, failedAttempts: 1 })])).toMatchObject({ outcome: 'flaky', attempts: 3, failedAttempts: 1 });
	});

	it('numbers the files of failed attempts across repetitions and keeps each annotation once', () => {
		const file = (attempt: number, path: string) => ({ name: 'trace', contentType: 'application/zip', path, attempt });
		const merged = mergeRepeats([
			failed(0, 'a', { attempts: 2, failedAttempts: 2, attachments: [file(0, 'a0.zip'), file(1, 'a1.zip')], annotations: [{ type: 'issue', description: '42' }] }),
			repeat(1, { annotations: [{ type: 'issue', description: '42' }, { type: 'slow' }] }),
			failed(2, 'b', { attachments: [file(0, 'b0.zip')] })
		]);
		expect(merged.attachments).toEqual([file(0, 'a0.zip'), file(1, 'a1.zip'), file(3, 'b0.zip')]);
		expect(merged.annotations).toEqual([{ type: 'issue', description: '42' }, { type: 'slow' }]);
		expect(merged).toMatchObject({ attempts: 4, failedAttempts: 3 });
	});

	it('stays within what the server accepts: at most 100 attempts', () => {
		const many = Array.from({ length: 60 }, (_, i) => failed(i, 'x', { attempts: 2, failedAttempts: 2 }));
		expect(mergeRepeats(many)).toMatchObject({ attempts: 100, failedAttempts: 100 });
	});
});

describe('RepeatGroups', () => {
	it('answers a test once all its repetitions are in, and the rest at the end', () => {
		const groups = new RepeatGroups<string>();
		const other = { titlePath: ['parcels', 'weighs'] };
		expect(groups.add('w1', repeat(0), 3)).toBeUndefined();
		expect(groups.add('o1', repeat(1, other), 3)).toBeUndefined();
		expect(groups.add('w2', failed(2, 'torn'), 3)).toBeUndefined();
		// The same title in another Playwright project is another test.
		expect(groups.add('m1', repeat(3, { projectName: 'mobile' }), 3)).toBeUndefined();
		const done = groups.add('w3', repeat(4), 3);
		expect(done?.item).toBe('w3');
		expect(done?.result).toMatchObject({ titlePath: ['parcels', 'wraps'], outcome: 'flaky', attempts: 3, failedAttempts: 1 });
		const rest = groups.drain();
		expect(rest.map((r) => [r.item, r.result.attempts])).toEqual([
			['o1', 1],
			['m1', 1]
		]);
		expect(groups.drain()).toEqual([]);
	});
});
