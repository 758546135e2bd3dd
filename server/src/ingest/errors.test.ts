import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { stripAnsi } from 'flackyness-reporter/playwright-data';
import { errorFingerprint, normaliseErrorMessage, toTestError, truncate } from './errors.js';

// Shaped like Playwright's own output (1.65 `errors[].message`: message, code frame, stack).
const ASSERTION = [
	'Error: \u001b[2mexpect(\u001b[22m\u001b[31mreceived\u001b[39m\u001b[2m).\u001b[22mtoBe\u001b[2m(\u001b[22m\u001b[32mexpected\u001b[39m\u001b[2m) // Object.is equality\u001b[22m',
	'',
	'Expected: \u001b[32m3\u001b[39m',
	'Received: \u001b[31m2\u001b[39m',
	'',
	'   6 |',
	"   7 | test('fails every attempt', () => {",
	'>  8 | \texpect(1 + 1).toBe(3);',
	'     | \t              ^',
	'   9 | });',
	'    at /builds/acme/shop/tests/outcomes.spec.ts:8:42'
].join('\n');

const LOCATOR_TIMEOUT = [
	"Error: locator.click: Timeout 5000ms exceeded.",
	'Call log:',
	"  - waiting for getByRole('button', { name: 'Pay' })",
	'    - locator resolved to <button id="pay-3f9a2c1d">Pay</button>',
	'  - attempting click action',
	'    2 × waiting for element to be visible, enabled and stable'
].join('\n');

describe('toTestError', () => {
	it('strips ANSI codes and formats the location relative to rootDir', () => {
		expect(
			toTestError(
				{
					message: '\u001b[31mboom\u001b[39m',
					stack: 'Error: \u001b[31mboom\u001b[39m\n    at /repo/tests/a.spec.ts:3:9',
					location: { file: '/repo/tests/e2e/a.spec.ts', line: 3, column: 9 }
				},
				{ rootDir: '/repo/tests' }
			)
		).toEqual({ message: 'boom', stack: 'Error: boom\n    at /repo/tests/a.spec.ts:3:9', location: 'e2e/a.spec.ts:3:9' });
	});

	it('handles Windows paths and files outside rootDir', () => {
		const location = { file: 'C:\\_repo\\shop\\tests\\a.spec.ts', line: 1, column: 2 };
		expect(toTestError({ message: 'x', location }, { rootDir: 'C:/_repo/shop/tests' }).location).toBe('a.spec.ts:1:2');
		expect(toTestError({ message: 'x', location }, { rootDir: '/elsewhere' }).location).toBe('C:/_repo/shop/tests/a.spec.ts:1:2');
		expect(toTestError({ message: 'x', location }).location).toBe('C:/_repo/shop/tests/a.spec.ts:1:2');
	});

	it('falls back to the thrown value, then the first stack line', () => {
		expect(toTestError({ value: 'a string was thrown' })).toEqual({ message: 'a string was thrown' });
		expect(toTestError({ stack: 'TypeError: x is undefined\n    at f (a.js:1:1)' }).message).toBe('TypeError: x is undefined');
		expect(toTestError({})).toEqual({ message: '' });
		expect(toTestError({ message: null, stack: null, location: null })).toEqual({ message: '' });
	});

	it('cuts to the protocol limits and drops NUL characters', () => {
		const error = toTestError({ message: `a\u0000b${'m'.repeat(70_000)}`, stack: 's'.repeat(70_000) });
		expect(error.message).toHaveLength(65_536);
		expect(error.message.startsWith('abm')).toBe(true);
		expect(error.stack).toHaveLength(65_536);
	});
});

describe('truncate', () => {
	it('never splits a surrogate pair', () => {
		expect(truncate('ab😀', 3)).toBe('ab');
		expect(truncate('ab😀', 4)).toBe('ab😀');
		expect(truncate('abc', 10)).toBe('abc');
	});
});

