import { describe, expect, it } from 'vitest';
import { generatePassword, hashPassword, verifyPassword } from './passwords.js';

describe('passwords', () => {
	it('hashes with a fresh salt and verifies only the right password', async () => {
		const a = await hashPassword('correct horse battery staple');
		const b = await hashPassword('correct horse battery staple');
		expect(a).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
		expect(a).not.toBe(b);
		expect(await verifyPassword('correct horse battery staple', a)).toBe(true);
		expect(await verifyPassword('correct horse battery stapl', a)).toBe(false);
		expect(await verifyPassword('', a)).toBe(false);
	});

	it('treats composed and decomposed accents alike', async () => {
		const h = await hashPassword('caf\u00e9-au-lait-1');
		expect(await verifyPassword('cafe\u0301-au-lait-1', h)).toBe(true);
	});

	it('answers false, after the same work, for no user or a damaged hash', async () => {
		expect(await verifyPassword('anything', null)).toBe(false);
		expect(await verifyPassword('anything', 'plain-text')).toBe(false);
		expect(await verifyPassword('anything', 'scrypt$1048576$64$1$AAAA$AAAA')).toBe(false);
	});

	it('generates 20-character passwords without look-alike characters', () => {
		const seen = new Set<string>();
		for (let i = 0; i < 50; i++) {
			const p = generatePassword();
			expect(p).toMatch(/^[a-km-np-zA-HJ-NP-Z2-9]{20}$/);
			seen.add(p);
		}
		expect(seen.size).toBe(50);
	});
});
