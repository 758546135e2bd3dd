/**
 * Faults, against the built server running as a real process: `kill -9` in the middle of an
 * upload and of a streamed run, PostgreSQL stopped and started again under ingestion (a private
 * cluster: the shared one serves the other test files), Redis going away and coming back.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestResultInput } from 'flackyness-reporter/protocol';
import { createPostgresDatabase, type TestDatabase } from '../helpers/db.js';
import { startPrivatePostgres, type PrivatePostgres } from '../helpers/private-postgres.js';
import { makeReport } from '../helpers/report-factory.js';
import { freePort, startServer, type ServerProcess } from '../helpers/server-process.js';

const ADMIN = 'faults-admin-token-0123456789abcdef';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Answer {
	status: number;
	headers: http.IncomingHttpHeaders;
	body: string;
}

/**
 * One HTTP request over a fresh connection. With `slow`, the body is written in chunks with pauses
 * (a CI runner on a slow link), `stalled` after the first part: the request then waits for the
 * server forever, until it dies.
 */
function send(
	base: string,
	opts: { method?: string; path: string; token?: string; headers?: Record<string, string>; body?: string; stallAfter?: number; timeoutMs?: number }
): Promise<Answer> {
	return new Promise((resolve, reject) => {
		const url = new URL(opts.path, base);
		const body = opts.body === undefined ? undefined : Buffer.from(opts.body);
		const req = http.request(
			{
				method: opts.method ?? (body ? 'POST' : 'GET'),
				hostname: url.hostname,
				port: url.port,
				path: url.pathname + url.search,
				agent: false,
				headers: {
					...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
					...(body ? { 'content-type': 'application/json', 'content-length': String(body.length) } : {}),
					...opts.headers
				}
			},
			(res) => {
				const chunks: Buffer[] = [];
				res.on('data', (c: Buffer) => chunks.push(c));
				res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
				res.on('error', reject);
			}
		);
		req.setTimeout(opts.timeoutMs ?? 60_000, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
		req.on('error', reject);
		if (!body) return void req.end();
		if (opts.stallAfter === undefined) return void req.end(body);
		req.write(body.subarray(0, opts.stallAfter));
	});
}

/** The client's retry: the same request again until the server answers (network errors and 5xx are retried), bounded. */
async function withRetry(attempt: () => Promise<Answer>, opts: { attempts?: number; delayMs?: number } = {}): Promise<{ answer: Answer; tries: number }> {
	const attempts = opts.attempts ?? 120;
	let last: unknown;
	for (let i = 1; i <= attempts; i++) {
		try {
			const answer = await attempt();
			if (answer.status < 500) return { answer, tries: i };
			last = new Error(`HTTP ${answer.status}: ${answer.body}`);
		} catch (err) {
			last = err;
		}
		await sleep(opts.delayMs ?? 500);
	}
	throw new Error(`no answer after ${attempts} attempts: ${(last as Error).message}`);
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000, everyMs = 100): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const v = await probe();
		if (v !== undefined && v !== false) return v;
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await sleep(everyMs);
	}
}

/** Kills the server with SIGKILL, as the OOM killer or a node failure does, and waits for it to be gone. */
async function kill9(s: ServerProcess) {
	s.proc.kill('SIGKILL');
	await s.exited;
}

/** What one upload left in the database: absent, or whole (a completed run with every result). */
async function runState(client: pg.Client, projectId: string, key: string): Promise<{ runs: number; status?: string; total?: number; rows?: number }> {
	const { rows } = await client.query<{ id: string; status: string; total: number; rows: number }>(
		`SELECT r.id, r.status, r.total, (SELECT count(*)::int FROM test_results t WHERE t.run_id = r.id) AS rows
		 FROM runs r WHERE r.project_id = $1 AND r.idempotency_key = $2`,
		[projectId, `client:${key}`]
	);
	if (rows.length === 0) return { runs: 0 };
	return { runs: rows.length, status: rows[0]!.status, total: rows[0]!.total, rows: rows[0]!.rows };
}

/** Waits for a server's sessions to be gone from PostgreSQL, so that what they held is rolled back. */
async function sessionsGone(client: pg.Client, database: string) {
	await until('the killed server’s sessions to end', async () => {
		const { rows } = await client.query<{ n: number }>(
			`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'flackyness'`,
			[database]
		);
		return rows[0]!.n === 0;
	});
}

