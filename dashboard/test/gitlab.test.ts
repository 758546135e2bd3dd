/**
 * The GitLab panel of a project's settings, end to end: the built server on a fresh PostgreSQL
 * database, a fake GitLab on loopback, Debian's Chromium driven by Playwright.
 */
import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from '@playwright/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase, type TestDatabase } from '../../server/test/helpers/db.js';
import { ACCESS, FakeGitlab } from '../../server/test/helpers/fake-gitlab.js';
import { startServer, type ServerProcess } from '../../server/test/helpers/server-process.js';

const SHOTS = fileURLToPath(new URL('../../test-results/screenshots/', import.meta.url));
const ADMIN_TOKEN = 'e2e-gitlab-admin-token-0123456789abcdef';
const ADMIN_EMAIL = 'admin@example.com';
const ADMIN_PASSWORD = 'correct-horse-battery';
const GITLAB_TOKEN = 'glpat-DashboardPanelToken-0123456789';

describe('the GitLab panel in a project’s settings', () => {
	let db: TestDatabase;
	let server: ServerProcess;
	let browser: Browser;
	let gl: FakeGitlab;
	let ingestToken: string;

	const api = async (method: string, path: string, body?: unknown) => {
		const headers: Record<string, string> = { authorization: `Bearer ${ADMIN_TOKEN}` };
		if (body !== undefined) headers['content-type'] = 'application/json';
		const res = await fetch(`${server.url}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
		return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, unknown> | null };
	};

	/** The project's settings page, signed in as the admin. */
	async function settingsPage(baseURL: string) {
		const context = await browser.newContext({ baseURL, viewport: { width: 1280, height: 900 } });
		const page = await context.newPage();
		await page.goto('/projects/shop/settings');
		await page.getByLabel('E-mail').fill(ADMIN_EMAIL);
		await page.getByLabel('Password').fill(ADMIN_PASSWORD);
		await page.getByRole('button', { name: 'Sign in' }).click();
		return { context, page };
	}

	beforeAll(async () => {
		await mkdir(SHOTS, { recursive: true });
		gl = await new FakeGitlab().start();
		gl.addProject({ id: 12, path: 'shop/web', name: 'Web shop', mergeRequests: [3] });
		gl.addToken(GITLAB_TOKEN, { scopes: ['api'], access: { 12: ACCESS.maintainer } });
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
			GITLAB_POLL_MS: '100'
		});
		const created = await api('POST', '/admin/projects', { slug: 'shop', name: 'Web shop' });
		expect(created.status).toBe(201);
		ingestToken = created.body!.token as string;
		browser = await chromium.launch({
			executablePath: '/usr/bin/chromium',
			args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']
		});
	});

	afterAll(async () => {
		await browser?.close();
		await server?.stop();
		await db?.destroy();
		await gl?.close();
	});

	it('connects, explains a bad URL, tests the connection and removes it, never showing the token', async () => {
		const { context, page } = await settingsPage(server.url);
		const panel = page.getByTestId('gitlab');
		await expect.poll(() => panel.getByRole('button', { name: 'Connect' }).count()).toBe(1);
		expect(await panel.getByLabel('Merge request notes').isChecked()).toBe(true);

		// The browser's own check lets no non-URL through; a URL the API refuses comes back in words, the input kept.
		await panel.getByLabel('GitLab URL').fill('ftp://gitlab.example.com');
		await panel.getByLabel('Access token').fill(GITLAB_TOKEN);
		await panel.getByLabel('GitLab project').fill('shop/web');
		await panel.getByLabel('Commit status').uncheck();
		await panel.getByRole('button', { name: 'Connect' }).click();
		await expect.poll(() => panel.getByRole('alert').textContent()).toMatch(/^GitLab URL: must be the http/);
		expect(await panel.getByLabel('GitLab project').inputValue()).toBe('shop/web');
		expect(await panel.getByLabel('Commit status').isChecked()).toBe(false);
		expect((await api('GET', '/projects/shop/integrations/gitlab')).status).toBe(404);

		await panel.getByLabel('GitLab URL').fill(gl.url);
		await panel.getByLabel('Access token').fill(GITLAB_TOKEN);
		await panel.getByRole('button', { name: 'Connect' }).click();
		await expect.poll(() => panel.getByRole('status').first().textContent()).toContain('GitLab connection saved');
		expect((await api('GET', '/projects/shop/integrations/gitlab')).body).toMatchObject({ url: gl.url, gitlabProject: 'shop/web', mrNotes: true, commitStatus: false });
		expect(await panel.getByLabel('Access token').inputValue()).toBe('');
		expect(await panel.getByLabel('Access token').getAttribute('placeholder')).toBe('stored: leave empty to keep it');

		await panel.getByTestId('gitlab-test').click();
		await expect.poll(() => panel.getByTestId('gitlab-check').textContent()).toContain('Connected to GitLab: project "Web shop" (shop/web), the token has Maintainer access.');
		await page.screenshot({ path: `${SHOTS}settings-gitlab.png`, fullPage: true });
		expect(gl.requests.some((r) => r.token === GITLAB_TOKEN && r.path === '/api/v4/projects/shop%2Fweb')).toBe(true);

		await page.reload();
		expect(await panel.getByLabel('Access token').inputValue()).toBe('');
		expect(await page.content()).not.toContain(GITLAB_TOKEN.slice(6));
		await expect.poll(() => panel.getByTestId('gitlab-check').textContent()).toContain('Connected to GitLab');

		await panel.getByRole('button', { name: 'Remove' }).click();
		await expect.poll(() => panel.getByRole('status').first().textContent()).toContain('GitLab connection removed');
		expect((await api('GET', '/projects/shop/integrations/gitlab')).status).toBe(404);
		await context.close();
	});

	it('shows a failed read of the connection as an error, never as "not connected"', async () => {
		expect((await api('PUT', '/projects/shop/integrations/gitlab', { url: gl.url, token: GITLAB_TOKEN })).status).toBe(200);
		// A loopback stand-in for the API that fails only the GitLab connection's GET, as a broken database row once did.
		const proxy: Server = createServer((req, res) => {
			const chunks: Buffer[] = [];
			req.on('data', (c: Buffer) => chunks.push(c));
			req.on('end', () => {
				if (req.method === 'GET' && req.url?.endsWith('/integrations/gitlab')) {
					res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ statusCode: 500, message: 'Something went wrong on our side' }));
					return;
				}
				const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'content-length'].includes(k))) as Record<string, string>;
				const body = chunks.length ? Buffer.concat(chunks) : undefined;
				fetch(`${server.url}${req.url}`, { method: req.method, headers, body, redirect: 'manual' })
					.then(async (r) => res.writeHead(r.status, Object.fromEntries([...r.headers].filter(([k]) => k !== 'content-encoding' && k !== 'content-length'))).end(Buffer.from(await r.arrayBuffer())))
					.catch(() => res.writeHead(502).end());
			});
		});
		await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
		const front = await startServer({
			DATABASE_URL: db.url,
			ADMIN_TOKEN,
			DEMO: 'false',
			API_URL: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
		});
		try {
			const { context, page } = await settingsPage(front.url);
			await expect.poll(() => page.content(), { timeout: 15_000 }).toContain('could not answer the GitLab connection');
			expect(await page.getByTestId('gitlab').getByRole('button', { name: 'Connect' }).count()).toBe(0);
			await context.close();
		} finally {
			await front.stop();
			await new Promise((resolve) => proxy.close(resolve));
		}
		expect((await api('DELETE', '/projects/shop/integrations/gitlab')).status).toBe(204);
	});

	it('shows a report GitLab refused, and sends it again once the token is fixed', async () => {
		expect((await api('PUT', '/projects/shop/integrations/gitlab', { url: gl.url, token: GITLAB_TOKEN, gitlabProject: 'shop/web', mrNotes: true, commitStatus: true })).status).toBe(200);
		gl.fault({ status: 401, path: /\/statuses\// });
		const ingest = async (path: string, body: unknown) => {
			const res = await fetch(`${server.url}/api/v1${path}`, { method: 'POST', headers: { authorization: `Bearer ${ingestToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
			expect(res.status).toBeLessThan(300);
			return (await res.json()) as { runId: string };
		};
		const ci = { provider: 'gitlab', branch: 'feature/z', commitSha: 'abc1234def567890', pipelineId: '77', jobId: '770', jobName: 'e2e', mrIid: 3, projectPath: 'shop/web' };
		const { runId } = await ingest('/runs', { ci });
		const at = new Date().toISOString();
		await ingest(`/runs/${runId}/results`, {
			results: [
				{ file: 'cart.spec.ts', titlePath: ['cart', 'adds an item'], outcome: 'expected', expectedStatus: 'passed', status: 'passed', attempts: 1, failedAttempts: 0, durationMs: 800, startedAt: at },
				{ file: 'cart.spec.ts', titlePath: ['cart', 'pays'], outcome: 'unexpected', expectedStatus: 'passed', status: 'failed', attempts: 1, failedAttempts: 1, durationMs: 900, startedAt: at, error: { message: 'Error: card declined' } }
			]
		});
		await ingest(`/runs/${runId}/complete`, { status: 'failed' });
		await expect.poll(async () => ((await api('GET', '/projects/shop/integrations/gitlab')).body!.reports as { failed: number }).failed, { timeout: 20_000 }).toBe(1);

		const { context, page } = await settingsPage(server.url);
		const reports = page.getByTestId('gitlab-reports');
		await expect.poll(() => reports.getByRole('alert').textContent()).toMatch(/1 report given up\. Last failure \(pipeline 77,\s+just now\): GitLab refused the token \(401/);
		await reports.scrollIntoViewIfNeeded();
		await page.screenshot({ path: `${SHOTS}settings-gitlab-reports-failed.png`, fullPage: true });
		await reports.getByTestId('gitlab-retry').click();
		await expect.poll(() => page.getByTestId('gitlab').getByRole('status').first().textContent()).toContain('1 report will be sent again in a moment.');
		await expect.poll(async () => gl.notes.length, { timeout: 20_000 }).toBe(1);
		await page.reload();
		await expect.poll(() => reports.textContent()).toMatch(/Last written\s+[\w ]+ for pipeline 77: status failed on abc1234d; note written on !3\./);
		expect(await reports.getByRole('alert').count()).toBe(0);
		await page.screenshot({ path: `${SHOTS}settings-gitlab-reports.png`, fullPage: true });
		expect(gl.notes[0]!.body).toContain('1 new failure');
		await context.close();
	});
});
