import { describe, expect, it } from 'vitest';
import { betaCdf, betaInterval, betaQuantile, lnBeta, lnGamma } from './beta.js';

// Reference values from SciPy 1.17 (scipy.special.gammaln, betaln, betainc, betaincinv).
const relClose = (actual: number, expected: number, rel: number) => {
	expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.max(Math.abs(expected), 1e-300));
};

describe('lnGamma', () => {
	it.each([
		[0.05, 2.968879201051731],
		[0.5, 0.5723649429247],
		[2.5, 0.2846828704729192],
		[10, 12.801827480081469],
		[100.3, 360.5147057290581],
		[1e-3, 6.907178885383853]
	])('lnGamma(%d)', (x, expected) => relClose(lnGamma(x), expected, 1e-13));

	it('is zero at 1 and 2 and matches factorials', () => {
		expect(Math.abs(lnGamma(1))).toBeLessThan(1e-14);
		expect(Math.abs(lnGamma(2))).toBeLessThan(1e-14);
		relClose(lnGamma(21), Math.log(2432902008176640000), 1e-14);
	});

	it('rejects non-positive arguments', () => {
		expect(() => lnGamma(0)).toThrow(RangeError);
	});
});

describe('lnBeta', () => {
	it.each([
		[0.05, 0.5, 3.061213287865305],
		[0.5, 0.5, 1.1447298858494],
		[3.5, 200.5, -17.37358866477814]
	])('lnBeta(%d, %d)', (a, b, expected) => relClose(lnBeta(a, b), expected, 1e-13));
});

describe('betaCdf', () => {
	it.each([
		[0.1, 0.5, 9.5, 0.837450000970273],
		[0.3, 2, 3, 0.3483],
		[0.999, 0.05, 0.5, 0.9970372190599612],
		[0.01, 1.5, 300, 0.8900907391680489],
		[0.5, 1000, 1000, 0.5]
	])('I_%d(%d, %d)', (x, a, b, expected) => relClose(betaCdf(x, a, b), expected, 1e-11));

	it('is 0 and 1 at the ends', () => {
		expect(betaCdf(0, 2, 3)).toBe(0);
		expect(betaCdf(1, 2, 3)).toBe(1);
	});
});

describe('betaQuantile', () => {
	it.each([
		[0.05, 0.5, 9.5, 0.00021244796242273487],
		[0.95, 0.5, 9.5, 0.1873656640603168],
		[0.05, 0.5, 309.5, 6.357520152187212e-6],
		[0.95, 10.5, 300, 0.05219700896975664],
		[0.5, 2, 3, 0.3857275681323895],
		[0.05, 0.05, 0.5, 3.5331408444908834e-26],
		[0.95, 0.05, 0.5, 0.7597014561852393],
		[0.001, 0.1, 50, 1.2256198459871102e-32],
		[0.95, 1.2, 2000.7, 0.001684237470983741]
	])('quantile %d of Beta(%d, %d)', (p, a, b, expected) => relClose(betaQuantile(p, a, b), expected, 1e-9));

	it('inverts the CDF', () => {
		for (const [a, b] of [
			[0.7, 3],
			[15, 4],
			[1, 1]
		] as const) {
			for (const p of [0.01, 0.2, 0.5, 0.9, 0.999]) relClose(betaCdf(betaQuantile(p, a, b), a, b), p, 1e-10);
		}
	});

	it('gives a symmetric interval for a symmetric distribution', () => {
		const { low, high } = betaInterval(4, 4, 0.9);
		relClose(low + high, 1, 1e-12);
		expect(low).toBeLessThan(0.5);
	});
});