/** Polls until a server session of `database` is inside a transaction that has written, running a statement matching `query`. */
async function writingTransaction(client: pg.Client, database: string, query: RegExp, timeoutMs = 60_000) {
	return until(
		'a writing transaction',
		async () => {
			const { rows } = await client.query<{ query: string }>(
				`SELECT query FROM pg_stat_activity
				 WHERE datname = $1 AND application_name = 'flackyness' AND backend_xid IS NOT NULL AND xact_start IS NOT NULL`,
				[database]
			);
			return rows.some((r) => query.test(r.query));
		},
		timeoutMs,
		2
	);
}

function result(i: number): TestResultInput {
	return {
		file: `stream/part-${i % 20}.spec.ts`,
		titlePath: ['stream', `case ${i}`],
		projectName: 'chromium',
		tags: [],
		outcome: i % 17 === 0 ? 'flaky' : 'expected',
		expectedStatus: 'passed',
		status: 'passed',
		attempts: i % 17 === 0 ? 2 : 1,
		failedAttempts: i % 17 === 0 ? 1 : 0,
		durationMs: 100 + i,
		startedAt: new Date(Date.UTC(2026, 10, 20, 10, 0, 0, i)).toISOString(),
		...(i % 17 === 0 ? { error: { message: `Error: timeout ${i}`, stack: 'at stream.spec.ts:1:1' } } : {}),
		annotations: []
	};
}

