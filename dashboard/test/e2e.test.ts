/**
 * The dashboard end to end: the built server (API and dashboard on one port) on a fresh PostgreSQL
 * database, a history seeded through the real API, and Debian's Chromium driven by Playwright.
 * Every page is photographed into test-results/screenshots/.
 */
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase, type TestDatabase } from '../../server/test/helpers/db.js';
import { startServer, type ServerProcess } from '../../server/test/helpers/server-process.js';
import { REGRESSION_AT, XSS_ERROR, XSS_TITLE, seed, sha, type Seeded } from './seed.js';

const SHOTS = fileURLToPath(new URL('../../test-results/screenshots/', import.meta.url));
const ADMIN_TOKEN = 'e2e-admin-token-0123456789abcdef';
const ADMIN_EMAIL = 'admin@example.com';
const ADMIN_PASSWORD = 'correct-horse-battery';

let db: TestDatabase;
let server: ServerProcess;
let browser: Browser;
let data: Seeded;
/** Dialogs (alert, confirm) and CSP violations seen in any page: both must stay empty. */
const dialogs: string[] = [];
const violations: string[] = [];
const pageErrors: string[] = [];
const contexts: BrowserContext[] = [];

async function api<T>(path: string, token = ADMIN_TOKEN): Promise<{ status: number; body: T }> {
	const res = await fetch(`${server.url}/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } });
	return { status: res.status, body: (await res.json()) as T };
}

async function open(opts: { width?: number; height?: number; dark?: boolean } = {}): Promise<Page> {
	const context = await browser.newContext({
		viewport: { width: opts.width ?? 1280, height: opts.height ?? 900 },
		colorScheme: opts.dark ? 'dark' : 'light',
		baseURL: server.url
	});
	contexts.push(context);
	await context.addInitScript(() => {
		document.addEventListener('securitypolicyviolation', (e) => {
			(window as unknown as { __csp: string[] }).__csp ??= [];
			(window as unknown as { __csp: string[] }).__csp.push(`${e.violatedDirective} ${e.blockedURI}`);
			console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
		});
	});
	const page = await context.newPage();
	page.on('dialog', (d) => {
		dialogs.push(`${d.type()}: ${d.message()}`);
		void d.dismiss();
	});
	page.on('console', (m) => {
		if (m.text().startsWith('CSP violation') || m.text().includes('Content Security Policy')) violations.push(m.text());
	});
	page.on('pageerror', (e) => pageErrors.push(e.message));
	return page;
}

async function signIn(page: Page, email = ADMIN_EMAIL, password = ADMIN_PASSWORD, path = '/') {
	await page.goto(path);
	await expect.poll(() => new URL(page.url()).pathname).toBe('/login');
	await page.getByLabel('E-mail').fill(email);
	await page.getByLabel('Password').fill(password);
	await page.getByRole('button', { name: 'Sign in' }).click();
	await expect
		.poll(async () => {
			const path = new URL(page.url()).pathname;
			if (path !== '/login') return 'signed in';
			const alert = page.getByRole('alert');
			if (await alert.count()) return await alert.textContent();
			// What the form holds, for the failure message; short timeouts, as the page may be leaving.
			const quick = { timeout: 200 };
			const email = await page.getByLabel('E-mail').inputValue(quick).catch(() => '(gone)');
			const password = await page.getByLabel('Password').inputValue(quick).catch(() => '');
			const button = await page.getByRole('button', { name: /Sign/ }).textContent(quick).catch(() => '(gone)');
			return `waiting (e-mail "${email}", password ${password.length} characters, button "${button}")`;
		})
		.toBe('signed in');
}

async function shot(page: Page, name: string) {
	await page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });
}

/** Pixels drawn on a chart's canvases (ECharts may paint in several layers), and their colours. */
async function ink(page: Page, testid: string) {
	return page
		.getByTestId(testid)
		.locator('canvas')
		.evaluateAll((canvases: HTMLCanvasElement[]) => {
			let drawn = 0;
			let area = 0;
			const colours = new Set<string>();
			for (const c of canvases) {
				if (c.width === 0 || c.height === 0) continue;
				const { data } = c.getContext('2d')!.getImageData(0, 0, c.width, c.height);
				area = Math.max(area, c.width * c.height);
				for (let i = 0; i < data.length; i += 4) {
					if (data[i + 3]! > 200) {
						drawn++;
						colours.add(`${data[i]! >> 5},${data[i + 1]! >> 5},${data[i + 2]! >> 5}`);
					}
				}
			}
			return { canvases: canvases.length, share: area ? drawn / area : 0, colours: colours.size };
		});
}

async function expectChartDrawn(page: Page, testid: string) {
	await expect.poll(async () => (await ink(page, testid)).share, { timeout: 10_000 }).toBeGreaterThan(0.01);
	const drawn = await ink(page, testid);
	expect({ testid, colourful: drawn.colours > 3 }).toEqual({ testid, colourful: true });
}

const noHorizontalScroll = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

async function testIdOf(title: string, projectName: string): Promise<string> {
	const r = await api<{ items: { testId: string; title: string; projectName: string }[] }>(
		'/projects/shop/flaky-tests?state=healthy,flaky,broken,suspect,fixed,quarantined&pageSize=100'
	);
	const found = r.body.items.find((i) => i.title === title && i.projectName === projectName);
	if (!found) throw new Error(`no test "${title}" (${projectName})`);
	return found.testId;
}

describe('dashboard in Chromium', () => {
	beforeAll(async () => {
		await mkdir(SHOTS, { recursive: true });
		db = await createPostgresDatabase();
		server = await startServer({
			DATABASE_URL: db.url,
			ADMIN_TOKEN,
			ADMIN_EMAIL,
			ADMIN_PASSWORD,
			DEMO: 'false',
			ANALYSIS_POLL_MS: '100',
			RATE_LIMIT_RUNS: '100000',
			RATE_LIMIT_BATCHES: '100000',
			RATE_LIMIT_READS: '100000',
			RATE_LIMIT_ADMIN: '100000',
			RATE_LIMIT_LOGIN: '100'
		});
		data = await seed(server.url, ADMIN_TOKEN);
		browser = await chromium.launch({
			executablePath: '/usr/bin/chromium',
			args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']
		});
	});

	afterAll(async () => {
		for (const c of contexts) await c.close().catch(() => undefined);
		await browser?.close();
		await server?.stop();
		await db?.destroy();
	});

	it('refuses a wrong password, signs in, and keeps the session out of reach of scripts', async () => {
		const page = await open();
		await page.goto('/projects/shop/tests?state=flaky');
		expect(new URL(page.url()).pathname + new URL(page.url()).search).toBe('/login?next=%2Fprojects%2Fshop%2Ftests%3Fstate%3Dflaky');
		await shot(page, 'login');
		await page.getByLabel('E-mail').fill(ADMIN_EMAIL);
		await page.getByLabel('Password').fill('not-the-password');
		await page.getByRole('button', { name: 'Sign in' }).click();
		await expect.poll(() => page.getByRole('alert').textContent()).toBe('Wrong e-mail or password.');
		await shot(page, 'login-wrong-password');
		await expect.poll(() => page.getByLabel('E-mail').inputValue()).toBe(ADMIN_EMAIL);

		await page.getByLabel('Password').fill(ADMIN_PASSWORD);
		await page.getByRole('button', { name: 'Sign in' }).click();
		await expect.poll(() => page.url()).toBe(`${server.url}/projects/shop/tests?state=flaky`);

		const cookies = await page.context().cookies();
		const session = cookies.find((c) => c.name === 'flackyness_session');
		expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', secure: false, path: '/' });
		expect(await page.evaluate(() => document.cookie)).not.toContain('flackyness_session');
		expect(await page.content()).not.toContain(session!.value);
		expect(await page.content()).not.toContain(ADMIN_TOKEN);
	});

	it('moves through every page from the sidebar, each with its content', async () => {
		const page = await open();
		await signIn(page);
		await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Projects');
		await shot(page, 'projects');

		const nav = page.getByRole('navigation', { name: 'Project' });
		await page.getByRole('link', { name: 'Web shop' }).click();
		await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Web shop');
		await expect.poll(() => page.getByTestId('card-tracked').textContent()).toContain('7');
		expect(await page.getByTestId('card-flaky').textContent()).toContain('3');
		expect(await page.getByTestId('card-broken').textContent()).toContain('1');
		await expectChartDrawn(page, 'trend-chart');
		await expectChartDrawn(page, 'calendar-chart');
		await shot(page, 'overview');

		await nav.getByRole('link', { name: /Flaky tests/ }).click();
		await expect.poll(() => page.getByTestId('test-row').count()).toBe(4);
		await shot(page, 'flaky-tests');

		await nav.getByRole('link', { name: 'Runs' }).click();
		await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Runs');
		expect(await page.getByText(`1–50 of ${data.runs} runs`).count()).toBe(1);
		await shot(page, 'runs');
		await page.getByTestId('run-link').first().click();
		await expect.poll(() => new URL(page.url()).pathname).toMatch(/^\/runs\/[0-9a-f-]{36}$/);
		await expect.poll(() => page.getByRole('heading', { name: /Failed tests/ }).count()).toBe(1);
		expect(await page.getByRole('link', { name: 'shows the total' }).count()).toBe(1);
		await shot(page, 'run-detail');

		await nav.getByRole('link', { name: 'Error clusters' }).click();
		await expect.poll(() => page.getByTestId('cluster').count()).toBe(4);
		await shot(page, 'error-clusters');

		await nav.getByRole('link', { name: 'Settings' }).click();
		await expect.poll(() => page.getByRole('heading', { name: 'Ingestion tokens' }).count()).toBe(1);
		await shot(page, 'settings');

		await page.getByRole('link', { name: 'Users' }).click();
		await expect.poll(() => page.getByTestId('users-table').textContent()).toContain(ADMIN_EMAIL);
		await shot(page, 'users');

		await page.getByRole('link', { name: 'System' }).click();
		const health = await api<{ tables: { table: string; rows: number; rowsExact: boolean }[] }>('/admin/health');
		const results = health.body.tables.find((t) => t.table === 'test_results')!;
		expect(results).toMatchObject({ rowsExact: true });
		expect(results.rows).toBeGreaterThan(0);
		const resultsRow = page.getByTestId('system-tables').getByRole('row').filter({ hasText: 'test_results' });
		await expect.poll(() => resultsRow.textContent()).toContain(results.rows.toLocaleString('en'));
		await shot(page, 'system');

		await page.getByRole('link', { name: 'Account' }).click();
		await expect.poll(() => page.getByRole('heading', { name: 'Change your password' }).count()).toBe(1);
		await shot(page, 'account');

		await page.getByRole('link', { name: 'New project' }).click();
		await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('New project');
		await shot(page, 'new-project');

		// The project selector keeps the section: from the shop's runs to the mobile app's runs.
		await page.goto('/projects/shop/runs');
		await page.getByTestId('project-select').selectOption('empty');
		await expect.poll(() => new URL(page.url()).pathname).toBe('/projects/empty/runs');
		await expect.poll(() => page.getByRole('heading', { name: 'No runs yet' }).count()).toBe(1);
	});

	it('teaches an empty project how to send its first results, with this server and slug filled in', async () => {
		const page = await open();
		await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD, '/projects/empty');
		await expect.poll(() => page.getByTestId('setup').count()).toBe(1);
		expect(await page.getByTestId('setup-config').textContent()).toContain(`['flackyness-reporter', { url: '${server.url}' }]`);
		const curl = await page.getByTestId('setup-curl').textContent();
		expect(curl).toContain(`curl -sS --fail-with-body -X POST '${server.url}/api/v1/reports'`);
		expect(curl).toContain(`-H 'X-Flackyness-Project: ${data.empty.slug}'`);
		await shot(page, 'empty-project');
	});

	it('sorts and filters flaky tests, keeping every filter in the URL', async () => {
		const page = await open();
		await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD, '/projects/shop/tests');
		const titles = () => page.getByTestId('test-link').allTextContents();
		await expect.poll(titles).toEqual(['shows the total', 'pays with card', XSS_TITLE, 'remembers the user']);

		await page.getByRole('button', { name: /^Test/ }).click();
		await expect.poll(() => page.url()).toContain('sort=name&order=asc');
		await expect.poll(titles).toEqual([XSS_TITLE, 'pays with card', 'remembers the user', 'shows the total']);
		expect(await page.locator('th[aria-sort="ascending"]').textContent()).toContain('Test');

		// Keyboard: the headers are buttons.
		await page.getByRole('button', { name: /^Test/ }).focus();
		await page.keyboard.press('Enter');
		await expect.poll(() => page.url()).toContain('sort=name&order=desc');
		await expect.poll(titles).toEqual(['shows the total', 'remembers the user', 'pays with card', XSS_TITLE]);

		await page.getByLabel('State').selectOption('broken');
		await expect.poll(() => new URL(page.url()).searchParams.get('state')).toBe('broken');
		await expect.poll(titles).toEqual(['shows the total']);
		expect(new URL(page.url()).searchParams.get('sort')).toBe('name');

		await page.getByLabel('State').selectOption('all');
		await page.getByLabel('Playwright project').selectOption('firefox');
		await expect.poll(() => new URL(page.url()).searchParams.get('project')).toBe('firefox');
		await expect.poll(async () => (await titles()).sort()).toEqual(['pays with card', 'remembers the user']);

		await page.getByLabel('Search').fill('remembers');
		await expect.poll(() => new URL(page.url()).searchParams.get('q')).toBe('remembers');
		await expect.poll(titles).toEqual(['remembers the user']);

		await page.getByLabel('Search').fill('');
		await page.getByLabel('Playwright project').selectOption('');
		await page.getByLabel('State').selectOption('');
		await page.getByLabel('Branch').selectOption('feature/wishlist');
		await expect.poll(() => new URL(page.url()).searchParams.get('branch')).toBe('feature/wishlist');
		await expect.poll(async () => (await titles()).length).toBe(4);
		await shot(page, 'flaky-tests-filtered');

		// A shared link shows the same list with the same filters chosen.
		const link = '/projects/shop/tests?state=flaky&project=chromium&sort=flakeRate&order=desc';
		const other = await open();
		await signIn(other, ADMIN_EMAIL, ADMIN_PASSWORD, link);
		await expect.poll(() => other.getByTestId('test-link').allTextContents()).toEqual(['pays with card', XSS_TITLE]);
		expect(await other.getByLabel('State').inputValue()).toBe('flaky');
		expect(await other.getByLabel('Playwright project').inputValue()).toBe('chromium');
		expect(await other.locator('th[aria-sort="descending"]').textContent()).toContain('Failed runs');

		await other.getByLabel('Search').fill('no such test anywhere');
		await expect.poll(() => other.getByTestId('empty').textContent()).toContain('No test matches these filters');
	});

	it('explains a flaky and a broken test in words, with the history chart drawn and GitLab links', async () => {
		const page = await open();
		const flaky = await testIdOf('pays with card', 'chromium');
		await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD, `/tests/${flaky}`);
		await expect.poll(() => page.getByTestId('verdict').locator('.headline').textContent()).toMatch(
			/^flaky: mixed results on \d+ commits, estimated \d+(\.\d)?% \(\d+(\.\d)?–\d+(\.\d)?%\)$/
		);
		await expectChartDrawn(page, 'history-chart');
		const runs = page.getByTestId('runs-table');
		expect(await runs.getByRole('link', { name: /^pipeline 47\d\d$/ }).first().getAttribute('href')).toMatch(
			/^https:\/\/gitlab\.example\.com\/shop\/web\/-\/pipelines\/47\d\d$/
		);
		expect(await runs.getByRole('link', { name: 'job e2e' }).first().getAttribute('href')).toMatch(/\/-\/jobs\/\d+$/);
		expect(await runs.getByRole('link', { name: sha(39).slice(0, 8) }).first().getAttribute('href')).toBe(
			`https://gitlab.example.com/shop/web/-/commit/${sha(39)}`
		);
		expect(await runs.getByRole('link', { name: '!42' }).first().getAttribute('href')).toBe('https://gitlab.example.com/shop/web/-/merge_requests/42');
		expect(await page.getByTestId('errors').textContent()).toContain("TimeoutError: locator.click: Timeout 5000ms exceeded.");
		await shot(page, 'test-flaky');

		const broken = await testIdOf('shows the total', 'chromium');
		await page.goto(`/tests/${broken}`);
		await expect.poll(() => page.getByTestId('verdict').locator('.headline').textContent()).toBe(
			`broken since commit ${sha(REGRESSION_AT).slice(0, 8)} — pipeline ${4700 + REGRESSION_AT * 2}`
		);
		await expectChartDrawn(page, 'history-chart');
		await shot(page, 'test-broken');
	});

	it('lets an admin quarantine a test and release it', async () => {
		const page = await open();
		const id = await testIdOf('pays with card', 'chromium');
		await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD, `/tests/${id}`);
		const box = page.getByTestId('quarantine');
		await box.getByLabel('Reason').fill('Payment sandbox times out — JIRA-123');
		await box.getByLabel('For').selectOption('7');
		await box.getByRole('button', { name: 'Quarantine' }).click();
		await expect.poll(() => box.getByRole('status').textContent()).toContain('Quarantined');
		await expect.poll(() => page.locator('header [data-state]').getAttribute('data-state')).toBe('quarantined');
		expect(await page.getByTestId('verdict').locator('.headline').textContent()).toMatch(
			new RegExp(`^quarantined by ${ADMIN_EMAIL} until \\d+ \\w+ \\d{4}: Payment sandbox times out — JIRA-123$`)
		);
		const list = await api<{ tests: { testId: string; reason: string }[] }>('/quarantine?project=shop');
		expect(list.body.tests).toEqual([expect.objectContaining({ testId: id, reason: 'Payment sandbox times out — JIRA-123' })]);
		await shot(page, 'test-quarantined');

		await box.getByRole('button', { name: 'Release from quarantine' }).click();
		await expect.poll(() => page.locator('header [data-state]').getAttribute('data-state')).toBe('flaky');
		expect((await api<{ tests: unknown[] }>('/quarantine?project=shop')).body.tests).toEqual([]);
	});

	it('rotates the ingestion token: the new one is shown once, the old one is refused', async () => {
		const page = await open();
		await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD, '/projects/shop/settings');
		expect((await api('/quarantine', data.shop.token)).status).toBe(200);
		const tokens = page.getByTestId('tokens');
		await tokens.getByTestId('rotate').click();
		await tokens.getByTestId('confirm-rotate').click();
		await expect.poll(() => tokens.getByTestId('secret').count()).toBe(1);
		const fresh = (await tokens.getByTestId('secret').textContent())!.trim();
		expect(fresh).toMatch(/^flk_p_[\w-]{20,}$/);
		expect(await tokens.getByRole('status').last().textContent()).toContain('1 older token revoked');
		await shot(page, 'settings-rotated');

		expect((await api('/quarantine', data.shop.token)).status).toBe(401);
		expect((await api('/quarantine', fresh)).status).toBe(200);
		expect(await page.getByTestId('token-table').textContent()).toContain(fresh.slice(0, 12));

		await page.reload();
		await expect.poll(() => page.getByTestId('token-table').count()).toBe(1);
		expect(await page.getByTestId('secret').count()).toBe(0);
		expect(await page.content()).not.toContain(fresh);
		data.shop.token = fresh;
	});

	it('shows the XSS payloads of a test title and its error as text, and runs none of them', async () => {
		const before = dialogs.length;
		const page = await open();
		const id = await testIdOf(XSS_TITLE, 'chromium');
		await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD, '/projects/shop/tests');
		await expect.poll(() => page.getByTestId('test-link').allTextContents()).toContain(XSS_TITLE);
		await page.goto(`/tests/${id}`);
		await expect.poll(() => page.getByTestId('test-title').textContent()).toBe(XSS_TITLE);
		expect(await page.getByTestId('errors').locator('pre').first().textContent()).toBe(XSS_ERROR);
		await expectChartDrawn(page, 'history-chart');
		await page.goto('/projects/shop/errors');
		await expect.poll(() => page.getByText('<img src=x onerror=alert(3)>', { exact: false }).count()).toBeGreaterThan(0);
		await page.goto('/projects/shop');
		await expect.poll(() => page.getByRole('link', { name: XSS_TITLE }).count()).toBe(1);
		await shot(page, 'xss-overview');
		await page.goto(`/tests/${id}`);
		await expect.poll(() => page.getByTestId('test-title').textContent()).toBe(XSS_TITLE);
		await shot(page, 'xss-test');

		const injected = await page.evaluate(() => ({
			images: document.querySelectorAll('img[src="x"]').length,
			scripts: [...document.scripts].filter((s) => /^\s*alert\(/.test(s.textContent ?? '')).length,
			handlers: document.querySelectorAll('[onerror]').length
		}));
		expect(injected).toEqual({ images: 0, scripts: 0, handlers: 0 });
		expect(dialogs.slice(before)).toEqual([]);
	});

	it('fits a 390 px phone: no sideways scrolling, and a menu for the sidebar', async () => {
		const page = await open({ width: 390, height: 844 });
		const flaky = await testIdOf('pays with card', 'chromium');
		await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD, '/projects/shop');
		const pages: [string, string][] = [
			['/projects/shop', 'phone-overview'],
			['/projects/shop/tests', 'phone-flaky-tests'],
			[`/tests/${flaky}`, 'phone-test'],
			['/projects/shop/runs', 'phone-runs'],
			['/projects/shop/errors', 'phone-error-clusters'],
			['/projects/shop/settings', 'phone-settings'],
			['/users', 'phone-users'],
			['/projects/empty', 'phone-empty-project']
		];
		for (const [path, name] of pages) {
			await page.goto(path);
			await page.waitForLoadState('networkidle');
			expect({ path, overflow: await noHorizontalScroll(page) }).toEqual({ path, overflow: 0 });
			await shot(page, name);
		}
		await page.goto(`/tests/${flaky}`);
		await expectChartDrawn(page, 'history-chart');

		await page.goto('/projects/shop');
		expect(await page.getByRole('link', { name: 'Runs' }).isVisible()).toBe(false);
		await page.getByRole('button', { name: 'Menu' }).click();
		await expect.poll(() => page.getByRole('link', { name: 'Runs' }).isVisible()).toBe(true);
		await shot(page, 'phone-menu');
		await page.getByRole('link', { name: 'Runs' }).click();
		await expect.poll(() => new URL(page.url()).pathname).toBe('/projects/shop/runs');
		await expect.poll(() => page.getByRole('link', { name: 'Error clusters' }).isVisible()).toBe(false);
	});

	it('follows the OS into dark mode', async () => {
		const page = await open({ dark: true });
		await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD, '/projects/shop');
		await expectChartDrawn(page, 'trend-chart');
		const bg = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
		expect(bg).toBe('rgb(15, 18, 23)');
		await shot(page, 'dark-overview');
		await page.goto(`/tests/${await testIdOf('shows the total', 'chromium')}`);
		await expectChartDrawn(page, 'history-chart');
		await shot(page, 'dark-test');
	});

	it('gives a viewer every page to read and no admin control', async () => {
		const admin = await open();
		await signIn(admin, ADMIN_EMAIL, ADMIN_PASSWORD, '/users');
		await admin.getByLabel('E-mail').fill('viewer@example.com');
		await admin.getByRole('button', { name: 'Add user' }).click();
		await expect.poll(() => admin.getByTestId('secret').count()).toBe(1);
		const password = (await admin.getByTestId('secret').textContent())!.trim();
		expect(password).toHaveLength(20);
		await shot(admin, 'users-created');

		const page = await open();
		await signIn(page, 'viewer@example.com', password, '/projects/shop');
		await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Web shop');
		expect(await page.getByRole('link', { name: 'Settings' }).count()).toBe(0);
		expect(await page.getByRole('link', { name: 'Users' }).count()).toBe(0);
		expect(await page.getByRole('link', { name: 'System' }).count()).toBe(0);
		await page.goto(`/tests/${await testIdOf('pays with card', 'chromium')}`);
		await expect.poll(() => page.getByTestId('quarantine').textContent()).toContain('Admins can quarantine');
		expect(await page.getByRole('button', { name: 'Quarantine' }).count()).toBe(0);
		const settings = await page.goto('/projects/shop/settings');
		expect(settings?.status()).toBe(403);
		expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Not for your role');
		await shot(page, 'viewer-forbidden');
		expect((await page.goto('/users'))?.status()).toBe(403);
		expect((await page.goto('/system'))?.status()).toBe(403);
	});

	it('saves a threshold, leaves the others at their defaults, and explains a bad value', async () => {
		const page = await open();
		await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD, '/projects/shop/settings');
		const form = page.getByTestId('thresholds');
		await form.getByLabel('Suspect for (days)').fill('10');
		await form.getByRole('button', { name: 'Save thresholds' }).click();
		await expect.poll(() => form.getByRole('status').textContent()).toContain('Thresholds saved');
		expect((await api<{ stored: unknown }>('/projects/shop/settings')).body.stored).toEqual({ analysis: { suspectDays: 10 } });

		await form.getByLabel('Credible interval').fill('2');
		await form.getByRole('button', { name: 'Save thresholds' }).click();
		await expect.poll(() => form.getByRole('alert').textContent()).toMatch(/^Credible interval: /);
		await shot(page, 'settings-invalid-threshold');
		expect((await api<{ stored: unknown }>('/projects/shop/settings')).body.stored).toEqual({ analysis: { suspectDays: 10 } });

		await page.reload();
		expect(await form.getByLabel('Suspect for (days)').inputValue()).toBe('10');
		expect(await form.getByLabel('Credible interval').inputValue()).toBe('');
		expect(await form.getByLabel('Credible interval').getAttribute('placeholder')).toBe('0.9');
	});

	it('answers unknown pages with a 404 page', async () => {
		const page = await open();
		await signIn(page);
		for (const path of ['/projects/nope', '/tests/00000000-0000-4000-8000-000000000000', '/runs/not-a-run', '/no/such/page']) {
			const res = await page.goto(path);
			expect({ path, status: res?.status() }).toEqual({ path, status: 404 });
			expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('This page does not exist');
			if (path === '/projects/nope') {
				// Inside the app the sidebar stays, with the way back.
				expect(await page.getByRole('navigation', { name: 'Account' }).count()).toBe(1);
				await shot(page, 'not-found-in-app');
			}
		}
		await shot(page, 'not-found');
	});

	it('signs out: the cookie is gone and pages ask to sign in again', async () => {
		const page = await open();
		await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD, '/projects/shop');
		await page.getByRole('button', { name: 'Sign out' }).click();
		await expect.poll(() => new URL(page.url()).pathname).toBe('/login');
		expect((await page.context().cookies()).find((c) => c.name === 'flackyness_session')).toBeUndefined();
		await page.goto('/projects/shop/runs');
		expect(new URL(page.url()).pathname + new URL(page.url()).search).toBe('/login?next=%2Fprojects%2Fshop%2Fruns');
	});

	it('kept to the content security policy on every page, with no script errors', async () => {
		const res = await fetch(`${server.url}/login`);
		const csp = res.headers.get('content-security-policy') ?? '';
		expect(csp).toMatch(/script-src 'self' 'sha256-[\w+/=]+'/);
		expect(csp).toContain("object-src 'none'");
		expect(csp).toContain("frame-ancestors 'none'");
		expect(violations).toEqual([]);
		expect(pageErrors).toEqual([]);
		expect(dialogs).toEqual([]);
	});
});
