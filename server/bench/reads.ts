/**
 * Read speed: `pnpm --filter ./server bench:reads`.
 *
 * Part 1 seeds TESTS × RUNS results (default 10k × 100 = 1M) on real PostgreSQL, analyses them,
 * then times, over HTTP, p50 and p95 of REPEAT requests each:
 *   - every read API call the dashboard makes (target: p95 under 100 ms);
 *   - every dashboard page, signed in, as the browser asks for it: the whole server-side render,
 *     its loads' API calls included (target: p95 under 300 ms). This needs the built server and
 *     dashboard (`pnpm build`); the pages are served by `server/dist/server.js` started as a user
 *     would, on the same database.
 * Part 2 does the same for the flaky-tests page and its API calls on BIG_RUNS runs (default 1000:
 * 10k × 1000 = 10M results). BENCH_BIG=0 leaves it out.
 *
 * Baselines measured in the same run: `GET /health` (the API's HTTP floor) and the sign-in page
 * (a server-rendered page that calls no API: the dashboard's rendering floor).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createDatabase } from '../src/db/database.js';
import { recompute } from '../src/jobs/analysis.js';
import { createPostgresDatabase } from '../test/helpers/db.js';
import { percentile } from '../test/helpers/load.js';
import { startServer } from '../test/helpers/server-process.js';
import { benchServer } from './bench-server.js';
import { seed } from './seed.js';

const TESTS = Number(process.env.BENCH_TESTS ?? 10_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 100);
const BIG_RUNS = Number(process.env.BENCH_BIG_RUNS ?? 1000);
const BIG = process.env.BENCH_BIG !== '0';
const REPEAT = Number(process.env.BENCH_REPEAT ?? 30);
const ADMIN = 'bench-admin-token-0123456789abcdef';
const EMAIL = 'bench@example.com';
const PASSWORD = 'bench-password-0123456789';
const DASHBOARD_BUILT = existsSync(fileURLToPath(new URL('../../dashboard/build/handler.js', import.meta.url)));

const n = (x: number) => x.toLocaleString('en');

type Check = (body: string) => boolean;
interface Request {
	name: string;
	path: string;
	/** What the answer must hold, so that a redirect to sign-in or an error page is not timed as a page. */
	check?: Check;
	/** Sent without the session (the sign-in page redirects a signed-in person). */
	anonymous?: boolean;
}

/** p50/p95 of REPEAT requests (after 3 warm-ups) for each path. */
async function time(base: string, headers: Record<string, string>, requests: Request[]): Promise<string[][]> {
	const rows: string[][] = [];
	for (const { name, path, check, anonymous } of requests) {
		const times: number[] = [];
		for (let i = 0; i < REPEAT + 3; i++) {
			const started = performance.now();
			const res = await fetch(`${base}${path}`, { headers: anonymous ? {} : headers, redirect: 'manual' });
			const body = await res.text();
			const took = performance.now() - started;
			if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
			if (check && !check(body)) throw new Error(`${path} did not answer the page expected:\n${body.slice(0, 500)}`);
			if (i >= 3) times.push(took);
		}
		times.sort((a, b) => a - b);
		rows.push([name, `${percentile(times, 50).toFixed(1)} ms`, `${percentile(times, 95).toFixed(1)} ms`]);
	}
	return rows;
}

function table(title: string, target: string, rows: string[][]) {
	console.log(`\n${title}`);
	console.log(`| request | p50 | p95 (target < ${target}) |`);
	console.log('|---|---|---|');
	for (const r of rows) console.log(`| ${r.join(' | ')} |`);
}

/** A page is the dashboard's page when it carries the sidebar and the title asked for. */
const page =
	(title: string): Check =>
	(body) =>
		body.includes(`<title>${title}`) && body.includes('Sign out');

