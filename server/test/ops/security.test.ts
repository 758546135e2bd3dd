/**
 * Security: invalid tokens on every route, one project's token on another's data, SQL injection in
 * every path and query parameter of the API (enumerated from its OpenAPI document), stored XSS
 * payloads, oversized requests, and forged, expired and otherwise bad session tokens (JWT).
 */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestResultInput } from 'flackyness-reporter/protocol';
import { sessionVersion } from '../../src/auth/plugin.js';
import { drainAnalysisQueue } from '../../src/jobs/analysis.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { ADMIN } from '../helpers/ingest.js';
import { makeReport } from '../helpers/report-factory.js';

const SECRET = 'security-test-session-secret-0123456789abcdef';
const PASSWORD = 'correct horse battery staple';
type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

interface Operation {
	method: Method;
	/** OpenAPI path, e.g. /api/v1/projects/{id}/stats */
	path: string;
	pathParams: string[];
	queryParams: string[];
	hasBody: boolean;
	secured: boolean;
}

/** Every operation of the API, from its own OpenAPI document. */
async function operations(t: TestApp): Promise<Operation[]> {
	const doc = (await t.app.inject({ url: '/api/openapi.json' })).json() as {
		paths: Record<string, Record<string, { parameters?: Array<{ in: string; name: string }>; requestBody?: unknown; security?: unknown[] }>>;
	};
	const ops: Operation[] = [];
	for (const [path, methods] of Object.entries(doc.paths)) {
		for (const [method, op] of Object.entries(methods)) {
			const params = op.parameters ?? [];
			ops.push({
				method: method.toUpperCase() as Method,
				path,
				pathParams: params.filter((p) => p.in === 'path').map((p) => p.name),
				queryParams: params.filter((p) => p.in === 'query').map((p) => p.name),
				hasBody: op.requestBody !== undefined,
				secured: (op.security ?? []).length > 0
			});
		}
	}
	return ops;
}

function result(i: number, over: Partial<TestResultInput> = {}): TestResultInput {
	return {
		file: `sec/part-${i % 3}.spec.ts`,
		titlePath: ['security', `case ${i}`],
		projectName: 'chromium',
		tags: [],
		outcome: 'expected',
		expectedStatus: 'passed',
		status: 'passed',
		attempts: 1,
		failedAttempts: 0,
		durationMs: 100 + i,
		startedAt: new Date(Date.UTC(2026, 10, 21, 9, 0, i)).toISOString(),
		annotations: [],
		...over
	};
}

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
/** A JWT signed by hand, so that each defect is exactly the one under test. */
function jwt(header: Record<string, unknown>, claims: Record<string, unknown>, secret = SECRET, hash = 'sha256'): string {
	const head = `${b64(header)}.${b64(claims)}`;
	return `${head}.${createHmac(hash, secret).update(head).digest('base64url')}`;
}

/** SQL (and a few neighbours) that must reach the database as plain values, if at all. */
const INJECTIONS = [
	`' OR '1'='1`,
	`' OR 1=1 --`,
	`'; DROP TABLE runs; --`,
	`'); DELETE FROM projects; --`,
	`1; UPDATE users SET role = 'admin'; --`,
	`" OR ""="`,
	`1' UNION SELECT id, token_hash, null FROM api_tokens --`,
	`'||(SELECT pg_sleep(30))||'`,
	`1) OR pg_sleep(30) IS NULL --`,
	`$1`,
	`%' OR '%'='`,
	`\\'; SELECT 1; --`,
	`00000000-0000-0000-0000-000000000000' OR '1'='1`,
	`{"$ne": null}`,
	`admin'/*`,
	`\u0000`,
	`a\u0000b' OR 1=1`,
	`１' ＯＲ '１'='１`,
	`%00`,
	`../../../../etc/passwd`
];

/** Stored XSS payloads; each has a double quote, so that JSON's escaping of it can be seen. */
const XSS = [
	`<script>alert("xss-title")</script>`,
	`"><img src=x onerror="alert('xss-attr')">`,
	`</script><svg onload="alert('xss-svg')">`,
	`javascript:alert("xss-url")`,
	`{{constructor.constructor("alert('xss-tpl')")()}}`
];