describe('kill -9 of the server', () => {
	let db: TestDatabase;
	let dbName: string;
	let watcher: pg.Client;
	let server: ServerProcess;
	let port: number;
	let project: { id: string; token: string };
	// No analysis worker or sweeper: the only writing transactions are the uploads under test.
	const env = () => ({ DATABASE_URL: db.url, ADMIN_TOKEN: ADMIN, DEMO: 'false', ANALYSIS_WORKER: 'false', PORT: String(port) });
	const restart = () => startServer(env(), { timeoutMs: 120_000 });

	beforeAll(async () => {
		db = await createPostgresDatabase();
		dbName = new URL(db.url).pathname.slice(1);
		port = await freePort();
		server = await restart();
		watcher = new pg.Client({ connectionString: db.url });
		await watcher.connect();
		const created = await send(server.url, { path: '/api/v1/admin/projects', token: ADMIN, body: JSON.stringify({ slug: 'faults' }) });
		expect(created.status).toBe(201);
		const body = JSON.parse(created.body) as { project: { id: string }; token: string };
		project = { id: body.project.id, token: body.token };
	});
	afterAll(async () => {
		await server?.stop('SIGKILL');
		await watcher?.end();
		await db?.destroy();
	});

	const upload = (key: string, body: string, extra: { stallAfter?: number } = {}) =>
		send(`http://127.0.0.1:${port}`, {
			path: '/api/v1/reports',
			token: project.token,
			headers: { 'x-flackyness-idempotency-key': key },
			body,
			...extra
		});

	it('mid-body (slow upload): nothing is stored, and the client’s retry after the restart stores the whole run', async () => {
		const report = JSON.stringify(makeReport({ tests: 300, projects: ['chromium', 'firefox'], retries: 1, flakyRate: 0.1, seed: 7, titlePrefix: 'slow ' }));
		const key = 'kill-mid-body-0001';
		const first = upload(key, report, { stallAfter: Math.floor(report.length / 3) }).then(
			(a) => ({ answered: a.status }),
			(err: Error & { code?: string }) => ({ failed: err.code ?? err.message })
		);
		// The server has the first third of the body and waits for the rest.
		await sleep(500);
		expect(server.proc.exitCode).toBeNull();
		await kill9(server);
		expect(await first).toMatchObject({ failed: expect.any(String) });
		await sessionsGone(watcher, dbName);
		expect(await runState(watcher, project.id, key)).toEqual({ runs: 0 });

		// The client retries on its own schedule while the server comes back on the same port.
		const retried = withRetry(() => upload(key, report));
		server = await restart();
		const { answer } = await retried;
		expect(answer.status).toBe(201);
		expect(await runState(watcher, project.id, key)).toEqual({ runs: 1, status: 'passed', total: 600, rows: 600 });
		// And once more: the same run, not a second one.
		const again = await upload(key, report);
		expect(again.status).toBe(200);
		expect(JSON.parse(again.body).runId).toBe(JSON.parse(answer.body).runId);
		expect(await runState(watcher, project.id, key)).toMatchObject({ runs: 1, rows: 600 });
	});

	it('inside the storing transaction: the run is whole or absent, never partial, and the retry completes it', async () => {
		const report = JSON.stringify(
			makeReport({ tests: 2500, projects: ['chromium', 'firefox'], retries: 2, failRate: 0.02, flakyRate: 0.05, seed: 11, titlePrefix: 'big ' })
		);
		const key = 'kill-in-transaction-0001';
		const first = upload(key, report).then(
			(a) => ({ answered: a.status }),
			(err: Error & { code?: string }) => ({ failed: err.code ?? err.message })
		);
		// Kill as soon as the upload's transaction has written rows that are not committed yet.
		await writingTransaction(watcher, dbName, /INSERT INTO (runs|tests|test_results|error_clusters)|UPDATE runs/i);
		await kill9(server);
		const outcome = await first;
		await sessionsGone(watcher, dbName);
		const state = await runState(watcher, project.id, key);
		// Whole or absent: a run row exists only together with all 5000 results.
		if (state.runs === 1) expect(state).toMatchObject({ total: 5000, rows: 5000 });
		else expect(state).toEqual({ runs: 0 });
		const leftovers = await watcher.query<{ n: number }>(
			`SELECT count(*)::int AS n FROM test_results t WHERE t.project_id = $1 AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = t.run_id)`,
			[project.id]
		);
		expect(leftovers.rows[0]!.n).toBe(0);
		// Killed before its answer: a client never hears about a run and then loses it.
		if ('answered' in outcome) expect(state.runs).toBe(1);

		const retried = withRetry(() => upload(key, report));
		server = await restart();
		const { answer } = await retried;
		expect(answer.status).toBe(state.runs === 1 ? 200 : 201);
		expect(JSON.parse(answer.body)).toMatchObject({ counts: { total: 5000 } });
		expect(await runState(watcher, project.id, key)).toMatchObject({ runs: 1, total: 5000, rows: 5000 });
	});

	it('a streamed run interrupted by kill -9 and continued after the restart stores each result once', async () => {
		const base = `http://127.0.0.1:${port}`;
		const post = (path: string, body: unknown) => send(base, { path, token: project.token, body: JSON.stringify(body) });
		const open = { idempotencyKey: 'stream-kill-run-0001', ci: { provider: 'gitlab', branch: 'main', pipelineId: '991', jobId: '99101' } };
		const opened = await post('/api/v1/runs', open);
		expect(opened.status).toBe(201);
		const runId = JSON.parse(opened.body).runId as string;
		const batch = (from: number) => ({ results: Array.from({ length: 1000 }, (_, i) => result(from + i)) });
		const b1 = await post(`/api/v1/runs/${runId}/results`, batch(0));
		expect(JSON.parse(b1.body)).toEqual({ accepted: 1000, duplicates: 0 });

		// The second batch is being stored when the server dies.
		const second = post(`/api/v1/runs/${runId}/results`, batch(1000)).then(
			(a) => ({ answered: a.status }),
			(err: Error & { code?: string }) => ({ failed: err.code ?? err.message })
		);
		await writingTransaction(watcher, dbName, /INSERT INTO (tests|test_results|error_clusters)|UPDATE (tests|runs)/i);
		await kill9(server);
		await second;
		await sessionsGone(watcher, dbName);
		const between = await watcher.query<{ n: number }>(`SELECT count(*)::int AS n FROM test_results WHERE run_id = $1`, [runId]);
		expect([1000, 2000]).toContain(between.rows[0]!.n);

		// The reporter goes on where it was: it opens the same run again, resends what was not
		// acknowledged (and, to be thorough here, the first batch too), sends the rest, completes.
		const retried = withRetry(() => post('/api/v1/runs', open));
		server = await restart();
		const reopened = (await retried).answer;
		expect(reopened.status).toBe(200);
		expect(JSON.parse(reopened.body).runId).toBe(runId);
		const r2 = await post(`/api/v1/runs/${runId}/results`, batch(1000));
		const r2body = JSON.parse(r2.body) as { accepted: number; duplicates: number };
		expect(r2body.accepted + r2body.duplicates).toBe(1000);
		expect(r2body.accepted).toBe(between.rows[0]!.n === 2000 ? 0 : 1000);
		expect(JSON.parse((await post(`/api/v1/runs/${runId}/results`, batch(0))).body)).toEqual({ accepted: 0, duplicates: 1000 });
		expect(JSON.parse((await post(`/api/v1/runs/${runId}/results`, batch(2000))).body)).toEqual({ accepted: 1000, duplicates: 0 });
		const done = await post(`/api/v1/runs/${runId}/complete`, { status: 'passed', durationMs: 90_000 });
		expect(done.status).toBe(200);
		expect(JSON.parse(done.body)).toMatchObject({ runId, status: 'passed', counts: { total: 3000 } });

		const { rows } = await watcher.query<{ n: number; tests: number; total: number }>(
			`SELECT count(*)::int AS n, count(DISTINCT test_id)::int AS tests, (SELECT total FROM runs WHERE id = $1) AS total
			 FROM test_results WHERE run_id = $1`,
			[runId]
		);
		expect(rows[0]).toEqual({ n: 3000, tests: 3000, total: 3000 });
	});
});

