import { describe, expect, it } from 'vitest';
import { AnnotationList, cleanText, formatLocation, stripAnsi, storedError } from './playwright-data.js';

describe('stripAnsi', () => {
	it('removes colours, styles, 256-colour and true-colour codes', () => {
		expect(stripAnsi('\u001b[31mred\u001b[39m \u001b[1;4mbold\u001b[0m \u001b[38;5;196mx\u001b[0m \u001b[38;2;255;0;0my\u001b[0m')).toBe(
			'red bold x y'
		);
	});

	it('removes cursor movement, erase codes, C1 CSI and OSC hyperlinks', () => {
		expect(stripAnsi('a\u001b[2Kb\u001b[1A\u001b[Gc\u009b31md')).toBe('abcd');
		expect(stripAnsi('\u001b]8;;https://example.test\u0007link\u001b]8;;\u0007')).toBe('link');
		expect(stripAnsi('\u001b]8;;https://example.test\u001b\\link\u001b]8;;\u001b\\')).toBe('link');
	});

	it('leaves plain text, brackets and unicode alone', () => {
		const plain = 'Expected: [1, 2] ; received {"a": 1} — ünïcode 😀';
		expect(stripAnsi(plain)).toBe(plain);
	});
});

describe('cleanText', () => {
	it('strips colours and drops NUL', () => {
		expect(cleanText('\u001b[2mexpect(\u001b[22m\u001b[31mreceived\u001b[39m\u0000)')).toBe('expect(received)');
	});
});

describe('formatLocation', () => {
	it('is relative to the root directory when under it, with forward slashes', () => {
		expect(formatLocation({ file: '/repo/tests/a.spec.ts', line: 3, column: 9 }, '/repo/tests/')).toBe('a.spec.ts:3:9');
		expect(formatLocation({ file: 'C:\\repo\\tests\\a.spec.ts', line: 1, column: 2 }, 'C:\\repo')).toBe('tests/a.spec.ts:1:2');
		expect(formatLocation({ file: '/elsewhere/h.ts', line: 1, column: 2 }, '/repo')).toBe('/elsewhere/h.ts:1:2');
	});
});

describe('storedError', () => {
	it('cleans and cuts message and stack to the protocol limits', () => {
		const e = storedError({ message: `\u001b[31ma\u0000b\u001b[39m${'m'.repeat(70_000)}`, stack: 's'.repeat(70_000), location: { file: '/r/x.ts', line: 1, column: 1 } }, '/r');
		expect(e.message).toHaveLength(65_536);
		expect(e.message.startsWith('abm')).toBe(true);
		expect(e.stack).toHaveLength(65_536);
		expect(e.location).toBe('x.ts:1:1');
	});
});

describe('AnnotationList', () => {
	it('keeps each annotation once, cut to the limits, and at most 100', () => {
		const many = Array.from({ length: 150 }, (_, i) => ({ type: `t${i}` }));
		const list = AnnotationList.of([{ type: 'issue', description: 'x' }, { type: 'issue', description: 'x' }, { type: 'a\u0000b', description: 'd'.repeat(5000) }], many);
		expect(list).toHaveLength(100);
		expect(list[0]).toEqual({ type: 'issue', description: 'x' });
		expect(list[1]).toEqual({ type: 'ab', description: 'd'.repeat(4096) });
	});
});
