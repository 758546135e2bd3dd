import { expect, test } from '@playwright/test';

// Stable tests. The sample suite needs no browser; your tests would use `page`.

interface Line {
	sku: string;
	price: number;
	quantity: number;
}

function total(lines: Line[], discount = 0): number {
	const sum = lines.reduce((acc, line) => acc + line.price * line.quantity, 0);
	return Math.round(sum * (1 - discount) * 100) / 100;
}

test.describe('cart', () => {
	test('an empty cart costs nothing', async () => {
		expect(total([])).toBe(0);
	});

	test('adds up prices and quantities', { tag: '@smoke' }, async () => {
		expect(total([{ sku: 'tea', price: 3.5, quantity: 2 }, { sku: 'mug', price: 9, quantity: 1 }])).toBe(16);
	});

	test('applies a discount', async () => {
		expect(total([{ sku: 'tea', price: 10, quantity: 3 }], 0.1)).toBe(27);
	});

	test('rounds to cents', async () => {
		expect(total([{ sku: 'gum', price: 0.333, quantity: 3 }])).toBe(1);
	});
});