describe('PostgreSQL stopped during ingestion', () => {
	let pgc: PrivatePostgres;
	let server: ServerProcess;
	let token: string;
	beforeAll(async () => {
		pgc = await startPrivatePostgres({ database: 'flackyness' });
		server = await startServer({ DATABASE_URL: pgc.url, ADMIN_TOKEN: ADMIN, DEMO: 'false', ANALYSIS_POLL_MS: '200' }, { timeoutMs: 120_000 });
		const created = await send(server.url, { path: '/api/v1/admin/projects', token: ADMIN, body: JSON.stringify({ slug: 'outage' }) });
		expect(created.status).toBe(201);
		token = (JSON.parse(created.body) as { token: string }).token;
	});
	afterAll(async () => {
		await server?.stop('SIGKILL');
		await pgc?.destroy();
	});

	it('answers 503 with Retry-After while it is down, and the same process recovers when it is back', async () => {
		const report = (i: number) => JSON.stringify(makeReport({ tests: 25, retries: 1, flakyRate: 0.1, seed: i, titlePrefix: 'outage ' }));
		const upload = (i: number) =>
			send(server.url, { path: '/api/v1/reports', token, headers: { 'x-flackyness-idempotency-key': `outage-${String(i).padStart(4, '0')}` }, body: report(i) });
		expect((await upload(0)).status).toBe(201);
		const pid = server.proc.pid;

		// Ingestion goes on through the outage: one upload after another, bounded in count and time.
		const statuses = new Map<number, number | string>();
		let stopLoad = false;
		const load = (async () => {
			const until = Date.now() + 120_000;
			for (let i = 1; i <= 2000 && !stopLoad && Date.now() < until; i++) {
				try {
					statuses.set(i, (await upload(i)).status);
				} catch (err) {
					statuses.set(i, (err as { code?: string }).code ?? 'error');
				}
				await sleep(50);
			}
		})();

		await until('uploads before the outage', async () => statuses.size >= 3);
		// PostgreSQL goes down while a large upload is writing: its transaction is cut off.
		const big = JSON.stringify(makeReport({ tests: 2000, projects: ['chromium', 'firefox'], seed: 5, titlePrefix: 'cut ' }));
		const cut = send(server.url, { path: '/api/v1/reports', token, headers: { 'x-flackyness-idempotency-key': 'outage-cut-off' }, body: big });
		const watcher = new pg.Client({ connectionString: pgc.url });
		await watcher.connect();
		await writingTransaction(watcher, 'flackyness', /INSERT INTO (runs|tests|test_results|error_clusters)|UPDATE runs/i).finally(() =>
			watcher.end().catch(() => undefined)
		);
		await pgc.stop('fast');
		const cutAnswer = await cut.catch((err: Error) => {
			throw new Error(`the cut-off upload got no answer (${err.message}); server exit code ${server.proc.exitCode}\n${server.output().stderr.slice(-3000)}`);
		});
		// Committed just before the stop (201), or cut off and answered 503: never 500.
		expect([201, 503]).toContain(cutAnswer.status);

		const whileDown = await upload(9000);
		expect(whileDown.status).toBe(503);
		expect(Number(whileDown.headers['retry-after'])).toBeGreaterThan(0);
		expect(JSON.parse(whileDown.body)).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
		const health = await send(server.url, { path: '/health' });
		expect(health.status).toBe(503);
		expect(JSON.parse(health.body)).toMatchObject({ status: 'unavailable', database: { reachable: false } });
		const read = await send(server.url, { path: '/api/v1/projects', token });
		expect(read.status).toBe(503);
		await until('uploads during the outage', async () => [...statuses.values()].filter((s) => s === 503).length >= 3, 60_000);

		await pgc.start();
		// Pooled connections were cut: the same process reconnects on its own.
		const back = await until(
			'an upload to succeed again',
			async () => {
				const a = await upload(9001);
				return a.status === 201 || a.status === 200 ? a : undefined;
			},
			60_000,
			250
		);
		expect(back.status).toBe(201);
		expect((await send(server.url, { path: '/health' })).status).toBe(200);
		expect((await send(server.url, { path: '/api/v1/projects', token })).status).toBe(200);
		const settled = statuses.size;
		await until('uploads after the outage', async () => statuses.size >= settled + 3);
		stopLoad = true;
		await load;
		expect(server.proc.exitCode).toBeNull();
		expect(server.proc.pid).toBe(pid);

		const all = [...statuses.values()];
		// Never 500: a request meeting the outage answers 503, whatever it was doing.
		const failed = (server.output().stdout + server.output().stderr).split('\n').filter((l) => l.includes('"request failed"'));
		expect(all.filter((s) => s !== 201 && s !== 503), failed.join('\n')).toEqual([]);
		expect(all.filter((s) => s === 503).length).toBeGreaterThanOrEqual(3);
		expect(all.at(-1)).toBe(201);
		// What was acknowledged is stored whole; nothing is stored in part.
		const client = new pg.Client({ connectionString: pgc.url });
		await client.connect();
		try {
			const { rows } = await client.query<{ key: string; total: number; rows: number }>(
				`SELECT r.idempotency_key AS key, r.total, (SELECT count(*)::int FROM test_results t WHERE t.run_id = r.id) AS rows FROM runs r`
			);
			const stored = new Map(rows.map((r) => [r.key, r]));
			for (const [i, s] of statuses) {
				const row = stored.get(`client:outage-${String(i).padStart(4, '0')}`);
				if (s === 201) expect(row).toMatchObject({ total: 25, rows: 25 });
				if (row) expect(row).toMatchObject({ total: 25, rows: 25 });
			}
			for (const r of rows) expect(r.rows).toBe(r.total);
			const cutRow = stored.get('client:outage-cut-off');
			if (cutAnswer.status === 201) expect(cutRow).toMatchObject({ total: 4000, rows: 4000 });
			else if (cutRow) expect(cutRow).toMatchObject({ total: 4000, rows: 4000 });
		} finally {
			await client.end();
		}
		const { stderr, stdout } = server.output();
		expect(stdout + stderr).toContain('database unavailable');
	});
});

