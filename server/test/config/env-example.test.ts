import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { envSchema, loadConfig } from '../../src/config.js';

const FILE = new URL('../../../.env.example', import.meta.url);

interface Entry {
	name: string;
	value: string;
	comment: string;
}

/** `#NAME=value` lines (commented out: they show defaults), each with the comment line above it. */
function entries(text: string): Entry[] {
	const lines = text.split('\n');
	const out: Entry[] = [];
	lines.forEach((line, i) => {
		const m = /^#?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
		if (!m) return;
		const above = lines[i - 1] ?? '';
		out.push({ name: m[1]!, value: m[2]!, comment: /^# \S/.test(above) ? above : '' });
	});
	return out;
}

describe('.env.example', () => {
	const listed = entries(readFileSync(FILE, 'utf8'));

	it('lists every variable of the configuration schema once, and nothing else', () => {
		const names = listed.map((e) => e.name);
		expect(new Set(names).size).toBe(names.length);
		expect([...names].sort()).toEqual(Object.keys(envSchema.shape).sort());
	});

	it('gives each variable a one-line meaning', () => {
		expect(listed.filter((e) => e.comment === '').map((e) => e.name)).toEqual([]);
	});

	it('shows the real default of each variable', () => {
		const defaults = loadConfig({}) as Record<string, unknown>;
		for (const { name, value } of listed) {
			if (value === '') {
				// "unset": no default at all, or an empty list.
				expect([undefined, []], name).toContainEqual(defaults[name]);
			} else {
				expect((loadConfig({ [name]: value }) as Record<string, unknown>)[name], name).toEqual(defaults[name]);
			}
		}
	});
});
