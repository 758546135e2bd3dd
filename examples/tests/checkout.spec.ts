import { expect, test } from '@playwright/test';

test.describe('checkout', () => {
	test('accepts a valid postcode', async () => {
		expect('SW1A 1AA').toMatch(/^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$/);
	});

	test('formats the order number', async () => {
		expect(`#${String(42).padStart(6, '0')}`).toBe('#000042');
	});

	// Deliberately flaky, for the demo: it fails on its first attempt and passes on the retry, as a
	// test racing a slow backend would. Playwright reports it as flaky; Flackyness tracks it.
	test('confirms the payment', async ({}, testInfo) => {
		const confirmedInTime = testInfo.retry > 0;
		expect(confirmedInTime, 'payment confirmation arrived in time').toBe(true);
	});
});