describe('security', () => {
	let t: TestApp;
	let ops: Operation[];
	const A = { id: '', slug: 'alpha', token: '', revoked: '', tokenId: '', runId: '', testId: '' };
	const B = { id: '', slug: 'bravo', token: '', runId: '', testId: '' };
	let userId = '';
	let session = '';
	let userRow: { id: string; passwordHash: string };

	const call = (method: Method, url: string, token: string | null, payload?: unknown, headers: Record<string, string> = {}) =>
		t.app.inject({
			method,
			url,
			headers: { ...(token !== null ? { authorization: `Bearer ${token}` } : {}), ...headers },
			...(payload !== undefined ? { payload: payload as string } : {})
		});

	async function snapshot() {
		const tables = await t.db.pool.query<{ table_name: string }>(
			`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`
		);
		const counts: Record<string, number> = {};
		for (const { table_name } of tables.rows) {
			counts[table_name] = (await t.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${table_name}"`)).rows[0]!.n;
		}
		const digest = await t.db.pool.query(
			`SELECT (SELECT md5(string_agg(concat_ws('|', id, slug, name, settings::text), ',' ORDER BY id)) FROM projects) AS projects,
			        (SELECT md5(string_agg(concat_ws('|', id, email, role, password_hash), ',' ORDER BY id)) FROM users) AS users,
			        (SELECT md5(string_agg(concat_ws('|', id, token_hash, revoked_at), ',' ORDER BY id)) FROM api_tokens) AS tokens,
			        (SELECT md5(string_agg(concat_ws('|', id, status, total, branch), ',' ORDER BY id)) FROM runs) AS runs,
			        (SELECT md5(string_agg(concat_ws('|', id, test_id, released_at), ',' ORDER BY id)) FROM quarantines) AS quarantines`
		);
		return { counts, digest: digest.rows[0] as Record<string, string> };
	}

	beforeAll(async () => {
		const high = '1000000';
		t = await buildTestApp('postgres', {
			ADMIN_TOKEN: ADMIN,
			JWT_SECRET: SECRET,
			ANALYSIS_WORKER: 'false',
			BODY_LIMIT: '1mb',
			DECOMPRESSED_LIMIT: '4mb',
			RATE_LIMIT_RUNS: high,
			RATE_LIMIT_BATCHES: high,
			RATE_LIMIT_READS: high,
			RATE_LIMIT_ADMIN: high,
			RATE_LIMIT_LOGIN: high
		});
		ops = await operations(t);
		for (const p of [A, B]) {
			const created = await call('POST', '/api/v1/admin/projects', ADMIN, { slug: p.slug });
			expect(created.statusCode).toBe(201);
			p.id = created.json().project.id;
			p.token = created.json().token;
			const opened = await call('POST', '/api/v1/runs', p.token, { idempotencyKey: `${p.slug}-run-0001`, ci: { branch: 'main' } });
			expect(opened.statusCode).toBe(201);
			p.runId = opened.json().runId;
			const batch = await call('POST', `/api/v1/runs/${p.runId}/results`, p.token, {
				results: [result(1), result(2, { outcome: 'unexpected', status: 'failed', failedAttempts: 1, error: { message: `Error: ${p.slug} broke` } })]
			});
			expect(batch.json()).toEqual({ accepted: 2, duplicates: 0 });
			expect((await call('POST', `/api/v1/runs/${p.runId}/complete`, p.token, { status: 'failed' })).statusCode).toBe(200);
			const tests = await t.db.pool.query<{ id: string }>(`SELECT id FROM tests WHERE project_id = $1 ORDER BY key LIMIT 1`, [p.id]);
			p.testId = tests.rows[0]!.id;
		}
		// A's first token is revoked after a rotation; the new one is A's token from now on.
		const first = A.token;
		const rotated = await call('POST', `/api/v1/admin/projects/${A.id}/rotate-token?revokeOthers=true`, ADMIN);
		expect(rotated.statusCode).toBe(201);
		A.revoked = first;
		A.token = rotated.json().token;
		A.tokenId = rotated.json().tokenId;
		const quarantined = await call('POST', `/api/v1/tests/${B.testId}/quarantine`, ADMIN, { reason: 'B is flaky' });
		expect(quarantined.statusCode).toBe(201);
		const user = await call('POST', '/api/v1/admin/users', ADMIN, { email: 'viewer@example.com', role: 'admin', password: PASSWORD });
		expect(user.statusCode).toBe(201);
		userId = user.json().user.id;
		const login = await call('POST', '/api/v1/auth/login', null, { email: 'viewer@example.com', password: PASSWORD });
		expect(login.statusCode).toBe(200);
		session = login.json().token;
		const row = await t.db.pool.query<{ id: string; password_hash: string }>(`SELECT id, password_hash FROM users WHERE id = $1`, [userId]);
		userRow = { id: row.rows[0]!.id, passwordHash: row.rows[0]!.password_hash };
	}, 120_000);
	afterAll(async () => t?.close());

	/** Real ids for an operation's path parameters, so that only what is under test is wrong. */
	function fill(op: Operation, overrides: Record<string, string> = {}): string {
		const values: Record<string, string> = {
			id: op.path.startsWith('/api/v1/tests/') ? A.testId : op.path.startsWith('/api/v1/runs/') ? A.runId : op.path.startsWith('/api/v1/admin/users/') ? userId : A.id,
			runId: A.runId,
			tokenId: A.tokenId,
			...overrides
		};
		return op.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(values[name] ?? 'x'));
	}

	/** A body the route accepts, so that the request fails (or not) for the reason under test. */
	function bodyOf(op: Operation): unknown {
		const key = `${op.method} ${op.path}`;
		const bodies: Record<string, unknown> = {
			'POST /api/v1/reports': JSON.stringify(makeReport({ tests: 2, seed: 3, titlePrefix: 'sec ' })),
			'POST /api/v1/runs': { idempotencyKey: 'security-sweep-run' },
			'POST /api/v1/runs/{runId}/results': { results: [result(1)] },
			'POST /api/v1/runs/{runId}/complete': { status: 'failed' },
			'POST /api/v1/admin/projects': { slug: 'sweep-new' },
			'PATCH /api/v1/admin/projects/{id}': { name: 'renamed by sweep' },
			'POST /api/v1/tests/{id}/quarantine': { reason: 'sweep' },
			'POST /api/v1/auth/login': { email: 'nobody@example.com', password: 'wrong password' },
			'POST /api/v1/auth/password': { currentPassword: 'wrong password', newPassword: 'another long password' },
			'POST /api/v1/admin/users': { email: 'sweep@example.com' },
			'PATCH /api/v1/admin/users/{id}': { role: 'viewer' },
			'POST /api/v1/admin/users/{id}/reset-password': {},
			'PUT /api/v1/projects/{id}/settings': {},
			'PUT /api/v1/projects/{id}/integrations/gitlab': { url: 'http://127.0.0.1:9', token: 'glpat-security-sweep-000000000000' },
			'POST /api/v1/verdicts': { tests: [{ file: 'sec/part-1.spec.ts', titlePath: ['security', 'case 1'], projectName: 'chromium' }] },
			'POST /api/v1/tests/new': { tests: [{ file: 'sec/part-1.spec.ts', titlePath: ['security', 'case 1'], projectName: 'chromium' }] },
			'POST /api/v1/projects/{id}/webhooks': { kind: 'generic', url: 'http://127.0.0.1:9/hook', events: ['flaky'], secret: 'security-sweep-secret-0000' }
		};
		if (!(key in bodies) && op.hasBody) throw new Error(`no sample body for ${key}: add one`);
		return bodies[key];
	}
	const contentType = (op: Operation) => (bodyOf(op) !== undefined ? { 'content-type': 'application/json' } : {});

	describe('invalid credentials', () => {
		it('answer 401 on every secured route, with WWW-Authenticate, and change nothing', async () => {
			const secured = ops.filter((o) => o.secured);
			expect(secured.length).toBeGreaterThanOrEqual(30);
			const before = await snapshot();
			const variants: Array<[string, Record<string, string>]> = [
				['missing', {}],
				['basic', { authorization: 'Basic YWRtaW46YWRtaW4=' }],
				['empty bearer', { authorization: 'Bearer' }],
				['two words', { authorization: `Bearer ${A.token} extra` }],
				['no scheme', { authorization: A.token }],
				['too long', { authorization: `Bearer ${'x'.repeat(5000)}` }],
				['unknown', { authorization: 'Bearer flk_p_0000000000000000000000000000000000000000' }],
				['revoked', { authorization: `Bearer ${A.revoked}` }],
				['admin token, one character off', { authorization: `Bearer ${ADMIN.slice(0, -1)}X` }],
				['JWT-shaped garbage', { authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl' }]
			];
			const wrong: string[] = [];
			for (const op of secured) {
				for (const [name, headers] of variants) {
					const body = bodyOf(op);
					const res = await t.app.inject({
						method: op.method,
						url: fill(op),
						headers: { ...contentType(op), ...headers },
						...(body !== undefined ? { payload: body as string } : {})
					});
					if (res.statusCode !== 401 || !res.headers['www-authenticate']) wrong.push(`${op.method} ${op.path} (${name}): ${res.statusCode} ${res.body.slice(0, 120)}`);
				}
			}
			expect(wrong).toEqual([]);
			expect(await snapshot()).toEqual(before);
		});
	});

	describe("one project's token on another project", () => {
		it('reads nothing of B: 404 on its project, tests, runs, stats, settings and errors', async () => {
			const reads = [
				`/api/v1/projects/${B.id}/stats`,
				`/api/v1/projects/${B.slug}/stats`,
				`/api/v1/projects/${B.id}/flaky-tests?state=healthy,flaky,broken,suspect,fixed,quarantined`,
				`/api/v1/projects/${B.slug}/flaky-tests`,
				`/api/v1/projects/${B.id}/facets`,
				`/api/v1/projects/${B.id}/runs`,
				`/api/v1/projects/${B.id}/errors`,
				`/api/v1/projects/${B.id}/settings`,
				`/api/v1/tests/${B.testId}`,
				`/api/v1/tests/${B.testId}/history`,
				`/api/v1/tests/${B.testId}/history/compact`,
				`/api/v1/runs/${B.runId}`
			];
			for (const url of reads) {
				const res = await call('GET', url, A.token);
				expect([403, 404], url).toContain(res.statusCode);
				expect(res.body).not.toContain('bravo broke');
			}
			// Its own project reads fine with the same token (the refusals above are about B).
			expect((await call('GET', `/api/v1/projects/${A.id}/stats`, A.token)).statusCode).toBe(200);
			const listed = await call('GET', '/api/v1/projects', A.token);
			expect(listed.json().projects.map((p: { id: string }) => p.id)).toEqual([A.id]);
			// The reporter's quarantine list is the token's own project, whatever the query names.
			const q = await call('GET', `/api/v1/quarantine?project=${B.slug}`, A.token);
			expect(q.statusCode).toBe(200);
			expect(JSON.stringify(q.json())).not.toContain(B.testId);
		});

		it('changes nothing of B: quarantine, settings, its runs and admin routes are refused and nothing is stored', async () => {
			const before = await snapshot();
			const attempts: Array<[Method, string, unknown]> = [
				['POST', `/api/v1/tests/${B.testId}/quarantine`, { reason: 'from A' }],
				['DELETE', `/api/v1/tests/${B.testId}/quarantine`, undefined],
				['PUT', `/api/v1/projects/${B.id}/settings`, { defaultBranch: 'evil' }],
				['POST', `/api/v1/runs/${B.runId}/results`, { results: [result(50)] }],
				['POST', `/api/v1/runs/${B.runId}/complete`, { status: 'passed' }],
				['PATCH', `/api/v1/admin/projects/${B.id}`, { name: 'owned' }],
				['DELETE', `/api/v1/admin/projects/${B.id}`, undefined],
				['POST', `/api/v1/admin/projects/${B.id}/rotate-token`, undefined],
				['GET', `/api/v1/admin/projects/${B.id}/tokens`, undefined],
				['POST', `/api/v1/admin/projects/${B.id}/recompute`, undefined],
				['GET', '/api/v1/admin/projects', undefined],
				['GET', '/api/v1/admin/users', undefined],
				['POST', '/api/v1/admin/users', { email: 'intruder@example.com', role: 'admin' }]
			];
			for (const [method, url, payload] of attempts) {
				const res = await call(method, url, A.token, payload);
				expect([403, 404], `${method} ${url}: ${res.body}`).toContain(res.statusCode);
			}
			// An upload naming B with A's token.
			const report = JSON.stringify(makeReport({ tests: 3, seed: 9, titlePrefix: 'cross ' }));
			const named = await call('POST', `/api/v1/reports?project=${B.slug}`, A.token, report, { 'content-type': 'application/json' });
			expect(named.statusCode).toBe(403);
			const header = await call('POST', '/api/v1/reports', A.token, report, { 'content-type': 'application/json', 'x-flackyness-project': B.id });
			expect(header.statusCode).toBe(403);
			expect(await snapshot()).toEqual(before);
			// B's idempotency key in A's hands opens a run of A's own, never B's.
			const same = await call('POST', '/api/v1/runs', A.token, { idempotencyKey: `${B.slug}-run-0001` });
			expect(same.statusCode).toBe(201);
			expect(same.json().runId).not.toBe(B.runId);
			const owner = await t.db.pool.query(`SELECT project_id FROM runs WHERE id = $1`, [same.json().runId]);
			expect(owner.rows[0].project_id).toBe(A.id);
		});
	});

	describe('SQL injection', () => {
		it('in every path and query parameter of every route: 4xx or 200, never 5xx, and the tables intact', async () => {
			const before = await snapshot();
			const failures: string[] = [];
			let requests = 0;
			const withParams = ops.filter((o) => o.pathParams.length + o.queryParams.length > 0 && o.path !== '/api/v1/reports');
			expect(withParams.length).toBeGreaterThanOrEqual(20);
			for (const op of withParams) {
				// Ingestion routes take a project token; everything else is tried with the admin token.
				const token = op.path.startsWith('/api/v1/runs/') && op.method === 'POST' ? A.token : ADMIN;
				const body = bodyOf(op);
				for (const param of [...op.pathParams, ...op.queryParams]) {
					for (const payload of INJECTIONS) {
						const isPath = op.pathParams.includes(param);
						const url = isPath ? fill(op, { [param]: payload }) : `${fill(op)}?${new URLSearchParams({ [param]: payload }).toString()}`;
						const started = performance.now();
						const res = await t.app.inject({
							method: op.method,
							url,
							headers: { authorization: `Bearer ${token}`, ...contentType(op) },
							...(body !== undefined ? { payload: body as string } : {})
						});
						requests++;
						const ms = performance.now() - started;
						if (res.statusCode >= 500 || ms > 20_000) failures.push(`${op.method} ${op.path} ${param}=${JSON.stringify(payload)}: ${res.statusCode} in ${ms.toFixed(0)} ms ${res.body.slice(0, 200)}`);
						else if (res.statusCode === 200 || res.statusCode === 201) {
							// An answer is only ever the caller's own data: nothing of B leaks into A's or a blank read.
							expect(res.body).not.toContain('token_hash');
						}
					}
				}
			}
			expect(failures).toEqual([]);
			expect(requests).toBeGreaterThan(500);
			expect(await snapshot()).toEqual(before);
		});

		it('in upload metadata (query string and X-Flackyness-* headers): stored as text, nothing else happens', async () => {
			const before = await snapshot();
			const report = JSON.stringify(makeReport({ tests: 2, seed: 21, titlePrefix: 'inj ' }));
			const stored: string[] = [];
			let n = 0;
			for (const payload of INJECTIONS) {
				for (const where of ['query', 'header'] as const) {
					n++;
					const branch = payload;
					const query = new URLSearchParams({ branch, jobName: payload, idempotencyKey: `injection-${String(n).padStart(4, '0')}` });
					const res =
						where === 'query'
							? await call('POST', `/api/v1/reports?${query.toString()}`, B.token, report, { 'content-type': 'application/json' })
							: await call('POST', '/api/v1/reports', B.token, report, {
									'content-type': 'application/json',
									'x-flackyness-branch': encodeURIComponent(branch),
									'x-flackyness-commit-title': encodeURIComponent(payload),
									'x-flackyness-idempotency-key': `injection-${String(n).padStart(4, '0')}`
								});
					expect(res.statusCode, `${where} ${JSON.stringify(payload)}: ${res.body}`).toBeLessThan(500);
					if (res.statusCode === 201) stored.push(res.json().runId);
					else expect(res.statusCode).toBe(400);
				}
			}
			expect(stored.length).toBeGreaterThan(INJECTIONS.length);
			const { rows } = await t.db.pool.query<{ branch: string }>(`SELECT branch FROM runs WHERE id = ANY($1::uuid[])`, [stored]);
			for (const r of rows) expect(INJECTIONS.some((p) => p.replaceAll('\u0000', '\uFFFD') === r.branch || p === r.branch)).toBe(true);
			const after = await snapshot();
			// Only B's new runs and their results were added; every other table and row is as it was.
			expect(after.counts.runs).toBe(before.counts.runs! + stored.length);
			expect(after.digest.projects).toBe(before.digest.projects);
			expect(after.digest.users).toBe(before.digest.users);
			expect(after.digest.tokens).toBe(before.digest.tokens);
			expect(Object.keys(after.counts)).toEqual(Object.keys(before.counts));
		});
	});

	describe('stored XSS payloads', () => {
		it('come back as JSON strings, escaped and verbatim, served as JSON with nosniff and a deny-all CSP', async () => {
			const created = await call('POST', '/api/v1/admin/projects', ADMIN, { slug: 'xss', name: XSS[0] });
			expect(created.statusCode).toBe(201);
			const project = created.json() as { project: { id: string }; token: string };
			const opened = await call('POST', '/api/v1/runs', project.token, {
				idempotencyKey: 'xss-run-0001',
				ci: { provider: 'gitlab', branch: XSS[1], commitTitle: XSS[2], commitAuthor: XSS[3], jobName: XSS[4], pipelineId: '1', jobId: '2' }
			});
			expect(opened.statusCode).toBe(201);
			const runId = opened.json().runId as string;
			const results = XSS.map((payload, i) =>
				result(i, {
					file: `xss/${payload}.spec.ts`,
					titlePath: [payload, `test ${payload}`],
					projectName: payload,
					tags: [payload],
					outcome: 'unexpected',
					status: 'failed',
					failedAttempts: 1,
					error: { message: `\u001b[31mError: ${payload}\u001b[39m`, stack: `at ${payload}`, location: payload },
					annotations: [{ type: payload, description: payload }]
				})
			);
			expect((await call('POST', `/api/v1/runs/${runId}/results`, project.token, { results })).json()).toEqual({ accepted: XSS.length, duplicates: 0 });
			expect((await call('POST', `/api/v1/runs/${runId}/complete`, project.token, { status: 'failed' })).statusCode).toBe(200);
			await drainAnalysisQueue(t.db.pool);
			const tests = await t.db.pool.query<{ id: string }>(`SELECT id FROM tests WHERE project_id = $1`, [project.project.id]);
			const pid = project.project.id;
			const urls = [
				'/api/v1/projects',
				`/api/v1/projects/${pid}/stats`,
				`/api/v1/projects/${pid}/flaky-tests?state=healthy,flaky,broken,suspect,fixed,quarantined`,
				`/api/v1/projects/${pid}/facets`,
				`/api/v1/projects/${pid}/runs`,
				`/api/v1/projects/${pid}/errors`,
				`/api/v1/runs/${runId}`,
				...tests.rows.flatMap((r) => [`/api/v1/tests/${r.id}`, `/api/v1/tests/${r.id}/history`]),
				`/api/v1/projects/${encodeURIComponent(XSS[0]!)}/stats`
			];
			const seen = new Set<string>();
			for (const url of urls) {
				const res = await call('GET', url, ADMIN);
				expect([200, 404], url).toContain(res.statusCode);
				expect(res.headers['content-type']).toMatch(/^application\/json; charset=utf-8$/);
				expect(res.headers['x-content-type-options']).toBe('nosniff');
				expect(res.headers['content-security-policy']).toContain("default-src 'none'");
				const strings: string[] = [];
				const walk = (v: unknown): void => {
					if (typeof v === 'string') strings.push(v);
					else if (Array.isArray(v)) v.forEach(walk);
					else if (v && typeof v === 'object') Object.values(v).forEach(walk);
				};
				walk(JSON.parse(res.body));
				for (const payload of XSS) {
					if (!strings.some((s) => s.includes(payload))) continue;
					seen.add(payload);
					// In the raw body the payload sits inside a JSON string, its quotes escaped...
					expect(res.body).toContain(JSON.stringify(payload).slice(1, -1));
					// ...and never as bare markup with live quotes.
					expect(res.body.split(JSON.stringify(payload).slice(1, -1)).join('')).not.toContain(payload);
				}
			}
			// Every payload was stored verbatim (no HTML-mangling on the way in) and came back.
			expect([...seen].sort()).toEqual([...XSS].sort());
			const stored = await t.db.pool.query<{ error_message: string }>(`SELECT error_message FROM test_results WHERE run_id = $1`, [runId]);
			expect(stored.rows.map((r) => r.error_message).sort()).toEqual(XSS.map((p) => `Error: ${p}`).sort());
		});
	});

	describe('oversized requests', () => {
		let base: string;
		beforeAll(async () => {
			base = await t.app.listen({ host: '127.0.0.1', port: 0 });
		});

		/** Raw request over a socket: no client-side limits or rewriting. */
		const raw = (path: string, headers: Record<string, string> = {}, body?: Buffer | string, method = 'GET') =>
			new Promise<{ status: number; body: string }>((resolve, reject) => {
				const u = new URL(path, base);
				const req = http.request({ hostname: u.hostname, port: u.port, path: u.pathname + u.search, method, headers, agent: false }, (res) => {
					const chunks: Buffer[] = [];
					res.on('data', (c: Buffer) => chunks.push(c));
					res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
				});
				req.setTimeout(60_000, () => req.destroy(new Error('timeout')));
				req.on('error', reject);
				req.end(body);
			});

		it('bodies past BODY_LIMIT and gzip past DECOMPRESSED_LIMIT answer 413 and store nothing', async () => {
			const before = await snapshot();
			const big = JSON.stringify({ ...makeReport({ tests: 1, seed: 1 }), padding: 'x'.repeat(1_200_000) });
			const json = { 'content-type': 'application/json' };
			expect((await call('POST', '/api/v1/reports', B.token, big, json)).statusCode).toBe(413);
			const bomb = gzipSync(Buffer.from(`{"config":{},"suites":[],"padding":"${' '.repeat(20 * 1024 * 1024)}"}`));
			expect(bomb.length).toBeLessThan(1024 * 1024);
			const bombed = await call('POST', '/api/v1/reports', B.token, bomb as unknown as string, { ...json, 'content-encoding': 'gzip' });
			expect(bombed.statusCode).toBe(413);
			// Without a valid token the body is not even read: 401, not 413.
			expect((await call('POST', '/api/v1/reports', 'flk_p_not-a-token-0000000000000000', big, json)).statusCode).toBe(401);
			expect((await call('POST', '/api/v1/reports', null, bomb as unknown as string, { ...json, 'content-encoding': 'gzip' })).statusCode).toBe(401);
			expect((await call('POST', `/api/v1/runs/${B.runId}/results`, B.token, { results: Array.from({ length: 1001 }, (_, i) => result(i)) })).statusCode).toBe(400);
			const fat = { results: [result(7, { error: { message: 'y'.repeat(1_100_000) } })] };
			expect((await call('POST', `/api/v1/runs/${B.runId}/results`, B.token, fat)).statusCode).toBe(413);
			expect((await call('POST', '/api/v1/admin/projects', ADMIN, { slug: 'fat', name: 'n'.repeat(2_000_000) })).statusCode).toBe(413);
			expect((await call('POST', '/api/v1/admin/projects', ADMIN, { slug: 'fat', name: 'n'.repeat(5000) })).statusCode).toBe(400);
			expect((await call('POST', '/api/v1/auth/login', null, { email: 'a@b.c', password: 'p'.repeat(100_000) })).statusCode).toBe(400);
			// Suites nested deeper than any real report: refused, not a stack overflow.
			const depth = 20_000;
			const deep = `{"config":{},"suites":[${'{"title":"s","specs":[],"suites":['.repeat(depth)}{"title":"leaf","specs":[]}${']}'.repeat(depth)}]}`;
			expect((await call('POST', '/api/v1/reports', B.token, deep, json)).statusCode).toBe(400);
			expect(await snapshot()).toEqual(before);
		});

		it('query strings and headers past their limits answer 4xx over a real socket', async () => {
			const auth = { authorization: `Bearer ${A.token}` };
			// Longer than Node's header limit (16 KiB): refused before the application.
			expect((await raw(`/api/v1/projects/${A.id}/flaky-tests?q=${'a'.repeat(100_000)}`, auth)).status).toBe(431);
			expect((await raw('/api/v1/projects', { ...auth, 'x-padding': 'p'.repeat(64 * 1024) })).status).toBe(431);
			// Within it, but past the parameter's own limit.
			expect((await raw(`/api/v1/projects/${A.id}/flaky-tests?q=${'a'.repeat(10_000)}`, auth)).status).toBe(400);
			expect((await raw(`/api/v1/projects/${'p'.repeat(5000)}/stats`, auth)).status).toBeGreaterThanOrEqual(400);
			expect((await raw(`/api/v1/projects/${A.id}/runs?${Array.from({ length: 1000 }, (_, i) => `x${i}=1`).join('&')}`, auth)).status).toBe(400);
			expect((await raw(`/api/v1/projects/${A.id}/runs?page=${'9'.repeat(5000)}`, auth)).status).toBe(400);
			expect((await raw('/api/v1/projects', { authorization: `Bearer ${'t'.repeat(10_000)}` })).status).toBe(401);
			const report = JSON.stringify(makeReport({ tests: 1, seed: 4 }));
			const long = await raw('/api/v1/reports', { authorization: `Bearer ${B.token}`, 'content-type': 'application/json', 'x-flackyness-branch': 'b'.repeat(10_000) }, report, 'POST');
			expect(long.status).toBe(400);
		});
	});

	describe('session tokens (JWT)', () => {
		const now = () => Math.floor(Date.now() / 1000);
		const claims = () => ({ sub: userRow.id, sv: sessionVersion(userRow.passwordHash), iss: 'flackyness', iat: now() - 10, exp: now() + 600 });
		const HS256 = { alg: 'HS256', typ: 'JWT' };
		// Routes a session reaches: reads, a user route and an admin route (the user is an admin).
		const probes: Array<[Method, string, unknown]> = [
			['GET', '/api/v1/auth/me', undefined],
			['GET', '/api/v1/projects', undefined],
			['GET', '/api/v1/admin/users', undefined],
			['POST', '/api/v1/auth/refresh', undefined]
		];
		const expectAll = async (token: string, status: number) => {
			for (const [method, url, payload] of probes) {
				const res = await call(method, url, token, payload);
				expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(status);
			}
		};

		it('a session from sign-in and one signed by hand with the same claims are accepted (the forgeries below differ in one thing only)', async () => {
			await expectAll(session, 200);
			await expectAll(jwt(HS256, claims()), 200);
		});

		it('refuses a tampered signature or payload, alg none, another algorithm or key, a wrong or missing issuer, and expiry', async () => {
			const good = jwt(HS256, claims());
			const [h, p, s] = good.split('.') as [string, string, string];
			const flipped = `${h}.${p}.${s.slice(0, -2)}${s.endsWith('AA') ? 'BB' : 'AA'}`;
			const otherSub = `${h}.${b64({ ...claims(), sub: '00000000-0000-4000-8000-000000000000' })}.${s}`;
			const longer = `${h}.${b64({ ...claims(), exp: now() + 10 * 365 * 86400 })}.${s}`;
			const forgeries: Record<string, string> = {
				'tampered signature': flipped,
				'tampered subject': otherSub,
				'tampered expiry': longer,
				'no signature': `${h}.${p}.`,
				'alg none, empty signature': `${b64({ alg: 'none', typ: 'JWT' })}.${p}.`,
				'alg none, some signature': `${b64({ alg: 'none', typ: 'JWT' })}.${p}.${s}`,
				'alg None': `${b64({ alg: 'None' })}.${p}.`,
				HS512: jwt({ alg: 'HS512', typ: 'JWT' }, claims(), SECRET, 'sha512'),
				'HS256 header, HS512 signature': jwt(HS256, claims(), SECRET, 'sha512'),
				'other key': jwt(HS256, claims(), 'another-secret-of-the-same-length-0123456789'),
				'empty key': jwt(HS256, claims(), ''),
				'wrong issuer': jwt(HS256, { ...claims(), iss: 'evil' }),
				'missing issuer': jwt(HS256, { ...claims(), iss: undefined }),
				'no expiry': jwt(HS256, { ...claims(), exp: undefined }),
				'no subject': jwt(HS256, { ...claims(), sub: undefined }),
				expired: jwt(HS256, { ...claims(), iat: now() - 7200, exp: now() - 3600 }),
				'not yet valid': jwt(HS256, { ...claims(), nbf: now() + 3600 }),
				'no session version': jwt(HS256, { ...claims(), sv: undefined }),
				'stale session version': jwt(HS256, { ...claims(), sv: sessionVersion('some older hash') }),
				'unknown user': jwt(HS256, { ...claims(), sub: '00000000-0000-4000-8000-000000000000' })
			};
			const accepted: string[] = [];
			for (const [name, token] of Object.entries(forgeries)) {
				for (const [method, url, payload] of probes) {
					const res = await call(method, url, token, payload);
					if (res.statusCode !== 401) accepted.push(`${name}: ${method} ${url} → ${res.statusCode}`);
				}
			}
			expect(accepted).toEqual([]);
			const expired = await call('GET', '/api/v1/auth/me', forgeries.expired!);
			expect(expired.json().message).toMatch(/expired/);
		});

		it('ends the sessions of a deleted user at once', async () => {
			const created = await call('POST', '/api/v1/admin/users', ADMIN, { email: 'leaver@example.com', role: 'admin', password: PASSWORD });
			expect(created.statusCode).toBe(201);
			const login = await call('POST', '/api/v1/auth/login', null, { email: 'leaver@example.com', password: PASSWORD });
			const token = login.json().token as string;
			await expectAll(token, 200);
			expect((await call('DELETE', `/api/v1/admin/users/${created.json().user.id}`, session)).statusCode).toBe(204);
			await expectAll(token, 401);
		});
	});
});
