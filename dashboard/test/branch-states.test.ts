/**
 * Issue 14 §1 and §2 in the dashboard, end to end: the built server on a fresh PostgreSQL database,
 * runs sent through the real API and analysed by the server's worker, and Debian's Chromium showing
 * a test failing only on a feature branch (badge, branch, filters, overview count) and a removed
 * test leaving the lists (inactive filter, overview count, its page's notice).
 */
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from '@playwright/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase, type TestDatabase } from '../../server/test/helpers/db.js';
import { startServer, type ServerProcess } from '../../server/test/helpers/server-process.js';

const SHOTS = fileURLToPath(new URL('../../test-results/screenshots/', import.meta.url));
const ADMIN_TOKEN = 'e2e-branch-admin-token-0123456789abcd';
const ADMIN_EMAIL = 'admin@example.com';
const ADMIN_PASSWORD = 'correct-horse-battery';

type Result = 'pass' | 'fail';

describe('failing on a branch, and inactive tests, on the dashboard', () => {
	let db: TestDatabase;
	let server: ServerProcess;
	let browser: Browser;
	let pipeline = 500;

	const call = async (token: string, method: string, path: string, body?: unknown) => {
		const res = await fetch(`${server.url}/api/v1${path}`, {
			method,
			headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
			...(body === undefined ? {} : { body: JSON.stringify(body) })
		});
		expect(res.status, `${method} ${path}`).toBeLessThan(300);
		return (await res.json()) as Record<string, unknown>;
	};

	/** One job of a new pipeline on `branch`, with these outcomes. */
	async function sendRun(token: string, branch: string, tests: Record<string, Result>): Promise<void> {
		const n = pipeline++;
		const startedAt = new Date(Date.now() - (700 - n) * 600_000).toISOString();
		const ci = { provider: 'gitlab', branch, defaultBranch: 'main', commitSha: (0xbee000 + n).toString(16).padStart(40, '0'), pipelineId: `${n}`, jobId: `${n}`, jobName: 'e2e', ...(branch === 'main' ? {} : { mrIid: 42 }) };
		const { runId } = (await call(token, 'POST', '/runs', { ci, startedAt })) as { runId: string };
		const results = Object.entries(tests).map(([title, r]) => ({
			file: 'account.spec.ts',
			titlePath: ['account', title],
			projectName: 'chromium',
			outcome: r === 'pass' ? 'expected' : 'unexpected',
			expectedStatus: 'passed',
			status: r === 'pass' ? 'passed' : 'failed',
			attempts: 1,
			failedAttempts: r === 'pass' ? 0 : 1,
			durationMs: 900,
			startedAt,
			...(r === 'fail' ? { error: { message: 'expect(locator).toBeVisible() failed' } } : {})
		}));
		await call(token, 'POST', `/runs/${runId}/results`, { results });
		await call(token, 'POST', `/runs/${runId}/complete`, { status: r(tests) });
	}
	const r = (tests: Record<string, Result>) => (Object.values(tests).includes('fail') ? 'failed' : 'passed');

	async function signedIn(path: string): Promise<Page> {
		const context = await browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 900 } });
		const page = await context.newPage();
		await page.goto(path);
		await page.getByLabel('E-mail').fill(ADMIN_EMAIL);
		await page.getByLabel('Password').fill(ADMIN_PASSWORD);
		await page.getByRole('button', { name: 'Sign in' }).click();
		await expect.poll(() => new URL(page.url()).pathname).toBe(path.split('?')[0]);
		return page;
	}

	beforeAll(async () => {
		await mkdir(SHOTS, { recursive: true });
		db = await createPostgresDatabase();
		server = await startServer({ DATABASE_URL: db.url, ADMIN_TOKEN, ADMIN_EMAIL, ADMIN_PASSWORD, DEMO: 'false', RATE_LIMIT_LOGIN: '100', RATE_LIMIT_RUNS: '1000' });
		const { token, project } = (await call(ADMIN_TOKEN, 'POST', '/admin/projects', { slug: 'account', name: 'Account' })) as { token: string; project: { id: string } };
		await call(ADMIN_TOKEN, 'PUT', `/projects/${project.id}/settings`, { analysis: { inactiveAfterPipelines: 2 } });
		for (let i = 0; i < 6; i++) await sendRun(token as string, 'main', { 'signs in': 'pass', 'resets the password': 'pass', 'exports the data': 'pass' });
		// "exports the data" was removed: two complete default-branch pipelines without it.
		for (let i = 0; i < 2; i++) await sendRun(token as string, 'main', { 'signs in': 'pass', 'resets the password': 'pass' });
		// A merge request breaks "signs in" on its branch.
		for (let i = 0; i < 2; i++) await sendRun(token as string, 'feature/sso', { 'signs in': 'fail', 'resets the password': 'pass' });
		// The server's own worker analyses the finished runs; wait for both verdicts.
		const deadline = Date.now() + 60_000;
		for (;;) {
			const stats = await call(ADMIN_TOKEN, 'GET', '/projects/account/stats');
			if (stats.failing === 1 && stats.inactive === 1) break;
			if (Date.now() > deadline) throw new Error(`the analysis did not get there: ${JSON.stringify(stats)}`);
			await new Promise((res) => setTimeout(res, 500));
		}
		browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
	}, 180_000);

	afterAll(async () => {
		await browser?.close();
		await server?.stop();
		await db?.destroy();
	});

	it('lists the branch-only failure by default with its badge and branch, and finds it by branch', async () => {
		const page = await signedIn('/projects/account/tests');
		await expect.poll(() => page.getByTestId('test-link').allTextContents()).toEqual(['signs in']);
		const row = page.getByTestId('test-row');
		const badge = row.locator('[data-state]');
		expect(await badge.getAttribute('data-state')).toBe('failing');
		expect(await badge.textContent()).toBe('failing');
		expect(await badge.getAttribute('title')).toMatch(/never been seen failing on the default branch/);
		expect(await row.getByTestId('failing-branches').textContent()).toContain('on feature/sso');
		await page.screenshot({ path: `${SHOTS}tests-failing-branch.png`, fullPage: true });

		await page.goto('/projects/account/tests?branch=feature/sso&state=failing');
		await expect.poll(() => page.getByTestId('test-link').allTextContents()).toEqual(['signs in']);
		await page.goto('/projects/account/tests?state=flaky');
		await expect.poll(() => page.getByTestId('empty').isVisible()).toBe(true);

		await page.goto('/projects/account/tests?state=all');
		await page.getByTestId('test-link').filter({ hasText: 'signs in' }).click();
		await expect.poll(() => page.getByTestId('test-title').textContent()).toBe('signs in');
		expect(await page.getByTestId('verdict').locator('.headline').textContent()).toBe('failing on feature/sso, never seen failing on the default branch');
		await page.context().close();
	});

	it('counts it apart on the overview, and the removed test as inactive', async () => {
		const page = await signedIn('/projects/account');
		await expect.poll(() => page.getByTestId('failing-count').textContent()).toBe('1 failing on branches');
		expect(await page.getByTestId('card-flaky').locator('.value').textContent()).toBe('0');
		expect(await page.getByTestId('inactive-count').textContent()).toBe('1 inactive');
		await page.screenshot({ path: `${SHOTS}overview-failing-inactive.png`, fullPage: true });

		await page.getByTestId('inactive-count').click();
		await expect.poll(() => page.getByTestId('test-link').allTextContents()).toEqual(['exports the data']);
		expect(await page.getByTestId('inactive-since').textContent()).toMatch(/^inactive since /);
		await page.getByTestId('test-link').click();
		await expect.poll(() => page.getByTestId('test-title').textContent()).toBe('exports the data');
		expect(await page.getByTestId('inactive').textContent()).toMatch(/^inactive since .+ \(not in the last 2 complete default-branch pipelines\)/);
		await page.screenshot({ path: `${SHOTS}test-inactive.png`, fullPage: true });

		// Active tests only by default: the search finds it with "Active and inactive".
		await page.goto('/projects/account/tests?state=all&q=exports');
		await expect.poll(() => page.getByTestId('empty').isVisible()).toBe(true);
		await page.goto('/projects/account/tests?state=all&q=exports&activity=all');
		await expect.poll(() => page.getByTestId('test-link').allTextContents()).toEqual(['exports the data']);
		await page.context().close();
	});
});