describe('Redis going away and coming back', () => {
	let redisPort: number;
	let redis: ChildProcess | undefined;
	let db: TestDatabase;
	let server: ServerProcess;

	const startRedis = async () => {
		const proc = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
			stdio: ['ignore', 'pipe', 'pipe']
		});
		let out = '';
		proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
		await until('redis-server to accept connections', async () => {
			if (proc.exitCode !== null) throw new Error(`redis-server exited: ${out}`);
			return out.includes('Ready to accept connections');
		});
		return proc;
	};
	const stopRedis = async () => {
		const proc = redis;
		redis = undefined;
		if (!proc || proc.exitCode !== null) return;
		const gone = new Promise((r) => proc.once('exit', r));
		proc.kill('SIGKILL');
		await gone;
	};

	beforeAll(async () => {
		redisPort = await freePort();
		redis = await startRedis();
		db = await createPostgresDatabase();
		server = await startServer(
			{ DATABASE_URL: db.url, ADMIN_TOKEN: ADMIN, DEMO: 'false', LOG_LEVEL: 'info', REDIS_URL: `redis://127.0.0.1:${redisPort}`, RATE_LIMIT_ADMIN: '3' },
			{ timeoutMs: 120_000 }
		);
	});
	afterAll(async () => {
		await server?.stop();
		await stopRedis();
		await db?.destroy();
	});

	it('limits while it is up, serves without limits while it is down (logged), limits again once it is back', async () => {
		const health = async () => {
			const started = performance.now();
			const a = await send(server.url, { path: '/api/v1/admin/health', token: ADMIN });
			return { status: a.status, ms: performance.now() - started };
		};
		const statuses = async (n: number) => {
			const out: number[] = [];
			for (let i = 0; i < n; i++) out.push((await health()).status);
			return out;
		};
		expect(await statuses(4)).toEqual([200, 200, 200, 429]);

		await stopRedis();
		const down = [];
		for (let i = 0; i < 6; i++) down.push(await health());
		expect(down.map((d) => d.status)).toEqual([200, 200, 200, 200, 200, 200]);
		// Served promptly: an unreachable Redis costs a request no long wait.
		expect(Math.max(...down.map((d) => d.ms))).toBeLessThan(10_000);
		await until('the outage in the log', async () => server.output().stdout.includes('"event":"ratelimit.redis_down"'));

		redis = await startRedis();
		await until('the recovery in the log', async () => server.output().stdout.includes('"event":"ratelimit.redis_up"'), 60_000, 200);
		// The restarted Redis has no counters: three requests pass, the fourth is refused again.
		expect(await statuses(4)).toEqual([200, 200, 200, 429]);
	});
});