async function measure(runs: number, full: boolean) {
	const total = TESTS * runs;
	const t = await createPostgresDatabase();
	const db = createDatabase({ url: t.url, embedded: false, poolSize: 10 });
	let pages: Awaited<ReturnType<typeof startServer>> | undefined;
	try {
		const { server, base, headers, project } = await benchServer(db, ADMIN);

		let s = performance.now();
		await seed(db.pool, project.id, TESTS, runs);
		console.log(`\nseeded ${n(total)} results (${n(TESTS)} tests × ${n(runs)} runs) in ${((performance.now() - s) / 1000).toFixed(1)} s`);
		s = performance.now();
		await recompute(db.pool, project.id);
		await db.pool.query('ANALYZE');
		console.log(`analysed in ${((performance.now() - s) / 1000).toFixed(1)} s`);

		const flaky = (await (await fetch(`${base}/api/v1/projects/bench/flaky-tests?pageSize=1`, { headers })).json()) as { items: Array<{ testId: string }> };
		const testId = flaky.items[0]!.testId;
		const runList = (await (await fetch(`${base}/api/v1/projects/bench/runs?pageSize=1`, { headers })).json()) as { items: Array<{ id: string }> };
		const runId = runList.items[0]!.id;

		const listCalls: Request[] = [
			{ name: 'flaky tests, by impact', path: '/api/v1/projects/bench/flaky-tests' },
			{ name: 'flaky tests, search', path: '/api/v1/projects/bench/flaky-tests?q=area%201&sort=score' },
			{ name: 'flaky tests, branch filter', path: '/api/v1/projects/bench/flaky-tests?branch=main&state=flaky,broken' },
			{ name: 'flaky tests, healthy, page 50', path: '/api/v1/projects/bench/flaky-tests?state=healthy&sort=name&page=50' },
			{ name: 'facets', path: '/api/v1/projects/bench/facets' }
		];
		const apiCalls: Request[] = full
			? [
					{ name: 'baseline: /health', path: '/health' },
					{ name: 'projects', path: '/api/v1/projects' },
					{ name: 'stats (30 days)', path: '/api/v1/projects/bench/stats?days=30' },
					{ name: 'stats (365 days)', path: '/api/v1/projects/bench/stats?days=365' },
					...listCalls,
					{ name: 'test detail', path: `/api/v1/tests/${testId}` },
					{ name: 'test history', path: `/api/v1/tests/${testId}/history?limit=100` },
					{ name: 'test history, compact (chart page)', path: `/api/v1/tests/${testId}/history/compact?limit=2000` },
					{ name: 'test history, compact, 5000 runs', path: `/api/v1/tests/${testId}/history/compact?limit=5000` },
					{ name: 'runs', path: '/api/v1/projects/bench/runs' },
					{ name: 'run detail', path: `/api/v1/runs/${runId}` },
					{ name: 'error clusters', path: '/api/v1/projects/bench/errors?days=30' }
				]
			: [{ name: 'baseline: /health', path: '/health' }, ...listCalls];
		const apiRows = await time(base, headers, apiCalls);
		await server.close();
		table(`Read API on PostgreSQL, ${n(total)} results (${n(TESTS)} tests × ${n(runs)} runs), ${REPEAT} calls each`, '100 ms', apiRows);

		if (!DASHBOARD_BUILT) {
			console.log('\ndashboard pages: not measured, dashboard/build is missing (run `pnpm build` first)');
			return;
		}
		// The pages, from the built server as `npm start` runs it, signed in through the API's login.
		pages = await startServer({
			DATABASE_URL: t.url,
			ADMIN_TOKEN: ADMIN,
			ADMIN_EMAIL: EMAIL,
			ADMIN_PASSWORD: PASSWORD,
			DEMO: 'false',
			ANALYSIS_WORKER: 'false',
			LOG_LEVEL: 'warn',
			RATE_LIMIT_READS: '1000000',
			RATE_LIMIT_ADMIN: '1000000'
		});
		const login = await fetch(`${pages.url}/api/v1/auth/login`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ email: EMAIL, password: PASSWORD })
		});
		if (login.status !== 200) throw new Error(`sign-in answered ${login.status}: ${await login.text()}`);
		const { token } = (await login.json()) as { token: string };
		const cookie = { cookie: `flackyness_session=${token}` };
		const tests = '/projects/bench/tests';
		const listPages: Request[] = [
			{ name: 'flaky tests (default: flaky and broken, by impact)', path: tests, check: page('Flaky tests') },
			{ name: 'flaky tests, search', path: `${tests}?q=area+1&sort=score`, check: page('Flaky tests') },
			{ name: 'flaky tests, branch + state filter', path: `${tests}?branch=main&state=flaky`, check: page('Flaky tests') },
			{ name: 'flaky tests, every state, by name, page 50', path: `${tests}?state=all&sort=name&page=50`, check: page('Flaky tests') }
		];
		const pageRequests: Request[] = full
			? [
					{ name: 'baseline: sign-in page (no API call)', path: '/login', check: (b) => b.includes('<form'), anonymous: true },
					{ name: 'projects', path: '/', check: page('Projects') },
					{ name: 'overview', path: '/projects/bench', check: page('bench · ') },
					...listPages,
					{ name: 'test detail', path: `/tests/${testId}`, check: page('test ') },
					{ name: 'runs', path: '/projects/bench/runs', check: page('Runs') },
					{ name: 'run detail', path: `/runs/${runId}`, check: page('Run ') },
					{ name: 'error clusters', path: '/projects/bench/errors', check: page('Error clusters') },
					{ name: 'settings', path: '/projects/bench/settings', check: page('Settings') },
					{ name: 'users', path: '/users', check: page('Users') },
					{ name: 'account', path: '/account', check: page('Account') }
				]
			: [{ name: 'baseline: sign-in page (no API call)', path: '/login', check: (b) => b.includes('<form'), anonymous: true }, ...listPages];
		const pageRows = await time(pages.url, cookie, pageRequests);
		table(`Dashboard pages (server-side render, signed in), ${n(total)} results, ${REPEAT} requests each`, '300 ms', pageRows);
	} finally {
		await pages?.stop();
		await db.close();
		await t.destroy();
	}
}

await measure(RUNS, true);
if (BIG) await measure(BIG_RUNS, false);
