import { createHash } from 'node:crypto';

/**
 * A realistic small history, sent through the real API as the reporter sends it: 40 commits on
 * main (two pipelines each, the second a retry), a merge request branch, and tests that are
 * stable, flaky, broken by a regression, always skipped — and one whose title and error are XSS
 * payloads.
 */

export const XSS_TITLE = '<script>alert(1)</script><img src=x onerror=alert(2)>';
export const XSS_ERROR = 'Error: expected "<img src=x onerror=alert(3)>" to be visible\n<script>alert(4)</script>';

type Kind = 'stable' | 'flaky' | 'regression' | 'skipped' | 'xss' | 'rare';

interface Spec {
	file: string;
	titlePath: string[];
	projectName: string;
	kind: Kind;
	ms: number;
}

export const SPECS: Spec[] = [
	{ file: 'checkout.spec.ts', titlePath: ['checkout', 'pays with card'], projectName: 'chromium', kind: 'flaky', ms: 4200 },
	{ file: 'checkout.spec.ts', titlePath: ['checkout', 'pays with card'], projectName: 'firefox', kind: 'stable', ms: 5100 },
	{ file: 'cart.spec.ts', titlePath: ['cart', 'shows the total'], projectName: 'chromium', kind: 'regression', ms: 1800 },
	{ file: 'search.spec.ts', titlePath: ['search', 'finds products by name'], projectName: 'chromium', kind: 'stable', ms: 900 },
	{ file: 'login.spec.ts', titlePath: ['login', 'remembers the user'], projectName: 'firefox', kind: 'rare', ms: 2600 },
	{ file: 'admin.spec.ts', titlePath: ['admin', 'exports orders as CSV'], projectName: 'chromium', kind: 'skipped', ms: 0 },
	{ file: 'xss.spec.ts', titlePath: ['xss', XSS_TITLE], projectName: 'chromium', kind: 'xss', ms: 700 }
];

export const COMMITS = 40;
export const REGRESSION_AT = 25;
export const sha = (i: number) => createHash('sha1').update(`commit ${i}`).digest('hex');
const GITLAB = 'https://gitlab.example.com/shop/web';

function result(spec: Spec, commit: number, run: number, at: Date) {
	const base = {
		file: spec.file,
		titlePath: spec.titlePath,
		projectName: spec.projectName,
		tags: spec.kind === 'flaky' ? ['@payments'] : [],
		expectedStatus: 'passed' as const,
		startedAt: at.toISOString(),
		annotations: []
	};
	const pass = { ...base, outcome: 'expected' as const, status: 'passed' as const, attempts: 1, failedAttempts: 0, durationMs: spec.ms + ((commit * 37 + run * 11) % 400) };
	const flaky = (message: string) => ({
		...base,
		outcome: 'flaky' as const,
		status: 'passed' as const,
		attempts: 2,
		failedAttempts: 1,
		durationMs: spec.ms * 2 + 5000,
		error: { message, location: `${spec.file}:12:7` }
	});
	switch (spec.kind) {
		case 'skipped':
			return { ...base, outcome: 'skipped' as const, expectedStatus: 'skipped' as const, status: 'skipped' as const, attempts: 1, failedAttempts: 0, durationMs: 0 };
		case 'flaky':
			return (commit * 7 + run * 3) % 4 === 0 ? flaky('TimeoutError: locator.click: Timeout 5000ms exceeded.\nwaiting for getByRole(\'button\', { name: \'Pay\' })') : pass;
		case 'xss':
			return (commit * 5 + run) % 6 === 0 ? flaky(XSS_ERROR) : pass;
		case 'rare':
			return commit % 13 === 3 && run === 0 ? flaky('Error: expect(page).toHaveURL(/account/) failed') : pass;
		case 'regression':
			return commit >= REGRESSION_AT
				? { ...base, outcome: 'unexpected' as const, status: 'failed' as const, attempts: 2, failedAttempts: 2, durationMs: spec.ms * 2, error: { message: 'Error: expect(received).toBe(expected)\n\nExpected: "$42.00"\nReceived: "$41.00"', location: 'cart.spec.ts:31:5' } }
				: pass;
		default:
			return pass;
	}
}

