/**
 * The Quarantine page, end to end: the built server on a fresh PostgreSQL database, a project whose
 * automatic quarantine policy is on, a history sent through the real API in which the server's own
 * worker finds a flaky test and quarantines it, a test an admin quarantines by hand and one an
 * admin released; then failures while quarantined, and Debian's Chromium showing who quarantined
 * each test, why, until when, the failures ignored and the CI time saved.
 */
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from '@playwright/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase, type TestDatabase } from '../../server/test/helpers/db.js';
import { startServer, type ServerProcess } from '../../server/test/helpers/server-process.js';

const SHOTS = fileURLToPath(new URL('../../test-results/screenshots/', import.meta.url));
const ADMIN_TOKEN = 'e2e-quarantine-admin-token-0123456789';
const ADMIN_EMAIL = 'admin@example.com';
const ADMIN_PASSWORD = 'correct-horse-battery';
type Title = 'pays with a card' | 'applies a coupon' | 'shows the catalogue';

interface QuarantineRow {
	test: { id: string; title: string };
	createdBy: string;
	failuresIgnored: number;
	savedMinutes: number;
}

describe('quarantine page on the dashboard', () => {
	let db: TestDatabase;
	let server: ServerProcess;
	let browser: Browser;
	let token: string;
	const ids = {} as Record<Title, string>;

	const send = async (bearer: string, method: string, path: string, body?: unknown) => {
		const res = await fetch(`${server.url}/api/v1${path}`, {
			method,
			headers: { authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
			...(body === undefined ? {} : { body: JSON.stringify(body) })
		});
		expect(res.status, `${method} ${path}`).toBeLessThan(300);
		return res.status === 204 ? {} : ((await res.json()) as Record<string, unknown>);
	};

	/** One run; `outcomes` says how each test went (flaky: failed once, passed on retry; unexpected: failed both attempts). */
	async function sendRun(commit: number, startedAt: string, outcomes: Partial<Record<Title, ['expected' | 'flaky' | 'unexpected', number]>>) {
		const ci = { provider: 'gitlab', branch: 'main', defaultBranch: 'main', commitSha: (0xdef000 + commit).toString(16).padStart(40, '0'), pipelineId: `${300 + commit}`, jobId: `${700 + commit}`, jobName: 'e2e' };
		const { runId } = (await send(token, 'POST', '/runs', { ci, startedAt })) as { runId: string };
		const results = Object.entries(outcomes).map(([title, [outcome, durationMs]]) => ({
			file: 'shop.spec.ts',
			titlePath: ['shop', title],
			projectName: 'chromium',
			outcome,
			expectedStatus: 'passed',
			status: outcome === 'unexpected' ? 'failed' : 'passed',
			attempts: outcome === 'expected' ? 1 : 2,
			failedAttempts: outcome === 'expected' ? 0 : outcome === 'flaky' ? 1 : 2,
			durationMs,
			startedAt,
			...(outcome === 'expected' ? {} : { error: { message: 'Timeout 5000ms exceeded waiting for #pay' } })
		}));
		await send(token, 'POST', `/runs/${runId}/results`, { results });
		await send(token, 'POST', `/runs/${runId}/complete`, { status: Object.values(outcomes).some(([o]) => o === 'unexpected') ? 'failed' : 'passed' });
	}

	const quarantines = async () =>
		(await send(ADMIN_TOKEN, 'GET', '/projects/shop/quarantines')) as { active: QuarantineRow[]; ended: QuarantineRow[] };

	async function signedIn(path: string, viewport = { width: 1280, height: 900 }): Promise<Page> {
		const context = await browser.newContext({ baseURL: server.url, viewport });
		const page = await context.newPage();
		await page.goto(path);
		await page.getByLabel('E-mail').fill(ADMIN_EMAIL);
		await page.getByLabel('Password').fill(ADMIN_PASSWORD);
		await page.getByRole('button', { name: 'Sign in' }).click();
		await expect.poll(() => new URL(page.url()).pathname).toBe(path);
		return page;
	}

	beforeAll(async () => {
		await mkdir(SHOTS, { recursive: true });
		db = await createPostgresDatabase();
		server = await startServer({ DATABASE_URL: db.url, ADMIN_TOKEN, ADMIN_EMAIL, ADMIN_PASSWORD, DEMO: 'false', RATE_LIMIT_LOGIN: '100', RATE_LIMIT_RUNS: '1000' });
		({ token } = (await send(ADMIN_TOKEN, 'POST', '/admin/projects', { slug: 'shop', name: 'Web shop' })) as { token: string });
		await send(ADMIN_TOKEN, 'PUT', '/projects/shop/settings', { quarantinePolicy: { minFailureChance: 0.05, days: 7 } });
		// A day of history: the card test fails its first attempt every other commit.
		for (let c = 0; c < 24; c++) {
			await sendRun(c, new Date(Date.now() - (30 - c) * 3600_000).toISOString(), {
				'pays with a card': [c % 2 === 0 ? 'flaky' : 'expected', 4000],
				'applies a coupon': ['expected', 1500],
				'shows the catalogue': ['expected', 900]
			});
		}
		// The server's worker analyses the runs, and its policy quarantines the card test.
		const deadline = Date.now() + 90_000;
		for (;;) {
			const { active } = await quarantines();
			if (active.some((q) => q.test.title === 'pays with a card' && q.createdBy === 'policy')) break;
			if (Date.now() > deadline) throw new Error(`the policy did not quarantine the card test: ${JSON.stringify(active)}`);
			await new Promise((r) => setTimeout(r, 500));
		}
		const tests = (await send(ADMIN_TOKEN, 'GET', '/projects/shop/flaky-tests?state=healthy,flaky,broken,suspect,fixed,quarantined')) as { items: Array<{ testId: string; title: Title }> };
		for (const t of tests.items) ids[t.title] = t.testId;
		await send(ADMIN_TOKEN, 'POST', `/tests/${ids['applies a coupon']}/quarantine`, { reason: 'Coupon service sandbox is down — JIRA-77' });
		await send(ADMIN_TOKEN, 'POST', `/tests/${ids['shows the catalogue']}/quarantine`, { reason: 'Catalogue images slow' });
		await send(ADMIN_TOKEN, 'DELETE', `/tests/${ids['shows the catalogue']}/quarantine`);
		// Failures while quarantined: these are what the quarantines saved.
		await sendRun(24, new Date().toISOString(), { 'pays with a card': ['unexpected', 90_000], 'applies a coupon': ['unexpected', 30_000], 'shows the catalogue': ['unexpected', 5_000] });
		await sendRun(25, new Date().toISOString(), { 'pays with a card': ['unexpected', 45_000], 'applies a coupon': ['expected', 1_500], 'shows the catalogue': ['expected', 900] });
		browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
	}, 240_000);

	afterAll(async () => {
		await browser?.close();
		await server?.stop();
		await db?.destroy();
	});

	it('lists the active and the recently ended quarantines with who, why, until when and what they saved', async () => {
		const page = await signedIn('/projects/shop/quarantine');
		const active = page.getByTestId('quarantine-row');
		await expect.poll(() => active.count()).toBe(2);
		const coupon = active.nth(0);
		expect(await coupon.getByTestId('test-link').textContent()).toBe('applies a coupon');
		expect(await coupon.getByTestId('by').innerText()).toMatch(/^admin \(ADMIN_TOKEN\)\s+just now$/);
		expect(await coupon.getByTestId('reason').textContent()).toBe('Coupon service sandbox is down — JIRA-77');
		expect((await coupon.getByTestId('until').innerText()).trim()).toBe('until released');
		expect(await coupon.getByTestId('failures').textContent()).toBe('1');
		expect(await coupon.getByTestId('saved').textContent()).toBe('30 s');

		const card = active.nth(1);
		expect(await card.getByTestId('test-link').textContent()).toBe('pays with a card');
		expect(await card.getByTestId('by').innerText()).toMatch(/^automatic \(policy\)/);
		expect(await card.getByTestId('reason').textContent()).toMatch(/^Automatic: fails \d+% of attempts .*at least 5% by the project's policy$/);
		expect(await card.getByTestId('until').innerText()).toMatch(/^in 7 days\s+\d+ \w{3} \d{4}$/);
		expect(await card.getByTestId('failures').textContent()).toBe('2');
		expect(await card.getByTestId('saved').textContent()).toBe('2 min 15 s');

		const ended = page.getByTestId('ended-row');
		expect(await ended.count()).toBe(1);
		expect(await ended.getByTestId('test-link').textContent()).toBe('shows the catalogue');
		expect(await ended.getByTestId('ended').innerText()).toMatch(/^released by admin \(ADMIN_TOKEN\)\s+just now$/);
		expect(await ended.getByTestId('failures').textContent()).toBe('0');
		expect(await ended.getByTestId('saved').textContent()).toBe('–');
		expect(await page.getByTestId('total-saved').textContent()).toBe('2 min 45 s of CI time saved, these and the recently ended together');

		// The sidebar links the page, and marks it as the one shown.
		const link = page.getByRole('navigation', { name: 'Project' }).getByRole('link', { name: 'Quarantine' });
		expect(await link.getAttribute('aria-current')).toBe('page');
		await page.screenshot({ path: `${SHOTS}quarantine.png`, fullPage: true });

		// The API agrees with the page.
		const api = await quarantines();
		expect(api.active.map((q) => [q.test.title, q.failuresIgnored, q.savedMinutes])).toEqual([
			['applies a coupon', 1, 0.5],
			['pays with a card', 2, 2.25]
		]);
		await page.context().close();
	});

	it('shows on the test page who quarantined the test, why and until when', async () => {
		const page = await signedIn('/projects/shop/quarantine');
		await page.getByTestId('quarantine-row').nth(1).getByTestId('test-link').click();
		await expect.poll(() => page.getByTestId('test-title').textContent()).toBe('pays with a card');
		expect(await page.getByTestId('quarantined-by').innerText()).toMatch(/^automatic \(policy\), (just now|\d+ minutes? ago)$/);
		expect(await page.getByTestId('quarantine-reason').textContent()).toMatch(/^Automatic: fails/);
		expect(await page.getByTestId('quarantined-until').textContent()).toMatch(/^in 7 days \(\d+ \w{3} \d{4}\)$/);
		await page.screenshot({ path: `${SHOTS}test-quarantine.png`, fullPage: true });

		await page.goto(`/tests/${ids['applies a coupon']}`);
		expect(await page.getByTestId('quarantined-by').innerText()).toMatch(/^admin \(ADMIN_TOKEN\), /);
		expect(await page.getByTestId('quarantined-until').textContent()).toBe('until released');
		await page.getByRole('link', { name: 'All quarantined tests, with the CI time each saved' }).click();
		await expect.poll(() => new URL(page.url()).pathname).toBe('/projects/shop/quarantine');
		await page.context().close();
	});

	it('fits a phone', async () => {
		const page = await signedIn('/projects/shop/quarantine', { width: 390, height: 844 });
		await expect.poll(() => page.getByTestId('quarantine-row').count()).toBe(2);
		const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
		expect(overflow).toBeLessThanOrEqual(0);
		await page.screenshot({ path: `${SHOTS}quarantine-phone.png`, fullPage: true });
		await page.context().close();
	});
});
