/**
 * The pipelines page, the slowest-tests page and the overview of a project without recent runs, end
 * to end: the built server on a fresh PostgreSQL database, a sharded CI history sent through the
 * real API as the reporter sends it, and Debian's Chromium.
 */
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from '@playwright/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase, type TestDatabase } from '../../server/test/helpers/db.js';
import { startServer, type ServerProcess } from '../../server/test/helpers/server-process.js';

const SHOTS = fileURLToPath(new URL('../../test-results/screenshots/', import.meta.url));
const ADMIN_TOKEN = 'e2e-views-admin-token-0123456789abcdef';
const ADMIN_EMAIL = 'admin@example.com';
const ADMIN_PASSWORD = 'correct-horse-battery';
const GITLAB = 'https://gitlab.example.com/shop/web';
const HOUR = 3600_000;
const DAY = 24 * HOUR;

interface Spec {
	file: string;
	title: string;
	shard: 1 | 2 | 3;
	ms: number;
}

/** A web shop's suite: three shards, the third the heaviest. */
const SPECS: Spec[] = [
	{ file: 'checkout.spec.ts', title: 'pays with a saved card', shard: 1, ms: 6200 },
	{ file: 'checkout.spec.ts', title: 'applies a coupon', shard: 1, ms: 2100 },
	{ file: 'cart.spec.ts', title: 'shows the total with taxes', shard: 1, ms: 1400 },
	{ file: 'cart.spec.ts', title: 'removes an item', shard: 1, ms: 900 },
	{ file: 'search.spec.ts', title: 'filters by price', shard: 2, ms: 1200 },
	{ file: 'search.spec.ts', title: 'finds products by name', shard: 2, ms: 800 },
	{ file: 'login.spec.ts', title: 'remembers the user', shard: 2, ms: 2600 },
	{ file: 'account.spec.ts', title: 'changes the address', shard: 2, ms: 1900 },
	{ file: 'admin.spec.ts', title: 'exports orders as CSV', shard: 3, ms: 14_500 },
	{ file: 'admin.spec.ts', title: 'imports a catalogue', shard: 3, ms: 9800 },
	{ file: 'orders.spec.ts', title: 'lists past orders', shard: 3, ms: 3100 },
	{ file: 'orders.spec.ts', title: 'downloads an invoice', shard: 3, ms: 4400 }
];
const SLOWED = 'filters by price';
const PIPELINES = 40;

