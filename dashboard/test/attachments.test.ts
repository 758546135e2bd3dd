/**
 * Links to what Playwright left behind, end to end: the built server on a fresh PostgreSQL
 * database, two runs of a failing test sent through the real API (one from a GitLab job, one from
 * a machine without a job URL), and Debian's Chromium showing the run and test pages.
 */
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from '@playwright/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase, type TestDatabase } from '../../server/test/helpers/db.js';
import { startServer, type ServerProcess } from '../../server/test/helpers/server-process.js';

const SHOTS = fileURLToPath(new URL('../../test-results/screenshots/', import.meta.url));
const ADMIN_TOKEN = 'e2e-attachments-admin-token-0123456789';
const ADMIN_EMAIL = 'admin@example.com';
const ADMIN_PASSWORD = 'correct-horse-battery';
const JOB_URL = 'https://gitlab.example.com/shop/web/-/jobs/4242';
const DIR = 'e2e/test-results/cart-shows-the-total-chromium';

const attachments = [
	{ name: 'screenshot', contentType: 'image/png', path: `${DIR}/test-failed-1.png`, attempt: 0 },
	{ name: 'trace', contentType: 'application/zip', path: `${DIR}/trace.zip`, attempt: 0 },
	{ name: 'trace', contentType: 'application/zip', path: `${DIR}-retry1/trace.zip`, attempt: 1 }
];

describe('attachments on the run and test pages', () => {
	let db: TestDatabase;
	let server: ServerProcess;
	let browser: Browser;
	let gitlabRun: string;
	let localRun: string;

	const send = async (token: string, method: string, path: string, body: unknown) => {
		const res = await fetch(`${server.url}/api/v1${path}`, {
			method,
			headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
			body: JSON.stringify(body)
		});
		expect(res.status, `${method} ${path}`).toBeLessThan(300);
		return (await res.json()) as Record<string, unknown>;
	};

	async function sendRun(token: string, ci: Record<string, unknown>, startedAt: string): Promise<string> {
		const { runId } = (await send(token, 'POST', '/runs', { ci, startedAt })) as { runId: string };
		await send(token, 'POST', `/runs/${runId}/results`, {
			results: [
				{
					file: 'cart.spec.ts',
					titlePath: ['cart', 'shows the total'],
					projectName: 'chromium',
					outcome: 'unexpected',
					expectedStatus: 'passed',
					status: 'failed',
					attempts: 2,
					failedAttempts: 2,
					durationMs: 3000,
					startedAt,
					error: { message: 'Error: expect(received).toBe(expected)' },
					attachments
				}
			]
		});
		await send(token, 'POST', `/runs/${runId}/complete`, { status: 'failed' });
		return runId;
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

	beforeAll(async () => {
		await mkdir(SHOTS, { recursive: true });
		db = await createPostgresDatabase();
		server = await startServer({ DATABASE_URL: db.url, ADMIN_TOKEN, ADMIN_EMAIL, ADMIN_PASSWORD, DEMO: 'false', RATE_LIMIT_LOGIN: '100' });
		const { token } = (await send(ADMIN_TOKEN, 'POST', '/admin/projects', { slug: 'shop', name: 'Web shop' })) as { token: string };
		gitlabRun = await sendRun(token, { provider: 'gitlab', branch: 'main', jobId: '4242', jobName: 'e2e', jobUrl: JOB_URL }, '2026-11-29T10:00:00Z');
		localRun = await sendRun(token, { provider: 'local', branch: 'main' }, '2026-11-28T10:00:00Z');
		browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
	});

	afterAll(async () => {
		await browser?.close();
		await server?.stop();
		await db?.destroy();
	});

	it('links each file to the GitLab job’s artifacts, to browse and to download, with the command that opens the trace', async () => {
		const page = await signedIn(`/runs/${gitlabRun}`);
		const files = page.getByTestId('attachments');
		await expect.poll(() => files.count()).toBe(1);
		const screenshot = files.getByRole('link', { name: 'screenshot', exact: true });
		expect(await screenshot.getAttribute('href')).toBe(`${JOB_URL}/artifacts/file/${DIR}/test-failed-1.png`);
		expect(await files.getByRole('link', { name: 'download screenshot' }).getAttribute('href')).toBe(`${JOB_URL}/artifacts/raw/${DIR}/test-failed-1.png`);
		const traces = files.getByRole('link', { name: 'trace', exact: true });
		expect(await traces.count()).toBe(2);
		expect(await traces.nth(1).getAttribute('href')).toBe(`${JOB_URL}/artifacts/file/${DIR}-retry1/trace.zip`);
		expect(await files.textContent()).toContain('(retry 1)');
		// The last failed attempt's trace, to open once the artifacts are downloaded.
		expect(await files.getByTestId('show-trace').textContent()).toBe(`npx playwright show-trace ${DIR}-retry1/trace.zip`);
		expect(await files.textContent()).toContain('after downloading the job’s artifacts');
		await page.screenshot({ path: `${SHOTS}run-attachments.png`, fullPage: true });
		await page.context().close();
	});

	it('shows the paths alone for a run without a job URL, and both runs on the test’s page', async () => {
		const page = await signedIn(`/runs/${localRun}`);
		const files = page.getByTestId('attachments');
		await expect.poll(() => files.count()).toBe(1);
		expect(await files.getByRole('link').count()).toBe(0);
		expect(await files.textContent()).toContain(`${DIR}/test-failed-1.png`);
		expect(await files.getByTestId('show-trace').textContent()).toBe(`npx playwright show-trace ${DIR}-retry1/trace.zip`);

		await page.getByRole('link', { name: 'shows the total' }).click();
		await expect.poll(() => page.getByTestId('test-title').textContent()).toBe('shows the total');
		const rows = page.getByTestId('runs-table').getByTestId('attachments');
		await expect.poll(() => rows.count()).toBe(2);
		// Newest first: the GitLab run with links, then the local one with paths.
		expect(await rows.nth(0).getByRole('link', { name: 'screenshot', exact: true }).getAttribute('href')).toBe(
			`${JOB_URL}/artifacts/file/${DIR}/test-failed-1.png`
		);
		expect(await rows.nth(1).getByRole('link').count()).toBe(0);
		await page.screenshot({ path: `${SHOTS}test-attachments.png`, fullPage: true });
		await page.context().close();
	});
});
