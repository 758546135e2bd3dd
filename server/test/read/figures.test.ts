/**
 * Every figure of the test page and the project overview, as a real server answers it over HTTP,
 * against its own count taken by SQL straight from the stored results and runs — each check states
 * the definition it checks. The history is streamed in as the reporter would, with the analysis
 * worker running (its fast path included), on PostgreSQL:
 *  - "checkout": flaky on the default branch (passes on retry on every fifth commit);
 *  - "recovers": broken on commits 20–29, passing before and after (seen broken, then recovered);
 *  - "outage victim": passes, except in three jobs judged infrastructure failures;
 *  - "parked": skipped in every run;
 *  - "branch work": passes on main; on feature/y fails on two commits that never passed, and both
 *    fails and passes on another (two pipelines);
 *  - "regressed": broken from commit 50 on.
 * Ten filler tests pass in every job (a job needs ten results to be judged) and fail with the rest
 * in the infrastructure jobs. Also: each figure's dashboard definition equals the API's description.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIGURES } from '../../../dashboard/src/lib/figures.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { ADMIN } from '../helpers/ingest.js';
import { apiClient, streamJob, until, type Outcome } from '../helpers/ci-history.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MAIN_COMMITS = 60;
const INFRA_AT = new Set([13, 38, 44]);
const FILLERS = Array.from({ length: 10 }, (_, i) => `filler ${i}`);

/** What each test does on default-branch commit i (outside the infrastructure jobs). */
function onMain(i: number): Array<[string, Outcome]> {
	if (INFRA_AT.has(i)) return [...['checkout', 'recovers', 'outage victim', 'branch work', 'regressed', ...FILLERS].map((t): [string, Outcome] => [t, 'fail']), ['parked', 'skip']];
	return [
		['checkout', i % 5 === 2 ? 'retry' : 'pass'],
		['recovers', i >= 20 && i < 30 ? 'fail' : 'pass'],
		['outage victim', 'pass'],
		['parked', 'skip'],
		['branch work', 'pass'],
		['regressed', i >= 50 ? 'fail' : 'pass'],
		...FILLERS.map((t): [string, Outcome] => [t, 'pass'])
	];
}

/** Feature-branch pipelines (commit, outcome of "branch work"), between main commits 40 and 45. */
const FEATURE: Array<[string, Outcome]> = [
	['fy1', 'fail'],
	['fy2', 'fail'],
	['fy3', 'pass'],
	['fy4', 'fail'],
	['fy4', 'pass']
];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

