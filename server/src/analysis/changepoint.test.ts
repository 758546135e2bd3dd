import { describe, expect, it } from 'vitest';
import { LUCI_SPLIT_THRESHOLD, segmentHistory, segmentLogLikelihood, type PositionCounts } from './changepoint.js';

const pass: PositionCounts = { runs: 1, failed: 0, retried: 0, sticky: 0 };
const stickyFail: PositionCounts = { runs: 1, failed: 1, retried: 1, sticky: 1 };
const flake: PositionCounts = { runs: 1, failed: 1, retried: 1, sticky: 0 };
const repeat = (c: PositionCounts, n: number) => Array.from({ length: n }, () => c);

describe('segmentLogLikelihood', () => {
	// Reference values from SciPy's betaln with LUCI's priors (a1=0.05, b1=0.5, a2=b2=0.5).
	it.each([
		[{ runs: 10, failed: 3, retried: 2, sticky: 1 }, -10.922413667983843],
		[{ runs: 200, failed: 0, retried: 0, sticky: 0 }, -0.35725625669038186],
		[{ runs: 40, failed: 40, retried: 40, sticky: 40 }, -6.750721252748422]
	])('%o', (counts, expected) => {
		expect(segmentLogLikelihood(counts)).toBeCloseTo(expected, 10);
	});

	it('uses ln(10^4) as the default threshold', () => {
		expect(LUCI_SPLIT_THRESHOLD).toBeCloseTo(9.2103403719761836, 12);
	});
});

describe('segmentHistory', () => {
	it('keeps a clean history in one segment', () => {
		expect(segmentHistory(repeat(pass, 300))).toHaveLength(1);
	});

	it('splits exactly where a deterministic failure begins', () => {
		const segments = segmentHistory([...repeat(pass, 150), ...repeat(stickyFail, 40)]);
		expect(segments.map((s) => [s.start, s.end])).toEqual([
			[0, 150],
			[150, 190]
		]);
		expect(segments[1]!.counts).toEqual({ runs: 40, failed: 40, retried: 40, sticky: 40 });
		expect(segments[1]!.gainAtStart).toBeGreaterThan(LUCI_SPLIT_THRESHOLD);
	});

	it('finds a regression and its fix', () => {
		const segments = segmentHistory([...repeat(pass, 150), ...repeat(stickyFail, 40), ...repeat(pass, 60)]);
		expect(segments.map((s) => [s.start, s.end])).toEqual([
			[0, 150],
			[150, 190],
			[190, 250]
		]);
	});

	it('splits off two sticky failures after a long clean run (gain 10.77 > 9.21)', () => {
		const segments = segmentHistory([...repeat(pass, 200), ...repeat(stickyFail, 2)]);
		expect(segments).toHaveLength(2);
		expect(segments[1]!.gainAtStart).toBeCloseTo(10.766683151603848, 9);
	});

	it('cuts a short failing block out of the middle, which no single split can justify', () => {
		const history = [...repeat(pass, 180), ...repeat(stickyFail, 5), ...repeat(pass, 80)];
		const single = Math.max(
			...[180, 185].map(
				(k) =>
					segmentLogLikelihood(segmentHistory(history.slice(0, k), { threshold: Infinity })[0]!.counts) +
					segmentLogLikelihood(segmentHistory(history.slice(k), { threshold: Infinity })[0]!.counts) -
					segmentLogLikelihood(segmentHistory(history, { threshold: Infinity })[0]!.counts)
			)
		);
		expect(single).toBeLessThan(LUCI_SPLIT_THRESHOLD);
		expect(segmentHistory(history).map((s) => [s.start, s.end])).toEqual([
			[0, 180],
			[180, 185],
			[185, 265]
		]);
	});

	it('does not split one failure off', () => {
		expect(segmentHistory([...repeat(pass, 200), stickyFail])).toHaveLength(1);
	});

	it('does not split a steadily flaky history', () => {
		const history = Array.from({ length: 300 }, (_, i) => (i % 5 === 2 ? flake : pass));
		expect(segmentHistory(history)).toHaveLength(1);
	});

	it('never separates runs at one position', () => {
		const history = [...repeat(pass, 100), { runs: 3, failed: 3, retried: 3, sticky: 3 }, ...repeat(stickyFail, 10)];
		const segments = segmentHistory(history);
		expect(segments.map((s) => s.start)).toEqual([0, 100]);
		expect(segments[1]!.counts.runs).toBe(13);
	});
});
