import { describe, expect, it } from 'vitest';
import { claimsOf, dueForRenewal, loginUrl, safeNext } from './session';

const token = (claims: object) => `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

describe('session cookie helpers', () => {
	it('reads a token’s times and renews once half its lifetime has passed', () => {
		const c = claimsOf(token({ sub: 'u', iat: 1000, exp: 4600 }))!;
		expect(c).toMatchObject({ sub: 'u', iat: 1000, exp: 4600 });
		expect(dueForRenewal(c, 2000)).toBe(false);
		expect(dueForRenewal(c, 2900)).toBe(true);
		expect(claimsOf('garbage')).toBeNull();
		expect(claimsOf(token({ sub: 'u' }))).toBeNull();
		expect(claimsOf('a.!!!.c')).toBeNull();
	});

	it('only ever redirects to paths of this site after signing in', () => {
		expect(safeNext('/projects/shop?state=flaky')).toBe('/projects/shop?state=flaky');
		expect(safeNext('//evil.example')).toBe('/');
		expect(safeNext('/\\evil.example')).toBe('/');
		expect(safeNext('https://evil.example')).toBe('/');
		expect(safeNext(null)).toBe('/');
		expect(loginUrl(new URL('http://x/projects/shop/tests?q=a b'))).toBe('/login?next=%2Fprojects%2Fshop%2Ftests%3Fq%3Da%2520b');
		expect(loginUrl(new URL('http://x/'))).toBe('/login');
	});
});