async function send(base: string, token: string, method: string, path: string, body: unknown) {
	const res = await fetch(`${base}/api/v1${path}`, {
		method,
		headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
		body: JSON.stringify(body)
	});
	if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${await res.text()}`);
	return (await res.json()) as Record<string, unknown>;
}

export interface Seeded {
	shop: { id: string; slug: string; token: string };
	empty: { id: string; slug: string; token: string };
	runs: number;
}

async function createProject(base: string, admin: string, slug: string, name: string) {
	const body = await send(base, admin, 'POST', '/admin/projects', { slug, name });
	return { id: (body.project as { id: string }).id, slug, token: body.token as string };
}

/** Seeds through the API and waits until the analysis has judged every test. */
export async function seed(base: string, admin: string): Promise<Seeded> {
	const shop = await createProject(base, admin, 'shop', 'Web shop');
	const empty = await createProject(base, admin, 'empty', 'Mobile app');
	const start = Date.now() - COMMITS * 12 * 3600_000;
	let runs = 0;
	const pipelines: { at: Date; ci: Record<string, unknown>; commit: number; run: number }[] = [];
	for (let c = 0; c < COMMITS; c++) {
		for (let r = 0; r < 2; r++) {
			const pipelineId = String(4700 + c * 2 + r);
			const jobId = String(91000 + c * 2 + r);
			pipelines.push({
				at: new Date(start + c * 12 * 3600_000 + r * 1800_000),
				commit: c,
				run: r,
				ci: {
					provider: 'gitlab',
					branch: 'main',
					defaultBranch: 'main',
					commitSha: sha(c),
					commitTitle: c === REGRESSION_AT ? 'Round prices in the cart' : `Change number ${c}`,
					commitAuthor: 'Dana Developer',
					pipelineId,
					pipelineUrl: `${GITLAB}/-/pipelines/${pipelineId}`,
					jobId,
					jobName: 'e2e',
					jobUrl: `${GITLAB}/-/jobs/${jobId}`,
					pipelineSource: r === 0 ? 'push' : 'web'
				}
			});
		}
	}
	// A merge request on a feature branch, with its own commits.
	for (let i = 0; i < 4; i++) {
		const pipelineId = String(5900 + i);
		pipelines.push({
			at: new Date(start + (30 + i) * 12 * 3600_000 + 3600_000),
			commit: 30 + i,
			run: i % 2,
			ci: {
				provider: 'gitlab',
				branch: 'feature/wishlist',
				defaultBranch: 'main',
				commitSha: sha(100 + i),
				commitTitle: `Wishlist, step ${i + 1}`,
				pipelineId,
				pipelineUrl: `${GITLAB}/-/pipelines/${pipelineId}`,
				jobId: String(99000 + i),
				jobName: 'e2e',
				jobUrl: `${GITLAB}/-/jobs/${99000 + i}`,
				mrIid: 42,
				mrSourceBranch: 'feature/wishlist',
				mrTargetBranch: 'main',
				pipelineSource: 'merge_request_event'
			}
		});
	}
	for (const p of pipelines) {
		const opened = await send(base, shop.token, 'POST', '/runs', { ci: p.ci, startedAt: p.at.toISOString(), playwrightVersion: '1.65.1' });
		const results = SPECS.map((s) => result(s, p.commit, p.run, p.at));
		await send(base, shop.token, 'POST', `/runs/${opened.runId as string}/results`, { results });
		const failed = results.some((x) => x.outcome === 'unexpected');
		const durationMs = results.reduce((a, x) => a + x.durationMs, 0);
		await send(base, shop.token, 'POST', `/runs/${opened.runId as string}/complete`, { status: failed ? 'failed' : 'passed', durationMs });
		runs++;
	}
	await waitForAnalysis(base, admin);
	return { shop, empty, runs };
}

/** Waits until the analysis has judged every run sent. */
export async function waitForAnalysis(base: string, admin: string) {
	const deadline = Date.now() + 120_000;
	for (;;) {
		const res = await fetch(`${base}/api/v1/admin/health`, { headers: { authorization: `Bearer ${admin}` } });
		const health = (await res.json()) as { analysisQueue: { pending: number }; runningRuns: number };
		if (health.analysisQueue.pending === 0 && health.runningRuns === 0) return;
		if (Date.now() > deadline) throw new Error(`analysis did not finish: ${JSON.stringify(health)}`);
		await new Promise((r) => setTimeout(r, 250));
	}
}