describe('pipelines, slowest tests and an empty overview in the dashboard', () => {
	let db: TestDatabase;
	let server: ServerProcess;
	let browser: Browser;

	const send = async (token: string, method: string, path: string, body?: unknown) => {
		const res = await fetch(`${server.url}/api/v1${path}`, {
			method,
			headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
			body: body === undefined ? undefined : JSON.stringify(body)
		});
		expect(res.status, `${method} ${path}`).toBeLessThan(300);
		return (await res.json()) as Record<string, unknown>;
	};

	/** A deterministic jitter in [0, 1). */
	const jitter = (a: number, b: number) => ((a * 7919 + b * 104_729) % 1000) / 1000;

	async function sendJob(token: string, p: number, shard: 1 | 2 | 3, at: number, opts: { branch?: string; mrIid?: number; jobId: string; fail?: boolean; running?: boolean; flakyTest?: boolean }) {
		const pipelineId = String(8100 + p);
		const ci = {
			provider: 'gitlab',
			branch: opts.branch ?? 'main',
			defaultBranch: 'main',
			commitSha: createHash('sha1').update(`commit ${p}`).digest('hex'),
			commitTitle: opts.branch ? 'Wishlist: save items for later' : `Release train ${p}: ${['tidy the cart', 'faster search', 'new invoice layout', 'fix coupon rounding'][p % 4]}`,
			commitAuthor: 'Dana Developer',
			pipelineId,
			pipelineIid: String(300 + p),
			pipelineUrl: `${GITLAB}/-/pipelines/${pipelineId}`,
			jobId: opts.jobId,
			jobName: `e2e ${shard}/3`,
			jobUrl: `${GITLAB}/-/jobs/${opts.jobId}`,
			shardIndex: shard,
			shardTotal: 3,
			...(opts.mrIid ? { mrIid: opts.mrIid, mrSourceBranch: opts.branch, mrTargetBranch: 'main' } : {})
		};
		const { runId } = (await send(token, 'POST', '/runs', { ci, startedAt: new Date(at).toISOString() })) as { runId: string };
		let offset = 0;
		const results = SPECS.filter((s) => s.shard === shard).map((s, i) => {
			const slowed = s.title === SLOWED && at > Date.now() - 7 * DAY;
			const ms = Math.round((slowed ? s.ms * 2.2 : s.ms) * (0.85 + 0.3 * jitter(p, i + shard * 10)));
			const failed = opts.fail && i === 0;
			const flaky = opts.flakyTest && i === 1;
			const startedAt = new Date(at + offset).toISOString();
			offset += Math.round(ms / 2);
			return {
				file: s.file,
				titlePath: [s.file.replace('.spec.ts', ''), s.title],
				projectName: 'chromium',
				tags: [],
				outcome: failed ? 'unexpected' : flaky ? 'flaky' : 'expected',
				expectedStatus: 'passed',
				status: failed ? 'failed' : 'passed',
				attempts: failed || flaky ? 2 : 1,
				failedAttempts: failed ? 2 : flaky ? 1 : 0,
				durationMs: failed ? 30_000 : flaky ? ms * 2 : ms,
				startedAt,
				annotations: [],
				...(failed || flaky ? { error: { message: 'TimeoutError: locator.click: Timeout 15000ms exceeded.' } } : {})
			};
		});
		await send(token, 'POST', `/runs/${runId}/results`, { results });
		if (!opts.running) {
			const sum = results.reduce((a, r) => a + r.durationMs, 0);
			await send(token, 'POST', `/runs/${runId}/complete`, { status: opts.fail ? 'failed' : 'passed', durationMs: Math.round(sum / 2 + 8000) });
		}
		return runId;
	}

	async function signedIn(path: string, viewport = { width: 1360, height: 900 }): Promise<Page> {
		const context = await browser.newContext({ baseURL: server.url, viewport });
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
		server = await startServer({ DATABASE_URL: db.url, ADMIN_TOKEN, ADMIN_EMAIL, ADMIN_PASSWORD, DEMO: 'false', RATE_LIMIT_LOGIN: '100', RATE_LIMIT_RUNS: '10000' });
		const { token } = (await send(ADMIN_TOKEN, 'POST', '/admin/projects', { slug: 'shop', name: 'Web shop' })) as { token: string };
		// 40 pipelines of main over 14 days, three shards each; now and then a flaky test, a failure
		// fixed by running the job again, or a failure that stays.
		for (let p = 0; p < PIPELINES; p++) {
			const at = Date.now() - 14 * DAY + p * 8 * HOUR;
			for (const shard of [1, 2, 3] as const) {
				const jobId = String(70_000 + p * 10 + shard);
				const retried = p % 9 === 4 && shard === 3;
				const failsForGood = p === PIPELINES - 3 && shard === 1;
				await sendJob(token, p, shard, at + shard * 20_000, { jobId, fail: retried || failsForGood, flakyTest: p % 5 === 2 && shard === 2 });
				if (retried) await sendJob(token, p, shard, at + 15 * 60_000, { jobId: String(70_000 + p * 10 + 9) });
			}
		}
		// A merge request pipeline whose third shard never reported, and one still running.
		const mr = Date.now() - 3 * HOUR;
		await sendJob(token, PIPELINES, 1, mr, { branch: 'feature/wishlist', mrIid: 42, jobId: '79001' });
		await sendJob(token, PIPELINES, 2, mr, { branch: 'feature/wishlist', mrIid: 42, jobId: '79002' });
		await sendJob(token, PIPELINES + 1, 1, Date.now() - 10 * 60_000, { jobId: '79101', running: true });

		// A project whose only runs are 40 days old: the overview has no data in its 30-day window.
		const quiet = (await send(ADMIN_TOKEN, 'POST', '/admin/projects', { slug: 'quiet', name: 'Legacy app' })) as { token: string };
		for (let p = 0; p < 3; p++) await sendJob(quiet.token, 900 + p, 1, Date.now() - (40 + p) * DAY, { jobId: String(99_000 + p) });
		browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
	}, 300_000);

	afterAll(async () => {
		await browser?.close();
		await server?.stop();
		await db?.destroy();
	});

	it('lists pipelines with one outcome each, their shards, retried jobs and missing shards, linked to GitLab and to the runs', async () => {
		const page = await signedIn('/projects/shop/pipelines');
		const rows = page.getByTestId('pipeline');
		await expect.poll(() => rows.count()).toBe(25);
		const outcomes = await page.getByTestId('pipeline-outcome-badge').allTextContents();
		expect(outcomes.slice(0, 3)).toEqual(['running', 'incomplete', 'passed']);

		const mr = rows.nth(1);
		expect(await mr.textContent()).toContain('feature/wishlist');
		expect(await mr.getByTestId('pipeline-missing-shard').textContent()).toMatch(/e2e\s*3\/3\s*no run reported this shard/);
		expect(await mr.getByTestId('pipeline-gitlab').getAttribute('href')).toBe(`${GITLAB}/-/pipelines/${8100 + PIPELINES}`);

		const failed = rows.filter({ has: page.locator('[data-testid=pipeline-outcome-badge]', { hasText: 'failed' }) });
		await expect.poll(() => failed.count()).toBe(1);
		// A retried job: the failed attempt is labelled as retried, the new one as the one that counts.
		const retried = page.locator(`[data-pipeline="${8100 + 31}"]`);
		expect(await retried.getByTestId('pipeline-outcome-badge').textContent()).toBe('flaky');
		expect(await retried.getByTestId('job-attempt').allTextContents()).toEqual(['attempt 1 · retried', 'retry 1 · counts']);
		expect(await retried.getByTestId('pipeline-jobs-summary').textContent()).toBe('3 jobs · 1 retried');
		await page.setViewportSize({ width: 1360, height: 1300 });
		await page.screenshot({ path: `${SHOTS}pipelines.png`, fullPage: false });
		await retried.screenshot({ path: `${SHOTS}pipeline-retried.png` });

		// Filter by outcome, then open a run of a pipeline.
		await page.goto('/projects/shop/pipelines?outcome=failed');
		await expect.poll(() => rows.count()).toBe(1);
		await rows.first().getByTestId('pipeline-run-link').first().click();
		await expect.poll(() => new URL(page.url()).pathname).toMatch(/^\/runs\/[0-9a-f-]{36}$/);
		await page.context().close();
	});

	it('shows the slowest tests with p50 and p95, a trend, the test that became slower and the time per shard', async () => {
		const page = await signedIn('/projects/shop/durations');
		await expect.poll(() => page.getByTestId('slowest-row').count()).toBe(SPECS.length);
		expect(await page.getByTestId('durations-branch').textContent()).toBe('main (the default branch)');
		const api = (await (await fetch(`${server.url}/api/v1/projects/shop/durations/slowest?pageSize=1`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()) as { items: { title: string; p50Ms: number }[] };
		const first = page.getByTestId('slowest-row').first();
		expect(await first.getByTestId('slowest-pick').textContent()).toBe(api.items[0]!.title);
		expect(api.items[0]!.title).toBe('exports orders as CSV');
		expect(await first.getByTestId('slowest-p50').textContent()).toBe(`${Math.round(api.items[0]!.p50Ms / 1000)} s`);
		await expect.poll(() => page.getByTestId('duration-trend').locator('canvas').count()).toBe(1);

		expect(await page.getByTestId('slower-row').count()).toBe(1);
		expect(await page.getByTestId('slower-row').first().textContent()).toContain(SLOWED);
		expect(Number((await page.getByTestId('slower-ratio').textContent())!.replace('×', ''))).toBeGreaterThan(1.8);

		const shards = page.getByTestId('critical-shard');
		expect(await shards.count()).toBe(3);
		expect(await shards.nth(2).textContent()).toContain('slowest shard');
		expect(await shards.nth(2).textContent()).toContain('exports orders as CSV');
		await page.screenshot({ path: `${SHOTS}slowest.png`, fullPage: true });

		// Choosing another test draws its trend.
		await page.getByTestId('slowest-pick').filter({ hasText: SLOWED }).click();
		await expect.poll(() => page.getByTestId('trend-title').textContent()).toBe(SLOWED);
		await page.context().close();
	});

	it('says so, with the setup lines, when the overview has no run in its window', async () => {
		const page = await signedIn('/projects/quiet');
		await expect.poll(() => page.getByTestId('setup').count()).toBe(1);
		expect(await page.getByTestId('setup').getByRole('heading', { level: 2 }).textContent()).toMatch(/^No runs in the last 30 days — the last one was .+\. Is CI still sending results\?$/);
		expect(await page.getByTestId('trend-empty').textContent()).toBe('No runs in the last 30 days: nothing to draw.');
		expect(await page.getByTestId('trend-chart').count()).toBe(0);
		expect(await page.getByTestId('card-rate').textContent()).toContain('no runs in the last 30 days');
		await page.screenshot({ path: `${SHOTS}overview-quiet.png`, fullPage: true });
		// The slowest tests of its default branch in the last 14 days: none, said plainly.
		await page.goto('/projects/quiet/durations');
		await expect.poll(() => page.getByTestId('durations-empty').count()).toBe(1);
		await page.context().close();
	});
});
