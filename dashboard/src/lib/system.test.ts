import { describe, expect, it } from 'vitest';
import { bytes, rowsLabel } from './system';

describe('system health formatting', () => {
	it('writes counted rows as they are and estimates with ≈', () => {
		expect(rowsLabel(0, true)).toBe('0');
		expect(rowsLabel(1234, true)).toBe('1,234');
		expect(rowsLabel(10_234_000, false)).toBe('≈ 10,234,000');
	});

	it('writes sizes in binary units', () => {
		expect(bytes(0)).toBe('0 B');
		expect(bytes(1536)).toBe('1.5 KiB');
		expect(bytes(8192)).toBe('8.0 KiB');
		expect(bytes(20 * 1024 * 1024)).toBe('20 MiB');
		expect(bytes(3.5 * 1024 ** 3)).toBe('3.5 GiB');
	});
});
