/**
 * A process-wide allowance of request body bytes held in memory at once. Each request takes from
 * it as its (decompressed) body arrives and gives everything back when it is answered: ten
 * concurrent gzip bombs then cost one allowance, not ten decompression limits.
 */
export class ByteBudget {
	#used = 0;

	constructor(readonly capacity: number) {}

	get used(): number {
		return this.#used;
	}

	/** One request's share; release it once the request is answered or aborted. */
	lease(): BudgetLease {
		let held = 0;
		return {
			take: (bytes) => {
				if (this.#used + bytes > this.capacity) return false;
				this.#used += bytes;
				held += bytes;
				return true;
			},
			release: () => {
				this.#used -= held;
				held = 0;
			}
		};
	}
}

export interface BudgetLease {
	/** Takes `bytes` more; false (taking nothing) when the budget cannot spare them. */
	take(bytes: number): boolean;
	/** Gives back all this lease took; safe to call twice. */
	release(): void;
}
