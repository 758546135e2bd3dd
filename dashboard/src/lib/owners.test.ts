import { describe, expect, it } from 'vitest';
import { ownerHref } from './owners';

describe('owner links', () => {
	it('keeps a group’s slash as a path separator and encodes the rest', () => {
		expect(ownerHref('shop', '@qa')).toBe('/projects/shop/owners/%40qa');
		expect(ownerHref('shop', '@web/checkout')).toBe('/projects/shop/owners/%40web/checkout');
		expect(ownerHref('shop', 'jane+qa@example.com')).toBe('/projects/shop/owners/jane%2Bqa%40example.com');
		expect(ownerHref('shop', '@team?x#y')).toBe('/projects/shop/owners/%40team%3Fx%23y');
	});
});