describe('the figures of the test page and the overview, each against its own count from the stored results (a real server over HTTP, PostgreSQL)', () => {
	let t: TestApp;
	let url: string;
	let ingest: string;
	const api = apiClient(() => url, ADMIN);
	const start = Date.now() - 4 * DAY;
	const ids = new Map<string, string>();
	const detail = new Map<string, Json>();
	const q = async <T = Json>(sql: string, params: unknown[] = []) => (await t.db.pool.query(sql, params)).rows as T[];
	const one = async <T = Json>(sql: string, params: unknown[] = []) => (await q<T>(sql, params))[0]!;
	const analysed = () => until('the analysis queue to empty', async () => (await t.db.pool.query(`SELECT 1 FROM analysis_jobs`)).rowCount === 0, 60_000);
	let pipeline = 1000;
	const mainJob = (i: number) =>
		streamJob(api, ingest, { pipeline: pipeline++, commit: `m${i}`, branch: 'main', at: new Date(start + i * HOUR), results: onMain(i) });

	/** The test's results joined with their runs, as SQL sees them: `r` results, `ru` runs. */
	const RESULTS = `FROM test_results r JOIN runs ru ON ru.id = r.run_id WHERE r.test_id = $1`;
	const FAILED = `r.outcome IN ('unexpected', 'flaky')`;

	beforeAll(async () => {
		t = await buildTestApp('postgres', { ADMIN_TOKEN: ADMIN, ANALYSIS_POLL_MS: '50', RATE_LIMIT_RUNS: '10000', RATE_LIMIT_BATCHES: '100000', RATE_LIMIT_READS: '10000' });
		url = await t.app.listen({ port: 0, host: '127.0.0.1' });
		ingest = (await api('POST', '/api/v1/admin/projects', { slug: 'shop' })).body.token;
		for (let i = 0; i < 30; i++) await mainJob(i);
		await analysed();
		// "recovers" must be seen broken before it recovers: the verdict change is what "recovered" counts.
		const seen = await one(`SELECT h.state::text AS state FROM test_health h JOIN tests t ON t.id = h.test_id WHERE t.title = 'recovers'`);
		expect(seen.state).toBe('broken');
		for (let i = 30; i < MAIN_COMMITS; i++) {
			await mainJob(i);
			if (i >= 40 && i - 40 < FEATURE.length) {
				const [commit, outcome] = FEATURE[i - 40]!;
				await streamJob(api, ingest, {
					pipeline: pipeline++,
					commit,
					branch: 'feature/y',
					at: new Date(start + i * HOUR + HOUR / 2),
					results: onMain(30).map(([title, o]): [string, Outcome] => [title, title === 'branch work' ? outcome : o])
				});
			}
		}
		await analysed();
		for (const r of await q<{ id: string; title: string }>(`SELECT id, title FROM tests`)) ids.set(r.title, r.id);
		for (const title of ['checkout', 'recovers', 'outage victim', 'parked', 'branch work', 'regressed']) {
			const res = await api('GET', `/api/v1/tests/${ids.get(title)}`);
			expect(res.status).toBe(200);
			detail.set(title, res.body);
		}
	}, 300_000);
	afterAll(async () => t?.close());

	const health = (title: string) => detail.get(title).health;
	const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());
	/** In a broken stretch: a default-branch result between the first and last run of a segment the verdict calls broken. */
	const inBroken = (title: string) => {
		const segments = (health(title).evidence.segments ?? []) as Array<{ kind: string; firstAt: string; lastAt: string }>;
		// The newest segment, when broken, runs on to now (runs after the verdict's last look join it).
		const ranges = segments.flatMap((x, i) =>
			x.kind !== 'broken' ? [] : [i === segments.length - 1 ? `r.started_at >= '${x.firstAt}'` : `r.started_at BETWEEN '${x.firstAt}' AND '${x.lastAt}'`]
		);
		if (ranges.length === 0) return 'false';
		return `(ru.branch = 'main' AND NOT (ru.infra_failure AND ${FAILED}) AND (${ranges.join(' OR ')}))`;
	};
	/** A feature-branch commit on which the test never passed (a pass: expected, or flaky outside an infrastructure job). */
	const NEVER_PASSED = `NOT EXISTS (SELECT 1 FROM test_results p JOIN runs pr ON pr.id = p.run_id WHERE p.test_id = r.test_id AND pr.commit_sha = ru.commit_sha
		AND (p.outcome = 'expected' OR (p.outcome = 'flaky' AND NOT pr.infra_failure)))`;
	/** Failed on a feature-branch commit that never passed (every attempt, outside infrastructure jobs). */
	const FEATURE_NEVER_PASSED = `(r.outcome = 'unexpected' AND NOT ru.infra_failure AND ru.branch <> 'main' AND ${NEVER_PASSED})`;

	it('gives the verdicts the history was built for', () => {
		expect(Object.fromEntries([...detail].map(([k, v]) => [k, v.health.state]))).toEqual({
			checkout: 'flaky',
			recovers: 'healthy',
			'outage victim': 'healthy',
			parked: 'skipped',
			'branch work': 'flaky',
			regressed: 'broken'
		});
	});

	it('the run buckets: every run of the history is counted or not counted for one named reason, and each bucket matches its SQL count', async () => {
		for (const title of ['checkout', 'recovers', 'outage victim', 'parked', 'branch work', 'regressed']) {
			const id = ids.get(title)!;
			const h = health(title);
			const f = h.figures;
			const broken = inBroken(title);
			const row = await one(
				`SELECT count(*)::int AS total,
				        count(*) FILTER (WHERE r.outcome = 'skipped')::int AS skipped,
				        count(*) FILTER (WHERE ${FAILED} AND ru.infra_failure)::int AS infrastructure,
				        count(*) FILTER (WHERE r.outcome <> 'skipped' AND ${broken})::int AS broken,
				        count(*) FILTER (WHERE ${FEATURE_NEVER_PASSED})::int AS feature,
				        count(*) FILTER (WHERE r.outcome <> 'skipped' AND NOT (${FAILED} AND ru.infra_failure) AND ru.branch <> 'main' AND NOT ${FEATURE_NEVER_PASSED})::int AS other,
				        count(*) FILTER (WHERE r.outcome <> 'skipped' AND NOT (${FAILED} AND ru.infra_failure) AND ru.branch = 'main' AND NOT ${broken})::int AS counted,
				        count(*) FILTER (WHERE r.outcome = 'flaky' AND NOT ru.infra_failure AND ru.branch = 'main' AND NOT ${broken})::int AS flaky,
				        count(*) FILTER (WHERE r.outcome = 'unexpected' AND NOT ru.infra_failure AND ru.branch = 'main' AND NOT ${broken})::int AS unexpected
				 ${RESULTS}`,
				[id]
			);
			expect(f, title).toMatchObject({
				// The default branch's runs, except for a test with none to count (skipped in every run).
				runSet: title === 'parked' ? 'all-branches' : 'default-branch',
				totalRuns: row.total,
				countedRuns: row.counted,
				failedRuns: row.flaky + row.unexpected,
				flakyRuns: row.flaky,
				unexpectedRuns: row.unexpected,
				notCounted: { skipped: row.skipped, infrastructure: row.infrastructure, broken: row.broken, featureBranch: row.feature, otherBranches: row.other }
			});
			const n = f.notCounted;
			expect(f.countedRuns + n.skipped + n.infrastructure + n.broken + n.featureBranch + n.otherBranches, title).toBe(f.totalRuns);
			// Failed-run share: failedRuns / countedRuns, the denominator printed beside it.
			if (title !== 'parked') expect(h.flakeRate, title).toBeCloseTo(f.failedRuns / f.countedRuns, 12);
		}
		// The history was built so that every bucket is exercised somewhere.
		expect(health('checkout').figures.flakyRuns).toBe(12); // commits 2, 7, …, 57
		expect(health('recovers').figures.notCounted.broken).toBe(10);
		expect(health('outage victim').figures.notCounted.infrastructure).toBe(3);
		expect(health('parked').figures.notCounted.skipped).toBe(MAIN_COMMITS + FEATURE.length);
		expect(health('branch work').figures.notCounted).toMatchObject({ featureBranch: 2, otherBranches: 3 });
	});

	it('failure chance: null for a test skipped in every run, which sorts after every scored test', async () => {
		expect(health('parked')).toMatchObject({ score: null, scoreLow: null, scoreHigh: null, flakeRate: null });
		expect(health('checkout').score).toBeGreaterThan(0);
		const list = await api('GET', `/api/v1/projects/shop/flaky-tests?state=healthy,flaky,broken,skipped&sort=score&order=desc&pageSize=100`);
		expect(list.status).toBe(200);
		const titles: string[] = list.body.items.map((x: { title: string }) => x.title);
		expect(titles.at(-1)).toBe('parked');
		// The list carries the same failed-run share as the test page.
		const row = list.body.items.find((x: { title: string }) => x.title === 'checkout');
		expect(row.flakeRate).toBe(health('checkout').flakeRate);
	});

	it('mixed commits: commits (any branch) with a failed and a passing result outside infrastructure jobs and broken stretches', async () => {
		for (const title of ['checkout', 'recovers', 'outage victim', 'branch work', 'regressed']) {
			const { n } = await one(
				`SELECT count(*)::int AS n FROM (
				   SELECT ru.commit_sha ${RESULTS} AND NOT (${FAILED} AND ru.infra_failure) AND NOT ${inBroken(title)}
				   GROUP BY ru.commit_sha
				   HAVING bool_or(r.outcome = 'flaky') OR (bool_or(r.outcome = 'unexpected') AND bool_or(r.outcome = 'expected'))) c`,
				[ids.get(title)]
			);
			expect(health(title).mixedCommits, title).toBe(n);
		}
		expect(health('branch work').mixedCommits).toBe(1);
	});

	it('last flaky failure: the newest failed run counted as evidence; the last failure not counted: the newest other failed run, with its reason', async () => {
		for (const title of ['checkout', 'recovers', 'outage victim', 'branch work', 'regressed']) {
			const id = ids.get(title)!;
			const broken = inBroken(title);
			const { last } = await one(`SELECT max(r.started_at) AS last ${RESULTS} AND ${FAILED} AND NOT ru.infra_failure AND NOT ${broken} AND NOT ${FEATURE_NEVER_PASSED}`, [id]);
			expect(iso(health(title).lastFlakyAt), title).toBe(iso(last));
			const notCounted = await one(
				`SELECT r.started_at AS at, r.run_id AS "runId",
				        CASE WHEN ${FAILED} AND ru.infra_failure THEN 'infrastructure' WHEN ${broken} THEN 'broken' ELSE 'feature-branch' END AS reason
				 ${RESULTS} AND ${FAILED} AND (ru.infra_failure OR ${broken} OR ${FEATURE_NEVER_PASSED})
				 ORDER BY r.started_at DESC LIMIT 1`,
				[id]
			);
			expect(health(title).figures.lastNotCountedFailure, title).toEqual({ at: iso(notCounted.at), runId: notCounted.runId, reason: notCounted.reason });
		}
		// The outage victim never failed outside the infrastructure jobs: no last flaky failure, but its discounted one shows.
		expect(health('outage victim').lastFlakyAt).toBeNull();
		expect(health('outage victim').figures.lastNotCountedFailure.reason).toBe('infrastructure');
		expect(health('regressed').figures.lastNotCountedFailure.reason).toBe('broken');
	});

	it('in this state since: when the evidence changed, from the stored runs (not when the analysis ran)', async () => {
		const analysedAt = (title: string) => new Date(health(title).analyzedAt).getTime();
		// Broken: the first run on the first failing commit after the last passing default-branch run.
		const regressed = await one(
			`SELECT min(r.started_at) AS at ${RESULTS} AND ru.branch = 'main' AND r.outcome = 'unexpected' AND NOT ru.infra_failure
			   AND r.started_at > (SELECT max(x.started_at) FROM test_results x JOIN runs xr ON xr.id = x.run_id WHERE x.test_id = $1 AND xr.branch = 'main' AND x.outcome = 'expected')`,
			[ids.get('regressed')]
		);
		expect(iso(health('regressed').stateSince)).toBe(iso(regressed.at));
		// Healthy after broken: the first passing default-branch run after the last failing one of the stretch.
		const recovers = await one(
			`SELECT min(r.started_at) AS at ${RESULTS} AND ru.branch = 'main' AND r.outcome = 'expected'
			   AND r.started_at > (SELECT max(x.started_at) FROM test_results x JOIN runs xr ON xr.id = x.run_id WHERE x.test_id = $1 AND xr.branch = 'main' AND x.outcome = 'unexpected' AND NOT xr.infra_failure)`,
			[ids.get('recovers')]
		);
		expect(iso(health('recovers').stateSince)).toBe(iso(recovers.at));
		// Flaky: when flakiness was first proven, the first commit with mixed results (a pass on retry, or
		// a failed run beside a passing one), at the run that made it mixed.
		for (const title of ['checkout', 'branch work']) {
			const proven = await one(
				`SELECT min(at) AS at FROM (
				   SELECT LEAST(min(r.started_at) FILTER (WHERE r.outcome = 'flaky'),
				                CASE WHEN bool_or(r.outcome = 'unexpected') AND bool_or(r.outcome = 'expected')
				                THEN GREATEST(min(r.started_at) FILTER (WHERE r.outcome = 'unexpected'), min(r.started_at) FILTER (WHERE r.outcome = 'expected')) END) AS at
				   ${RESULTS} AND NOT (${FAILED} AND ru.infra_failure) GROUP BY ru.commit_sha) c`,
				[ids.get(title)]
			);
			expect(iso(health(title).stateSince), title).toBe(iso(proven.at));
		}
		// Healthy without any failure, and skipped: the first run.
		for (const title of ['outage victim', 'parked']) {
			const first = await one(`SELECT min(r.started_at) AS at ${RESULTS}`, [ids.get(title)]);
			expect(iso(health(title).stateSince), title).toBe(iso(first.at));
		}
		for (const title of detail.keys()) expect(new Date(health(title).stateSince).getTime(), title).toBeLessThan(analysedAt(title) - HOUR);
	});

	it('CI time lost per day: failure chance × runs per day over the impact window × mean attempt duration, from the stored results up to estimatedAt', async () => {
		for (const title of ['checkout', 'outage victim', 'branch work']) {
			const h = health(title);
			const row = await one(
				`SELECT count(*)::int AS runs, avg(r.duration_ms::float8 / GREATEST(r.attempts, CASE WHEN r.outcome = 'flaky' THEN 2 ELSE 1 END)) AS attempt_ms,
				        min(ru.started_at) AS first, (SELECT max(xr.started_at) FROM test_results x JOIN runs xr ON xr.id = x.run_id WHERE x.test_id = $1 AND xr.started_at <= $2) AS newest
				 ${RESULTS} AND r.outcome <> 'skipped' AND ru.started_at <= $2`,
				[ids.get(title), h.figures.estimatedAt]
			);
			// The estimate is as of the newest run of the analysed history.
			expect(iso(row.newest), title).toBe(h.figures.estimatedAt);
			// The whole history is younger than the 14-day window: runs per day = runs / days since the first run.
			const newest = new Date(row.newest).getTime();
			const first = new Date(row.first).getTime();
			const days = Math.max(1, (newest - first) / DAY);
			const expected = h.score * (row.runs / days) * (row.attempt_ms / 60_000);
			expect(h.impactMinutes, title).toBeCloseTo(expected, 9);
		}
	});

	it('overview: active flaky, broken now, recovered in 7 days, CI time lost and the 30-day flake rate, each from its own count', async () => {
		const stats = await api('GET', '/api/v1/projects/shop/stats?days=30');
		expect(stats.status).toBe(200);
		const s = stats.body;
		const states = async (state: string) => (await q<{ title: string }>(`SELECT t.title FROM test_health h JOIN tests t ON t.id = h.test_id WHERE h.state = $1 ORDER BY 1`, [state])).map((r) => r.title);
		expect(await states('flaky')).toEqual(['branch work', 'checkout']);
		expect(s.activeFlaky).toBe(2);
		expect(await states('broken')).toEqual(['regressed']);
		expect(s.brokenNow).toBe(1);
		// Recovered: tests with a recorded verdict change to fixed or healthy in the last 7 days whose previous
		// recorded verdict change was to flaky or broken ("recovers" went broken, suspect, healthy).
		const recovered = await q<{ title: string }>(
			`SELECT DISTINCT t.title FROM test_events e JOIN tests t ON t.id = e.test_id
			 WHERE e.to_state IN ('fixed', 'healthy') AND e.created_at > now() - interval '7 days'
			   AND (SELECT p.kind FROM test_events p WHERE p.test_id = e.test_id AND p.id < e.id AND p.kind IN ('flaky', 'broken', 'fixed') ORDER BY p.id DESC LIMIT 1) IN ('flaky', 'broken')`
		);
		expect(recovered.map((r) => r.title)).toEqual(['recovers']);
		expect(s.fixedThisWeek).toBe(1);
		// CI time lost to flakes: the sum of the per-test figure over the tests now flaky, suspect or quarantined.
		const flakyImpact = health('checkout').impactMinutes + health('branch work').impactMinutes;
		expect(s.impactMinutesPerDay).toBeCloseTo(flakyImpact, 9);
		// Flake rate, 30 days: results that passed on retry over results not skipped, outside infrastructure jobs.
		const rate = await one(
			`SELECT count(*) FILTER (WHERE r.outcome = 'flaky')::float8 / count(*) AS rate
			 FROM test_results r JOIN runs ru ON ru.id = r.run_id
			 WHERE r.outcome <> 'skipped' AND NOT ru.infra_failure AND ru.started_at >= date_trunc('day', now()) - interval '29 days'`
		);
		expect(s.flakeRateLast30Days).toBeCloseTo(rate.rate, 12);
	});

	it('each dashboard definition is word for word the description of its API field in /api/openapi.json', async () => {
		const doc = (await api('GET', '/api/openapi.json')).body;
		const deref = (node: Json): Json => (node?.$ref ? deref(doc.components.schemas[node.$ref.split('/').at(-1)]) : node);
		/** The schema of a named property, through $refs, nullable unions and arrays. */
		const property = (node: Json, key: string): Json => {
			node = deref(node);
			if (node.type === 'array') return property(node.items, key);
			if (node.properties?.[key]) return node.properties[key];
			for (const branch of node.anyOf ?? node.oneOf ?? []) {
				const b = deref(branch);
				if (b.type === 'array' || b.properties?.[key]) return property(b, key);
			}
			throw new Error(`no property ${key}`);
		};
		for (const [name, f] of Object.entries(FIGURES)) {
			const op = doc.paths[f.api.path]?.get;
			expect(op, `${name}: ${f.api.path}`).toBeTruthy();
			let node = op.responses['200'].content['application/json'].schema;
			for (const key of f.api.field) node = property(node, key);
			expect(deref(node).description ?? node.description, name).toBe(f.definition);
		}
	});
});
