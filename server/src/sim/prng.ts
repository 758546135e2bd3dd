/**
 * A seeded pseudo-random generator (sfc32, seeded through splitmix32) with the few distributions
 * the simulator needs. Same seed, same sequence, on every platform.
 */

function splitmix32(state: number): () => number {
	let s = state >>> 0;
	return () => {
		s = (s + 0x9e3779b9) >>> 0;
		let z = s;
		z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
		z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
		return (z ^ (z >>> 16)) >>> 0;
	};
}

/** 32-bit FNV-1a, to derive independent streams from names. */
export function hash32(text: string): number {
	let h = 0x811c9dc5;
	for (let i = 0; i < text.length; i++) {
		h ^= text.charCodeAt(i);
		h = Math.imul(h, 0x01000193);
	}
	return h >>> 0;
}

export class Rng {
	private a: number;
	private b: number;
	private c: number;
	private d: number;
	readonly seed: number;

	constructor(seed: number) {
		this.seed = seed >>> 0;
		const init = splitmix32(this.seed);
		this.a = init();
		this.b = init();
		this.c = init();
		this.d = init();
		// Discard the first outputs: sfc32 mixes its state slowly at first.
		for (let i = 0; i < 12; i++) this.nextUint32();
	}

	/** An independent generator for one named part of the simulation. */
	fork(label: string): Rng {
		return new Rng((this.seed ^ hash32(label)) >>> 0);
	}

	nextUint32(): number {
		const t = (((this.a + this.b) | 0) + this.d) | 0;
		this.d = (this.d + 1) | 0;
		this.a = this.b ^ (this.b >>> 9);
		this.b = (this.c + (this.c << 3)) | 0;
		this.c = (this.c << 21) | (this.c >>> 11);
		this.c = (this.c + t) | 0;
		return t >>> 0;
	}

	/** Uniform in [0, 1). */
	next(): number {
		return this.nextUint32() / 4294967296;
	}

	/** Uniform in [min, max). */
	uniform(min: number, max: number): number {
		return min + (max - min) * this.next();
	}

	/** Integer in [min, max], both included. */
	int(min: number, max: number): number {
		return min + Math.floor(this.next() * (max - min + 1));
	}

	chance(p: number): boolean {
		return this.next() < p;
	}

	pick<T>(items: readonly T[]): T {
		if (items.length === 0) throw new RangeError('pick from an empty list');
		return items[Math.floor(this.next() * items.length)]!;
	}

	/** Picks by weight: `[[item, weight], …]`. */
	weighted<T>(entries: readonly (readonly [T, number])[]): T {
		const total = entries.reduce((sum, [, w]) => sum + w, 0);
		let x = this.next() * total;
		for (const [item, w] of entries) {
			x -= w;
			if (x < 0) return item;
		}
		return entries[entries.length - 1]![0];
	}

	/** Log-uniform in [min, max). */
	logUniform(min: number, max: number): number {
		return Math.exp(this.uniform(Math.log(min), Math.log(max)));
	}

	/** Standard normal (Box–Muller). */
	normal(): number {
		const u = 1 - this.next();
		const v = this.next();
		return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
	}

	/** Log-normal with the given median and log-space standard deviation. */
	logNormal(median: number, sigma: number): number {
		return median * Math.exp(sigma * this.normal());
	}

	/** Poisson (Knuth; small means only). */
	poisson(mean: number): number {
		const limit = Math.exp(-mean);
		let k = 0;
		let p = this.next();
		while (p > limit) {
			k++;
			p *= this.next();
		}
		return k;
	}

	/** `length` lowercase hex digits. */
	hex(length: number): string {
		let out = '';
		while (out.length < length) out += this.nextUint32().toString(16).padStart(8, '0');
		return out.slice(0, length);
	}

	shuffle<T>(items: T[]): T[] {
		for (let i = items.length - 1; i > 0; i--) {
			const j = Math.floor(this.next() * (i + 1));
			[items[i], items[j]] = [items[j]!, items[i]!];
		}
		return items;
	}
}
