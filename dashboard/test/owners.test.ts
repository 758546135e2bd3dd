/**
 * Owners in the dashboard, end to end: the built server on a fresh PostgreSQL database, results
 * with owners sent through the real API and analysed by the server's worker, and Debian's Chromium
 * showing the owners on the tests list and a test's page, filtering by owner, and the owner pages.
 */
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from '@playwright/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase, type TestDatabase } from '../../server/test/helpers/db.js';
import { startServer, type ServerProcess } from '../../server/test/helpers/server-process.js';

const SHOTS = fileURLToPath(new URL('../../test-results/screenshots/', import.meta.url));
const ADMIN_TOKEN = 'e2e-owners-admin-token-0123456789abcd';
const ADMIN_EMAIL = 'admin@example.com';
const ADMIN_PASSWORD = 'correct-horse-battery';

interface Spec {
	title: string;
	owners: string[];
	/** Fails its first attempt on these commits and passes on retry. */
	flakyOn: (commit: number) => boolean;
}

const SPECS: Spec[] = [
	{ title: 'pays with a card', owners: ['@web/checkout', '@qa'], flakyOn: (c) => c % 3 === 0 },
	{ title: 'applies a coupon', owners: ['@web/checkout'], flakyOn: () => false },
	{ title: 'shows the catalogue', owners: ['@catalogue'], flakyOn: () => false },
	{ title: 'logs in', owners: [], flakyOn: () => false }
];

