/**
 * Small numeric routines for Beta distributions: log-gamma, log-beta, the regularised incomplete
 * beta function and its inverse (Beta quantiles). Double precision, no dependencies.
 */

// Lanczos approximation, g = 7, n = 9 (Godfrey's coefficients): about 15 significant digits.
const LANCZOS_G = 7;
const LANCZOS = [
	0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
	12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7
] as const;
const LN_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** ln Γ(x) for x > 0. */
export function lnGamma(x: number): number {
	if (!(x > 0)) throw new RangeError(`lnGamma needs x > 0, got ${x}`);
	if (x < 0.5) {
		// Reflection keeps the approximation in its accurate range.
		return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
	}
	const z = x - 1;
	let sum = LANCZOS[0];
	for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i]! / (z + i);
	const t = z + LANCZOS_G + 0.5;
	return LN_SQRT_2PI + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b). */
export function lnBeta(a: number, b: number): number {
	return lnGamma(a) + lnGamma(b) - lnGamma(a + b);
}

const EPS = 1e-15;
const TINY = 1e-300;

/** Continued fraction for I_x(a, b), modified Lentz's method. */
function betaContinuedFraction(x: number, a: number, b: number): number {
	const qab = a + b;
	const qap = a + 1;
	const qam = a - 1;
	let c = 1;
	let d = 1 - (qab * x) / qap;
	if (Math.abs(d) < TINY) d = TINY;
	d = 1 / d;
	let h = d;
	for (let m = 1; m <= 10_000; m++) {
		const m2 = 2 * m;
		let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
		d = 1 + aa * d;
		if (Math.abs(d) < TINY) d = TINY;
		c = 1 + aa / c;
		if (Math.abs(c) < TINY) c = TINY;
		d = 1 / d;
		h *= d * c;
		aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
		d = 1 + aa * d;
		if (Math.abs(d) < TINY) d = TINY;
		c = 1 + aa / c;
		if (Math.abs(c) < TINY) c = TINY;
		d = 1 / d;
		const del = d * c;
		h *= del;
		if (Math.abs(del - 1) < EPS) return h;
	}
	return h;
}

/** The regularised incomplete beta function I_x(a, b): the CDF of Beta(a, b) at x. */
export function betaCdf(x: number, a: number, b: number): number {
	if (!(a > 0 && b > 0)) throw new RangeError(`Beta parameters must be positive, got ${a}, ${b}`);
	if (x <= 0) return 0;
	if (x >= 1) return 1;
	const lnFront = a * Math.log(x) + b * Math.log1p(-x) - lnBeta(a, b);
	// The continued fraction converges fast for x < (a + 1) / (a + b + 2); use symmetry otherwise.
	if (x < (a + 1) / (a + b + 2)) return (Math.exp(lnFront) * betaContinuedFraction(x, a, b)) / a;
	return 1 - (Math.exp(lnFront) * betaContinuedFraction(1 - x, b, a)) / b;
}

/** Density of Beta(a, b) at x, in log space. */
function lnBetaPdf(x: number, a: number, b: number, lnB: number): number {
	return (a - 1) * Math.log(x) + (b - 1) * Math.log1p(-x) - lnB;
}

/**
 * The p-quantile of Beta(a, b): the x with I_x(a, b) = p. Newton steps on the CDF, kept inside a
 * shrinking bracket and replaced by bisection whenever they would leave it, so it converges for
 * the very skewed shapes (a ≪ 1) that sparse failure counts produce.
 */
export function betaQuantile(p: number, a: number, b: number): number {
	if (!(a > 0 && b > 0)) throw new RangeError(`Beta parameters must be positive, got ${a}, ${b}`);
	if (!(p >= 0 && p <= 1)) throw new RangeError(`probability must be in [0, 1], got ${p}`);
	if (p === 0) return 0;
	if (p === 1) return 1;
	const lnB = lnBeta(a, b);
	let lo = 0;
	let hi = 1;
	// Start from the mean, or from the small-x / large-x tail approximations when p is extreme.
	let x = a / (a + b);
	const lowTail = Math.exp((Math.log(p * a) + lnB) / a);
	const highTail = 1 - Math.exp((Math.log((1 - p) * b) + lnB) / b);
	if (lowTail > 0 && lowTail < x && betaCdf(lowTail, a, b) <= p * 1.5) x = lowTail;
	else if (highTail < 1 && highTail > x && 1 - betaCdf(highTail, a, b) <= (1 - p) * 1.5) x = highTail;
	for (let i = 0; i < 200; i++) {
		const f = betaCdf(x, a, b) - p;
		if (f === 0) return x;
		if (f < 0) lo = x;
		else hi = x;
		const pdf = Math.exp(lnBetaPdf(x, a, b, lnB));
		let next = pdf > 0 && Number.isFinite(pdf) ? x - f / pdf : Number.NaN;
		if (!(next > lo && next < hi)) next = (lo + hi) / 2;
		if (Math.abs(next - x) <= 1e-15 * Math.max(x, 1e-300) || hi - lo <= 1e-15 * hi) return next;
		x = next;
	}
	return x;
}

/** Equal-tailed credible interval of Beta(a, b) holding `mass` of the probability. */
export function betaInterval(a: number, b: number, mass: number): { low: number; high: number } {
	const tail = (1 - mass) / 2;
	return { low: betaQuantile(tail, a, b), high: betaQuantile(1 - tail, a, b) };
}
