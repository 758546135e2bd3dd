/**
 * The test page's history, end to end: the built server on a fresh PostgreSQL database, a flaky
 * test's history (with an outage judged infrastructure, a lone failure with the outage's error, and
 * merge-request branch runs) sent through the real API, and Debian's Chromium reading the page.
 */
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from '@playwright/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase, type TestDatabase } from '../../server/test/helpers/db.js';
import { startServer, type ServerProcess } from '../../server/test/helpers/server-process.js';
import { waitForAnalysis } from './seed.js';

const SHOTS = fileURLToPath(new URL('../../test-results/screenshots/', import.meta.url));
const ADMIN_TOKEN = 'e2e-history-admin-token-0123456789';
const ADMIN_EMAIL = 'admin@example.com';
const ADMIN_PASSWORD = 'correct-horse-battery';
const GITLAB = 'https://gitlab.example.com/shop/web';
const OUTAGE = 'Error: connect ECONNREFUSED 10.0.0.5:5432';
const TIMEOUT = "TimeoutError: locator.click: Timeout 5000ms exceeded.\nwaiting for getByRole('button', { name: 'Pay' })";
const MAIN = 150;
const OUTAGE_AT = 145;
const STRAY_AT = 120;
const BRANCH = 8;

type Kind = 'pass' | 'flaky' | 'fail' | 'skip';

function result(title: string, at: Date, kind: Kind, c: number, message = TIMEOUT) {
	const base = { file: 'checkout.spec.ts', titlePath: ['checkout', title], projectName: 'chromium', expectedStatus: 'passed' as const, startedAt: at.toISOString() };
	switch (kind) {
		case 'pass':
			return { ...base, outcome: 'expected', status: 'passed', attempts: 1, failedAttempts: 0, durationMs: 800 + ((c * 137) % 900) };
		case 'flaky':
			return { ...base, outcome: 'flaky', status: 'passed', attempts: 2, failedAttempts: 1, durationMs: 6200 + ((c * 71) % 2000), error: { message, location: 'checkout.spec.ts:12:7' } };
		case 'fail':
			return { ...base, outcome: 'unexpected', status: 'failed', attempts: 2, failedAttempts: 2, durationMs: message === OUTAGE ? 1200 : 30_000, error: { message, location: 'checkout.spec.ts:12:7' } };
		case 'skip':
			return { ...base, outcome: 'skipped', expectedStatus: 'skipped', status: 'skipped', attempts: 1, failedAttempts: 0, durationMs: 0 };
	}
}

function mainKind(c: number): Kind {
	if (c === OUTAGE_AT || c === STRAY_AT || c === 60) return 'fail';
	if (c === 40 || c === 41) return 'skip';
	return c % 7 === 3 ? 'flaky' : 'pass';
}

interface Compact {
	runs: { runId: string[]; startedAt: string[]; discountedWhy: (string | null)[]; branch: (string | null)[] };
}