describe('normaliseErrorMessage', () => {
	it('keeps the message and drops the code frame, the stack and the Error prefix', () => {
		expect(normaliseErrorMessage(ASSERTION)).toBe(
			'expect(received).toBe(expected) // Object.is equality\nExpected: <n>\nReceived: <n>'
		);
	});

	it('keeps only the first step of the call log and replaces durations', () => {
		expect(normaliseErrorMessage(LOCATOR_TIMEOUT)).toBe(
			"locator.click: Timeout <duration> exceeded.\n- waiting for getByRole('button', { name: 'Pay' })"
		);
		expect(normaliseErrorMessage('Test timeout of 30000ms exceeded.')).toBe('Test timeout of <duration> exceeded.');
		expect(normaliseErrorMessage('Timed out waiting 3s for the test suite to run')).toBe(
			'Timed out waiting <duration> for the test suite to run'
		);
	});

	it('replaces uuids, hex, ids, timestamps, urls and paths with line and column', () => {
		expect(normaliseErrorMessage('order 0b7c0a5e-8d1f-4c7e-9a77-6f2b9d1e0c3a not found')).toBe('order <uuid> not found');
		expect(normaliseErrorMessage('at address 0x7ffe12ab, commit 3f9a2c1d4e')).toBe('at address <hex>, commit <hex>');
		expect(normaliseErrorMessage('session k3j2h4g5x9 expired')).toBe('session <id> expired');
		expect(normaliseErrorMessage('started 2025-01-02T03:04:05.678Z')).toBe('started <time>');
		expect(normaliseErrorMessage('page.goto: net::ERR_CONNECTION_REFUSED at http://localhost:3000/login?x=1')).toBe(
			'page.goto: net::ERR_CONNECTION_REFUSED at <url>'
		);
		expect(normaliseErrorMessage('Cannot find module /builds/acme/shop/src/db.ts:12:5')).toBe('Cannot find module <path>');
		expect(normaliseErrorMessage('Cannot find module C:\\work\\shop\\src\\db.ts')).toBe('Cannot find module <path>');
		expect(normaliseErrorMessage('failed in tests/e2e/cart.spec.ts:44:7 and helpers.ts:3')).toBe(
			'failed in <path> and <path>'
		);
	});

	it('keeps what identifies the failure: locators, expectations, regular expressions', () => {
		const message = [
			'Error: Timed out 5000ms waiting for expect(locator).toHaveTitle(expected)',
			'',
			"Locator: locator(':root')",
			'Expected pattern: /Welcome/',
			'Received string: "Shop – order 1234 of user abc"'
		].join('\n');
		expect(normaliseErrorMessage(message)).toBe(
			[
				'Timed out <duration> waiting for expect(locator).toHaveTitle(expected)',
				"Locator: locator(':root')",
				'Expected pattern: /Welcome/',
				'Received string: "<str>"'
			].join('\n')
		);
	});

	it('collapses whitespace and keeps at most six lines', () => {
		expect(normaliseErrorMessage('  a   b\t\tc  \r\n\r\n d ')).toBe('a b c\nd');
		const long = Array.from({ length: 20 }, (_, i) => `line ${String.fromCharCode(97 + i)}`).join('\n');
		expect(normaliseErrorMessage(long).split('\n')).toEqual(['line a', 'line b', 'line c', 'line d', 'line e', 'line f']);
		expect(normaliseErrorMessage('x'.repeat(5000))).toHaveLength(1024);
	});
});

describe('errorFingerprint', () => {
	it('is 16 lowercase hex digits', () => {
		expect(errorFingerprint(ASSERTION)).toMatch(/^[0-9a-f]{16}$/);
		expect(errorFingerprint('')).toMatch(/^[0-9a-f]{16}$/);
	});

	it('is stable across numbers, durations, paths, line:col, ids and colours', () => {
		const variants = [
			'Error: locator.click: Timeout 5000ms exceeded waiting for row 12 in /builds/1/a.spec.ts:10:3',
			'locator.click: Timeout 30000ms exceeded waiting for row 7 in /home/ci/2/a.spec.ts:99:14',
			'\u001b[31mError: locator.click: Timeout 1.5s exceeded waiting for row 3 in C:\\ci\\a.spec.ts:1:1\u001b[39m',
			'Error:   locator.click:  Timeout 250 ms exceeded waiting for row 0 in ./a.spec.ts:5:5\n    at x (/a/b.ts:1:1)'
		];
		expect(new Set(variants.map(errorFingerprint)).size).toBe(1);
		expect(errorFingerprint('user 0b7c0a5e-8d1f-4c7e-9a77-6f2b9d1e0c3a failed')).toBe(
			errorFingerprint('user 6f2b9d1e-0c3a-4c7e-9a77-0b7c0a5e8d1f failed')
		);
	});

	it('tells different failures apart', () => {
		const messages = [
			ASSERTION,
			LOCATOR_TIMEOUT,
			'Test timeout of 30000ms exceeded.',
			'page.goto: net::ERR_CONNECTION_REFUSED at http://localhost:3000/',
			'page.goto: net::ERR_NAME_NOT_RESOLVED at http://localhost:3000/',
			"Error: expect(locator).toBeVisible() failed\n\nLocator: getByRole('heading', { name: 'Cart' })",
			"Error: expect(locator).toBeVisible() failed\n\nLocator: getByRole('heading', { name: 'Checkout' })",
			'Expected to fail, but passed.',
			LOCATOR_TIMEOUT.replace("name: 'Pay'", "name: 'Cancel'")
		];
		expect(new Set(messages.map(errorFingerprint)).size).toBe(messages.length);
	});

	it('gives a real report’s formatted and raw forms of one error the same fingerprint', async () => {
		// Playwright 1.37: `errors[0].message` carries the code frame and stack, `error.message` neither
		// and no "Error:" prefix. A streamed result and an uploaded report must cluster together.
		const report = JSON.parse(
			await readFile(new URL('../../test/fixtures/playwright-json/pw1.37-report-valid.json', import.meta.url), 'utf8')
		) as { suites: Array<{ suites?: Array<{ specs: Array<{ tests: Array<{ results: Array<{ error?: { message: string }; errors: Array<{ message: string }> }> }> }> }> }> };
		const results = report.suites
			.flatMap((file) => file.suites ?? [])
			.flatMap((suite) => suite.specs)
			.flatMap((spec) => spec.tests)
			.flatMap((test) => test.results)
			.filter((result) => result.error !== undefined);
		expect(results.length).toBeGreaterThan(3);
		for (const result of results) {
			expect(stripAnsi(result.errors[0]?.message ?? '')).toMatch(/^> +\d+ \|/m);
			expect(errorFingerprint(result.errors[0]?.message ?? '')).toBe(errorFingerprint(result.error?.message ?? 'x'));
		}
	});
});
