/**
 * The Notifications panel of a project's settings, end to end: the built server on a fresh
 * PostgreSQL database, a webhook receiver on loopback, Debian's Chromium driven by Playwright.
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from '@playwright/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase, type TestDatabase } from '../../server/test/helpers/db.js';
import { startServer, type ServerProcess } from '../../server/test/helpers/server-process.js';

const SHOTS = fileURLToPath(new URL('../../test-results/screenshots/', import.meta.url));
const ADMIN_TOKEN = 'e2e-notify-admin-token-0123456789abcdef';
const ADMIN_EMAIL = 'admin@example.com';
const ADMIN_PASSWORD = 'correct-horse-battery';
const SECRET = `whsec-${randomBytes(12).toString('hex')}`;

describe('the Notifications panel in a project’s settings', () => {
	let db: TestDatabase;
	let server: ServerProcess;
	let browser: Browser;
	let receiver: Server;
	let hookUrl: string;
	let failing = true;
	const got: Array<{ headers: IncomingHttpHeaders; body: { event: string } }> = [];

	const api = async (method: string, path: string, body?: unknown, token = ADMIN_TOKEN) => {
		const headers: Record<string, string> = { authorization: `Bearer ${token}` };
		if (body !== undefined) headers['content-type'] = 'application/json';
		const res = await fetch(`${server.url}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
		// eslint-disable-next-line @typescript-eslint/no-explicit-any
		return { status: res.status, body: (await res.json().catch(() => null)) as any };
	};

	beforeAll(async () => {
		await mkdir(SHOTS, { recursive: true });
		receiver = createServer((req, res) => {
			const chunks: Buffer[] = [];
			req.on('data', (c: Buffer) => chunks.push(c));
			req.on('end', () => {
				got.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
				res.writeHead(failing ? 503 : 200, { 'content-type': 'text/plain' }).end(failing ? 'down for maintenance' : 'ok');
			});
		});
		await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
		hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/${randomBytes(10).toString('hex')}`;
		db = await createPostgresDatabase();
		server = await startServer({
			DATABASE_URL: db.url,
			ADMIN_TOKEN,
			ADMIN_EMAIL,
			ADMIN_PASSWORD,
			DEMO: 'false',
			RATE_LIMIT_LOGIN: '100',
			RATE_LIMIT_ADMIN: '1000',
			ANALYSIS_POLL_MS: '100',
			// Long enough that the failed delivery waits for the Re-send button.
			WEBHOOK_RETRY_BASE_MS: '600000'
		});
		expect((await api('POST', '/admin/projects', { slug: 'shop', name: 'Web shop' })).status).toBe(201);
		browser = await chromium.launch({
			executablePath: '/usr/bin/chromium',
			args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']
		});
	});

	afterAll(async () => {
		await browser?.close();
		await server?.stop();
		await db?.destroy();
		await new Promise((r) => receiver?.close(r));
	});

	it('adds a webhook, shows a failed delivery in its log, re-sends it and deletes the webhook, never showing the URL or secret', async () => {
		const context = await browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 900 } });
		const page = await context.newPage();
		await page.goto('/projects/shop/settings');
		await page.getByLabel('E-mail').fill(ADMIN_EMAIL);
		await page.getByLabel('Password').fill(ADMIN_PASSWORD);
		await page.getByRole('button', { name: 'Sign in' }).click();
		const panel = page.getByTestId('notifications');
		await expect.poll(() => panel.getByRole('button', { name: 'Add webhook' }).count()).toBe(1);
		// The secret field follows the kind once the page's script runs: wait for it.
		await page.waitForLoadState('networkidle');

		// A URL the API refuses comes back in words.
		await panel.getByLabel('Kind').selectOption('generic');
		await panel.getByLabel('Webhook URL').fill('ftp://hooks.example.com/x');
		await panel.getByRole('button', { name: 'Add webhook' }).click();
		await expect.poll(() => panel.getByRole('alert').textContent()).toMatch(/^Webhook URL: must be an http/);

		await panel.getByLabel('Kind').selectOption('generic');
		await panel.getByLabel('Webhook URL').fill(hookUrl);
		await panel.getByLabel('Signing secret').fill(SECRET);
		await panel.getByLabel('Quarantined').check();
		await panel.getByRole('button', { name: 'Add webhook' }).click();
		await expect.poll(() => panel.getByRole('status').first().textContent()).toContain('Webhook to 127.0.0.1:');
		const hooks = (await api('GET', '/projects/shop/webhooks')).body.webhooks;
		expect(hooks).toMatchObject([{ kind: 'generic', events: ['flaky', 'broken', 'fixed', 'quarantined'], secretSet: true }]);

		// A test, quarantined: the receiver is told, answers 503, and the log says so.
		const { token } = (await api('POST', '/admin/projects/shop/rotate-token')).body;
		const ci = { provider: 'gitlab', branch: 'main', commitSha: 'abc1234def567890', pipelineId: '7', jobId: '70', jobName: 'e2e' };
		const run = await api('POST', '/runs', { ci }, token);
		const at = new Date().toISOString();
		await api('POST', `/runs/${run.body.runId}/results`, { results: [{ file: 'cart.spec.ts', titlePath: ['cart', 'pays'], outcome: 'expected', expectedStatus: 'passed', status: 'passed', attempts: 1, failedAttempts: 0, durationMs: 800, startedAt: at }] }, token);
		await api('POST', `/runs/${run.body.runId}/complete`, { status: 'passed' }, token);
		const analysed = async () => (await api('GET', '/projects/shop/flaky-tests?state=healthy')).body?.items?.[0]?.testId as string | undefined;
		await expect.poll(analysed, { timeout: 15_000 }).toBeTruthy();
		const testId = (await analysed())!;
		expect((await api('POST', `/tests/${testId}/quarantine`, { reason: 'card provider outage' })).status).toBe(201);
		await expect.poll(() => got.length, { timeout: 15_000 }).toBe(1);
		expect(got[0]!.body.event).toBe('quarantined');

		await page.reload();
		const log = panel.getByTestId('webhook-deliveries');
		await expect.poll(() => log.textContent()).toMatch(/Quarantined\s*retrying .*1\s*127\.0\.0\.1:\d+ answered 503: down for maintenance/);
		await page.screenshot({ path: `${SHOTS}settings-notifications.png`, fullPage: true });
		const html = await page.content();
		expect(html).not.toContain(new URL(hookUrl).pathname);
		expect(html).not.toContain(SECRET);

		failing = false;
		await log.getByRole('button', { name: 'Re-send' }).click();
		await expect.poll(() => panel.getByRole('status').first().textContent()).toContain('sent again in a moment');
		await expect.poll(() => got.length, { timeout: 15_000 }).toBe(2);
		expect(got[1]!.headers['x-flackyness-delivery']).toBe(got[0]!.headers['x-flackyness-delivery']);
		await page.reload();
		await expect.poll(() => log.textContent()).toMatch(/Quarantined\s*sent \(200\)\s*1/);

		await panel.getByTestId('webhook').getByRole('button', { name: 'Delete' }).click();
		await expect.poll(() => panel.getByRole('status').first().textContent()).toContain('Webhook deleted');
		expect((await api('GET', '/projects/shop/webhooks')).body.webhooks).toEqual([]);
		await context.close();
	}, 90_000);
});