describe('the history of a test', () => {
	let db: TestDatabase;
	let server: ServerProcess;
	let browser: Browser;
	let testId: string;
	let outageRun = '';
	let strayRun = '';
	let branchRun = '';
	/** Outcome of the test in each run sent. */
	const kinds: Kind[] = [];

	const send = async (token: string, method: string, path: string, body?: unknown) => {
		const res = await fetch(`${server.url}/api/v1${path}`, {
			method,
			headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
			body: body === undefined ? undefined : JSON.stringify(body)
		});
		expect(res.status, `${method} ${path}`).toBeLessThan(300);
		return (await res.json()) as Record<string, unknown>;
	};

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
		server = await startServer({ DATABASE_URL: db.url, ADMIN_TOKEN, ADMIN_EMAIL, ADMIN_PASSWORD, DEMO: 'false', RATE_LIMIT_LOGIN: '100', RATE_LIMIT_RUNS: '100000' });
		const { token } = (await send(ADMIN_TOKEN, 'POST', '/admin/projects', { slug: 'shop', name: 'Web shop' })) as { token: string };
		const start = Date.now() - (MAIN + 10) * 3600_000;
		const runs: { at: Date; branch: string; commit: number; kind: Kind; message?: string }[] = [];
		for (let c = 0; c < MAIN; c++) runs.push({ at: new Date(start + c * 3600_000), branch: 'main', commit: c, kind: mainKind(c), ...(c === OUTAGE_AT || c === STRAY_AT ? { message: OUTAGE } : {}) });
		for (let b = 0; b < BRANCH; b++) runs.push({ at: new Date(start + (128 + b * 2) * 3600_000 + 1800_000), branch: 'feature/wishlist', commit: 1000 + b, kind: b === 3 ? 'flaky' : 'pass' });
		runs.sort((a, b) => a.at.getTime() - b.at.getTime());
		for (const r of runs) {
			const pipelineId = String(4000 + r.commit);
			const ci = {
				provider: 'gitlab',
				branch: r.branch,
				defaultBranch: 'main',
				commitSha: createHash('sha1').update(`commit ${r.commit}`).digest('hex'),
				commitTitle: r.branch === 'main' ? `Change number ${r.commit}` : `Wishlist, step ${r.commit - 999}`,
				pipelineId,
				pipelineUrl: `${GITLAB}/-/pipelines/${pipelineId}`,
				jobId: String(90000 + r.commit),
				jobName: 'e2e 1/2',
				jobUrl: `${GITLAB}/-/jobs/${90000 + r.commit}`,
				...(r.branch === 'main' ? {} : { mrIid: 42, mrSourceBranch: r.branch, mrTargetBranch: 'main' })
			};
			const { runId } = (await send(token, 'POST', '/runs', { ci, startedAt: r.at.toISOString() })) as { runId: string };
			// Twelve other tests share each job; in the outage they all fail with one error.
			const others = Array.from({ length: 12 }, (_, i) => result(`other ${i}`, r.at, r.commit === OUTAGE_AT ? 'fail' : 'pass', r.commit, OUTAGE));
			const results = [result('pays with card', r.at, r.kind, r.commit, r.message), ...others];
			await send(token, 'POST', `/runs/${runId}/results`, { results });
			await send(token, 'POST', `/runs/${runId}/complete`, { status: results.some((x) => x.outcome === 'unexpected') ? 'failed' : 'passed' });
			kinds.push(r.kind);
			if (r.commit === OUTAGE_AT) outageRun = runId;
			if (r.commit === STRAY_AT) strayRun = runId;
			if (r.commit === 1003) branchRun = runId;
		}
		await waitForAnalysis(server.url, ADMIN_TOKEN);
		const list = (await send(ADMIN_TOKEN, 'GET', '/projects/shop/flaky-tests?q=pays%20with%20card&state=healthy,flaky,broken,suspect,fixed,quarantined')) as { items: { testId: string }[] };
		testId = list.items[0]!.testId;
		browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
	}, 300_000);

	afterAll(async () => {
		await browser?.close();
		await server?.stop();
		await db?.destroy();
	});

	it('draws outcome by shape with a legend, reaches the oldest runs by zooming, and marks runs not counted in the chart and table', async () => {
		const { runs } = (await send(ADMIN_TOKEN, 'GET', `/tests/${testId}/history/compact`)) as unknown as Compact;
		const n = runs.runId.length;
		expect(n).toBe(MAIN + BRANCH);
		const oldest = runs.startedAt[n - 1]!;
		const page = await signedIn(`/tests/${testId}`);

		const chart = page.getByTestId('history-chart');
		await expect.poll(() => chart.locator('canvas').count()).toBeGreaterThan(0);
		const legend = page.getByTestId('history-legend');
		const keys = (await legend.getByRole('button').allTextContents()).map((s) => s.replace(/\s+/g, ' ').trim());
		const sent = (k: Kind) => kinds.filter((x) => x === k).length;
		// The outage and the lone failure with its error are not counted: diamonds, not failures.
		expect(keys).toEqual([
			`passed ${sent('pass')}`,
			`flaky (passed on retry) ${sent('flaky')}`,
			`failed ${sent('fail') - 2}`,
			`skipped ${sent('skip')}`,
			'not counted: infrastructure 2'
		]);

		// At first the newest 100 runs are in view; dragging the slider's left handle to the start shows the oldest.
		const caption = page.getByTestId('history-window');
		await expect.poll(() => caption.getAttribute('data-first')).toBe(runs.startedAt[99]);
		expect(await caption.getAttribute('data-last')).toBe(runs.startedAt[0]);
		await chart.scrollIntoViewIfNeeded();
		const box = (await chart.boundingBox())!;
		const left = box.x + 110;
		const width = box.width - 110 - 16;
		const sliderY = box.y + box.height - 8 - 11;
		await page.mouse.move(left + (width * (n - 100)) / (n - 1), sliderY);
		await page.mouse.down();
		await page.mouse.move(left + 40, sliderY, { steps: 8 });
		await page.mouse.move(box.x + 20, sliderY, { steps: 4 });
		await page.mouse.up();
		await expect.poll(() => caption.getAttribute('data-first')).toBe(oldest);
		expect(await caption.textContent()).toContain(`Runs 1–${n} of ${n} runs loaded`);
		await page.getByRole('button', { name: 'Newest 100' }).click();
		await expect.poll(() => caption.getAttribute('data-first')).toBe(runs.startedAt[99]);
		expect(await page.getByTestId('history-marks').textContent()).toContain('2 runs not counted by the analysis');

		// The runs table: the outage run is marked, with why; a branch run is marked as such.
		const table = page.getByTestId('runs-table');
		const outage = table.locator(`tr[data-run="${outageRun}"]`);
		expect(await outage.getByTestId('not-counted').textContent()).toBe('not counted: infrastructure');
		expect(await table.getByTestId('discounted-why').first().textContent()).toMatch(/^Not counted by the analysis: the job was judged an infrastructure failure: /);
		expect(await table.locator(`tr[data-run="${branchRun}"]`).textContent()).toContain('feature/wishlistother branch');
		expect(await table.locator('tr[data-run]').count()).toBe(20);

		// A tooltip on the outage's diamond says when, what, where and why it is not counted.
		const i = n - 1 - runs.runId.indexOf(outageRun);
		await chart.scrollIntoViewIfNeeded();
		const now = (await chart.boundingBox())!;
		await page.mouse.move(now.x + 110 + (i - (n - 100) + 0.5) * (width / 100), now.y + 8 + 13);
		await expect.poll(() => page.locator('.history-strip').textContent()).toContain('not counted, because: the job was judged an infrastructure failure');
		await page.screenshot({ path: `${SHOTS}history-tooltip.png` });
		await page.mouse.move(0, 0);
		await page.screenshot({ path: `${SHOTS}test-page-history.png`, fullPage: true });

		// Older runs, page by page: the lone failure with the outage's error is not counted either.
		await page.getByTestId('older-runs').click();
		const stray = table.locator(`tr[data-run="${strayRun}"]`);
		await expect.poll(() => stray.count()).toBe(1);
		expect(await stray.getByTestId('not-counted').count()).toBe(1);
		expect(await page.getByRole('heading', { name: 'Older runs' }).count()).toBe(1);
		await page.context().close();
	});
});
