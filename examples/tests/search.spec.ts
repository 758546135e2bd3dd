import { expect, test } from '@playwright/test';

const catalogue = ['green tea', 'black tea', 'teapot', 'coffee mug', 'coffee beans'];

function search(query: string): string[] {
	const words = query.toLowerCase().split(/\s+/).filter(Boolean);
	return catalogue.filter((item) => words.every((word) => item.includes(word)));
}

test.describe('search', () => {
	test('finds items by one word', async () => {
		expect(search('tea')).toEqual(['green tea', 'black tea', 'teapot']);
	});

	test('needs every word', async () => {
		expect(search('coffee beans')).toEqual(['coffee beans']);
	});

	test('ignores case and extra spaces', async () => {
		expect(search('  COFFEE  ')).toEqual(['coffee mug', 'coffee beans']);
	});

	test('finds nothing for an unknown word', async () => {
		expect(search('croissant')).toEqual([]);
	});
});
