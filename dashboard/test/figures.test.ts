/**
 * The help tooltips of the figures, end to end: the built server on a fresh PostgreSQL database, a
 * history sent through the real API (a flaky test, a steady one, one skipped in every run), and
 * Debian's Chromium hovering each figure's help on the test page and the overview: the tooltip
 * shows the figure's one definition (the API's own description, see server/test/read/figures.test.ts).
 */
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from '@playwright/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase, type TestDatabase } from '../../server/test/helpers/db.js';
import { startServer, type ServerProcess } from '../../server/test/helpers/server-process.js';
import { FIGURES, type FigureName } from '../src/lib/figures';

const SHOTS = fileURLToPath(new URL('../../test-results/screenshots/', import.meta.url));
const ADMIN_TOKEN = 'e2e-figures-admin-token-0123456789';
const ADMIN_EMAIL = 'admin@example.com';
const ADMIN_PASSWORD = 'correct-horse-battery';
type Title = 'pays with a card' | 'shows the catalogue' | 'exports to CSV';

describe('figure definitions on the dashboard', () => {
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
		return (await res.json()) as Record<string, unknown>;
	};

	async function sendRun(commit: number, startedAt: string, outcomes: Record<Title, 'expected' | 'flaky' | 'skipped'>) {
		const ci = { provider: 'gitlab', branch: 'main', defaultBranch: 'main', commitSha: (0xf16000 + commit).toString(16).padStart(40, '0'), pipelineId: `${500 + commit}`, jobId: `${900 + commit}`, jobName: 'e2e' };
		const { runId } = (await send(token, 'POST', '/runs', { ci, startedAt })) as { runId: string };
		const results = Object.entries(outcomes).map(([title, outcome]) => ({
			file: 'shop.spec.ts',
			titlePath: ['shop', title],
			projectName: 'chromium',
			outcome,
			expectedStatus: outcome === 'skipped' ? 'skipped' : 'passed',
			status: outcome === 'skipped' ? 'skipped' : 'passed',
			attempts: outcome === 'flaky' ? 2 : 1,
			failedAttempts: outcome === 'flaky' ? 1 : 0,
			durationMs: outcome === 'skipped' ? 0 : 2000,
			startedAt,
			...(outcome === 'flaky' ? { error: { message: 'Timeout 5000ms exceeded waiting for #pay' } } : {})
		}));
		await send(token, 'POST', `/runs/${runId}/results`, { results });
		await send(token, 'POST', `/runs/${runId}/complete`, { status: 'passed' });
	}

	async function signedIn(path: string): Promise<Page> {
		const context = await browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 900 } });
		const page = await context.newPage();
		await page.goto(path);
		await page.getByLabel('E-mail').fill(ADMIN_EMAIL);
		await page.getByLabel('Password').fill(ADMIN_PASSWORD);
		await page.getByRole('button', { name: 'Sign in' }).click();
		await expect.poll(() => new URL(page.url()).pathname).toBe(path);
		return page;
	}

	/** Hovers each figure's help on the page; answers the figures found, each checked against its definition. */
	async function checkTooltips(page: Page): Promise<FigureName[]> {
		const names = (await page.locator('[data-figure]').evaluateAll((els) => els.map((e) => e.getAttribute('data-figure')))) as FigureName[];
		for (const name of names) {
			const tip = page.getByTestId(`figure-tip-${name}`);
			expect(await tip.isVisible(), `${name} hidden before hovering`).toBe(false);
			await page.locator(`[data-figure="${name}"] button.help`).hover();
			await expect.poll(() => tip.isVisible(), { message: name }).toBe(true);
			expect(await tip.textContent(), name).toBe(FIGURES[name].definition);
			// The help button names the figure and points at its definition, for screen readers too.
			const help = page.locator(`[data-figure="${name}"] button.help`);
			expect(await help.getAttribute('aria-describedby')).toBe(`figure-help-${name}`);
			await page.mouse.move(0, 0);
			await expect.poll(() => tip.isVisible(), { message: name }).toBe(false);
		}
		return names;
	}

	beforeAll(async () => {
		await mkdir(SHOTS, { recursive: true });
		db = await createPostgresDatabase();
		server = await startServer({ DATABASE_URL: db.url, ADMIN_TOKEN, ADMIN_EMAIL, ADMIN_PASSWORD, DEMO: 'false', RATE_LIMIT_LOGIN: '100', RATE_LIMIT_RUNS: '1000' });
		({ token } = (await send(ADMIN_TOKEN, 'POST', '/admin/projects', { slug: 'shop', name: 'Web shop' })) as { token: string });
		for (let c = 0; c < 24; c++) {
			await sendRun(c, new Date(Date.now() - (30 - c) * 3600_000).toISOString(), {
				'pays with a card': c % 3 === 1 ? 'flaky' : 'expected',
				'shows the catalogue': 'expected',
				'exports to CSV': 'skipped'
			});
		}
		const deadline = Date.now() + 90_000;
		for (;;) {
			const list = (await send(ADMIN_TOKEN, 'GET', '/projects/shop/flaky-tests?state=healthy,flaky,skipped')) as { items: Array<{ testId: string; title: Title; state: string }> };
			for (const t of list.items) ids[t.title] = t.testId;
			if (list.items.some((t) => t.title === 'pays with a card' && t.state === 'flaky') && list.items.some((t) => t.title === 'exports to CSV' && t.state === 'skipped')) break;
			if (Date.now() > deadline) throw new Error(`the analysis did not judge the tests: ${JSON.stringify(list.items)}`);
			await new Promise((r) => setTimeout(r, 500));
		}
		browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
	}, 240_000);

	afterAll(async () => {
		await browser?.close();
		await server?.stop();
		await db?.destroy();
	});

	it('the test page: each figure has a help tooltip with its definition, and the counts name their runs', async () => {
		const page = await signedIn(`/tests/${ids['pays with a card']}`);
		const names = await checkTooltips(page);
		expect(names).toEqual(['failureChance', 'failedRuns', 'notCounted', 'mixedCommits', 'impactMinutes', 'estimatedAt', 'stateSince', 'lastFlakyAt']);
		const api = (await send(ADMIN_TOKEN, 'GET', `/tests/${ids['pays with a card']}`)) as { health: { figures: { failedRuns: number; countedRuns: number } } };
		const f = api.health.figures;
		expect(await page.getByTestId('fig-failed-runs').textContent()).toMatch(new RegExp(`^${f.failedRuns} of ${f.countedRuns} default-branch runs \\(\\d+%\\): ${f.failedRuns} passed on retry, 0 failed every attempt$`));
		expect(await page.getByTestId('fig-not-counted').textContent()).toBe(`none of ${f.countedRuns} runs`);
		await page.locator('[data-figure="failedRuns"] button.help').hover();
		await page.screenshot({ path: `${SHOTS}figures-test-page.png`, fullPage: true });
		await page.context().close();
	});

	it('a test skipped in every run: "skipped", no failure chance', async () => {
		const page = await signedIn(`/tests/${ids['exports to CSV']}`);
		expect(await page.locator('header [data-state]').textContent()).toBe('skipped');
		expect(await page.getByTestId('verdict').locator('.headline').textContent()).toBe('skipped in all 24 runs: nothing to judge, so no failure chance');
		expect(await page.getByTestId('fig-failure-chance').count()).toBe(0);
		expect(await page.getByTestId('fig-not-counted').textContent()).toBe('24 of 24 runs: 24 skipped');
		await page.context().close();
	});

	it('the overview: each tile has a help tooltip with its definition', async () => {
		const page = await signedIn('/projects/shop');
		const names = await checkTooltips(page);
		expect(names).toEqual(['activeFlaky', 'flakeRateLast30Days', 'fixedThisWeek', 'brokenNow', 'impactMinutesPerDay']);
		await page.locator('[data-figure="fixedThisWeek"] button.help').hover();
		await page.screenshot({ path: `${SHOTS}figures-overview.png` });
		await page.context().close();
	});
});
