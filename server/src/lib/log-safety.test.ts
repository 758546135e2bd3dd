import { describe, expect, it } from 'vitest';
import { safeUrl } from './log-safety.js';

describe('safeUrl', () => {
	it('masks credential-like query parameters and token-shaped text, keeping the rest', () => {
		expect(safeUrl('/api/v1/projects?access_token=abc&page=2')).toBe('/api/v1/projects?access_token=%5Bredacted%5D&page=2');
		expect(safeUrl('/api/v1/x/flk_p_abcDEF123-_?q=flk_a_zzz')).toBe('/api/v1/x/[redacted]?q=%5Bredacted%5D');
		expect(safeUrl('/runs?jwt=eyJa.eyJb.sig&branch=main')).toBe('/runs?jwt=%5Bredacted%5D&branch=main');
		expect(safeUrl('/x/glpat-AbCdEfGhIjKlMnOpQrSt/y')).toBe('/x/[redacted]/y');
		expect(safeUrl('/health')).toBe('/health');
	});
});