describe('owners on the dashboard', () => {
	let db: TestDatabase;
	let server: ServerProcess;
	let browser: Browser;

	const send = async (token: string, method: string, path: string, body: unknown) => {
		const res = await fetch(`${server.url}/api/v1${path}`, {
			method,
			headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
			body: JSON.stringify(body)
		});
		expect(res.status, `${method} ${path}`).toBeLessThan(300);
		return (await res.json()) as Record<string, unknown>;
	};

	async function sendRun(token: string, commit: number): Promise<void> {
		const startedAt = new Date(Date.now() - (30 - commit) * 3600_000).toISOString();
		const ci = { provider: 'gitlab', branch: 'main', defaultBranch: 'main', commitSha: (0xabc000 + commit).toString(16).padStart(40, '0'), pipelineId: `${100 + commit}`, jobId: `${900 + commit}`, jobName: 'e2e' };
		const { runId } = (await send(token, 'POST', '/runs', { ci, startedAt })) as { runId: string };
		const results = SPECS.map((s) => {
			const flaky = s.flakyOn(commit);
			return {
				file: 'shop.spec.ts',
				titlePath: ['shop', s.title],
				projectName: 'chromium',
				outcome: flaky ? 'flaky' : 'expected',
				expectedStatus: 'passed',
				status: 'passed',
				attempts: flaky ? 2 : 1,
				failedAttempts: flaky ? 1 : 0,
				durationMs: 1200,
				startedAt,
				...(flaky ? { error: { message: 'Timeout 5000ms exceeded waiting for #pay' } } : {}),
				owners: s.owners
			};
		});
		await send(token, 'POST', `/runs/${runId}/results`, { results });
		await send(token, 'POST', `/runs/${runId}/complete`, { status: 'passed' });
	}

	async function signedIn(path: string, viewport = { width: 1280, height: 900 }): Promise<Page> {
		const context = await browser.newContext({ baseURL: server.url, viewport });
		const page = await context.newPage();
		await page.goto(path);
		await page.getByLabel('E-mail').fill(ADMIN_EMAIL);
		await page.getByLabel('Password').fill(ADMIN_PASSWORD);
		await page.getByRole('button', { name: 'Sign in' }).click();
		await expect.poll(() => decodeURIComponent(new URL(page.url()).pathname)).toBe(decodeURIComponent(path.split('?')[0]!));
		return page;
	}

	beforeAll(async () => {
		await mkdir(SHOTS, { recursive: true });
		db = await createPostgresDatabase();
		server = await startServer({ DATABASE_URL: db.url, ADMIN_TOKEN, ADMIN_EMAIL, ADMIN_PASSWORD, DEMO: 'false', RATE_LIMIT_LOGIN: '100', RATE_LIMIT_RUNS: '1000' });
		const { token } = (await send(ADMIN_TOKEN, 'POST', '/admin/projects', { slug: 'shop', name: 'Web shop' })) as { token: string };
		for (let c = 0; c < 24; c++) await sendRun(token, c);
		// The server's own worker analyses the finished runs; wait until the flaky test is called so.
		const deadline = Date.now() + 60_000;
		for (;;) {
			const res = await fetch(`${server.url}/api/v1/projects/shop/owners`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
			const body = (await res.json()) as { owners: Array<{ owner: string; flaky: number }> };
			if (body.owners.find((o) => o.owner === '@qa')?.flaky === 1) break;
			if (Date.now() > deadline) throw new Error(`the analysis did not call the card test flaky: ${JSON.stringify(body)}`);
			await new Promise((r) => setTimeout(r, 500));
		}
		browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
	}, 180_000);

	afterAll(async () => {
		await browser?.close();
		await server?.stop();
		await db?.destroy();
	});

	it('lists the owners with their counts, most troubled first, and links each to its page', async () => {
		const page = await signedIn('/projects/shop/owners');
		const rows = page.getByTestId('owner-row');
		await expect.poll(() => rows.count()).toBe(3);
		const texts = (await rows.allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
		expect(texts[0]).toMatch(/^@web\/checkout 2 1 0$/);
		expect(texts[1]).toMatch(/^@qa 1 1 0$/);
		expect(texts[2]).toMatch(/^@catalogue 1 0 0$/);
		expect(await page.getByTestId('unowned').textContent()).toBe('1 test without an owner.');
		await page.screenshot({ path: `${SHOTS}owners.png`, fullPage: true });

		await rows.nth(0).getByTestId('owner-link').click();
		await expect.poll(() => page.getByTestId('owner-title').textContent()).toBe('@web/checkout');
		expect(new URL(page.url()).pathname).toBe('/projects/shop/owners/%40web/checkout');
		const tests = page.getByTestId('test-link');
		expect((await tests.allTextContents()).sort()).toEqual(['applies a coupon', 'pays with a card']);
		expect(await page.getByTestId('owner-summary').textContent()).toContain('Owns 2 tests: 1 flaky, 0 broken now.');
		// The other owner of the card test links to its own page.
		await page.getByTestId('tests-table').getByRole('link', { name: '@qa' }).click();
		await expect.poll(() => page.getByTestId('owner-title').textContent()).toBe('@qa');
		expect(await page.getByTestId('test-link').allTextContents()).toEqual(['pays with a card']);
		await page.context().close();
	});

	it('shows owners in the flaky list and on the test page, and filters the list by owner', async () => {
		const page = await signedIn('/projects/shop/tests?state=all');
		await expect.poll(() => page.getByTestId('test-row').count()).toBe(4);
		const card = page.getByTestId('test-row').filter({ hasText: 'pays with a card' });
		expect(await card.getByTestId('owners').getByRole('link').allTextContents()).toEqual(['@web/checkout', '@qa']);

		// The list is served before its script runs: a choice made before hydration would not submit.
		await page.waitForLoadState('networkidle');
		await expect
			.poll(async () => {
				if (new URL(page.url()).searchParams.get('owner') !== '@catalogue') await page.getByTestId('owner-filter').selectOption('@catalogue');
				return new URL(page.url()).searchParams.get('owner');
			})
			.toBe('@catalogue');
		await expect.poll(() => page.getByTestId('test-link').allTextContents()).toEqual(['shows the catalogue']);
		await page.screenshot({ path: `${SHOTS}tests-owner-filter.png`, fullPage: true });

		await page.goto('/projects/shop/tests');
		await expect.poll(() => page.getByTestId('test-link').allTextContents()).toEqual(['pays with a card']);
		await page.getByTestId('test-link').click();
		await expect.poll(() => page.getByTestId('test-title').textContent()).toBe('pays with a card');
		expect(await page.getByTestId('owners').getByRole('link').allTextContents()).toEqual(['@web/checkout', '@qa']);
		expect(await page.getByTestId('owners').getByRole('link', { name: '@web/checkout' }).getAttribute('href')).toBe('/projects/shop/owners/%40web/checkout');
		await page.screenshot({ path: `${SHOTS}test-owners.png`, fullPage: true });
		await page.context().close();
	});

	it('answers 404 for an owner of no test, and fits a phone', async () => {
		const page = await signedIn('/projects/shop/owners/%40nobody');
		expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('This page does not exist');
		expect(await page.textContent('body')).toContain('No test of Web shop is owned by @nobody.');
		await page.goto('/projects/shop/owners/%40web/checkout');
		await page.setViewportSize({ width: 390, height: 844 });
		await expect.poll(() => page.getByTestId('test-row').count()).toBe(2);
		const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
		expect(overflow).toBeLessThanOrEqual(0);
		await page.screenshot({ path: `${SHOTS}owner-phone.png`, fullPage: true });
		await page.context().close();
	});
});
