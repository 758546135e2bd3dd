import { appendFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { TestResultInput } from './protocol.js';

/**
 * Results beyond the in-memory queue's capacity, one JSON line each, in the spool directory until
 * the run ends.
 */
export default class OverflowFile {
	private count = 0;

	constructor(readonly file: string) {}

	get size(): number {
		return this.count;
	}

	append(result: TestResultInput): void {
		if (this.count === 0) mkdirSync(path.dirname(this.file), { recursive: true });
		appendFileSync(this.file, `${JSON.stringify(result)}\n`);
		this.count++;
	}

	/** Reads everything back and removes the file. */
	drain(): TestResultInput[] {
		if (this.count === 0) return [];
		const lines = readFileSync(this.file, 'utf8').split('\n').filter(Boolean);
		rmSync(this.file, { force: true });
		this.count = 0;
		return lines.map((l) => JSON.parse(l) as TestResultInput);
	}
}
