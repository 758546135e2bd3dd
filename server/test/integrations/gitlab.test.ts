import Fastify from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import appPlugin from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { generateSecretsKey } from '../../src/lib/secrets.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createPostgresDatabase, type TestDatabase } from '../helpers/db.js';
import { ACCESS, FakeGitlab } from '../helpers/fake-gitlab.js';
import { makeReport } from '../helpers/report-factory.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';

const ADMIN = 'gitlab-test-admin-token-0123456789abcdef';
const GOOD = 'glpat-GoodToken-with-api-scope-0123456789';
const READ_ONLY = 'glpat-ReadOnly-token-read-api-0123456789';
const GUEST = 'glpat-GuestRole-token-api-scope-012345678';
const WRONG = 'glpat-WrongToken-nobody-issued-0123456789';
const TOKENS = [GOOD, READ_ONLY, GUEST, WRONG];

interface Answer {
	status: number;
	body: Record<string, unknown>;
	text: string;
}

function fakeGitlab() {
	const gl = new FakeGitlab();
	gl.addProject({ id: 7, path: 'group/app', name: 'The App' });
	gl.addToken(GOOD, { scopes: ['api'], access: { 7: ACCESS.developer } });
	gl.addToken(READ_ONLY, { scopes: ['read_api'], access: { 7: ACCESS.developer } });
	gl.addToken(GUEST, { scopes: ['api'], access: { 7: ACCESS.guest } });
	return gl.start();
}

describe('GitLab connection per project (the built server on PostgreSQL, a fake GitLab)', () => {
	let gl: FakeGitlab;
	let t: TestDatabase;
	let s: ServerProcess;
	let ingestToken: string;
	const answers: string[] = [];
	const path = '/api/v1/projects/web/integrations/gitlab';

	async function api(method: string, url: string, body?: unknown, token: string | null = ADMIN): Promise<Answer> {
		const headers: Record<string, string> = {};
		if (token) headers.authorization = `Bearer ${token}`;
		if (body !== undefined) headers['content-type'] = 'application/json';
		const res = await fetch(`${s.url}${url}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
		const text = await res.text();
		answers.push(text);
		return { status: res.status, text, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
	}

	const connect = (body: Record<string, unknown>) => api('PUT', path, { url: gl.url, mrNotes: true, commitStatus: true, ...body });
	const check = () => api('POST', `${path}/test`);

	beforeAll(async () => {
		gl = await fakeGitlab();
		t = await createPostgresDatabase();
		s = await startServer({ DATABASE_URL: t.url, ADMIN_TOKEN: ADMIN, DEMO: 'false', LOG_LEVEL: 'trace', RATE_LIMIT_ADMIN: '1000', SECRETS_KEY: generateSecretsKey(), ANALYSIS_WORKER: 'false' });
		const created = await api('POST', '/api/v1/admin/projects', { slug: 'web' });
		ingestToken = created.body.token as string;
	}, 60_000);
	afterAll(async () => {
		await s?.stop();
		await t?.destroy();
		await gl?.close();
	});

	it('refuses anyone but an admin', async () => {
		for (const [method, url] of [
			['GET', path],
			['PUT', path],
			['DELETE', path],
			['POST', `${path}/test`]
		] as const) {
			const body = method === 'PUT' ? { url: gl.url, token: GOOD } : undefined;
			expect((await api(method, url, body, null)).status).toBe(401);
			expect((await api(method, url, body, ingestToken)).status).toBe(403);
		}
		expect(gl.requests).toHaveLength(0);
	});

	it('answers 400 naming the field for bad input, and stores nothing', async () => {
		const cases: Array<[Record<string, unknown>, RegExp]> = [
			[{ url: 'ftp://gitlab.example.com', token: GOOD }, /^body\.url: must be the http/],
			[{ url: 'https://user:pw@gitlab.example.com', token: GOOD }, /^body\.url:/],
			[{ url: 'not a url', token: GOOD }, /^body\.url:/],
			[{ url: 'https://gitlab.example.com', token: 'has space inside' }, /^body\.token: must be printable/],
			[{ url: 'https://gitlab.example.com', token: 'short' }, /^body\.token:/],
			[{ url: 'https://gitlab.example.com', token: GOOD, gitlabProject: 'no path' }, /^body\.gitlabProject: must be a GitLab project path/],
			[{ url: 'https://gitlab.example.com', token: GOOD, mrNotes: 'yes' }, /^body\.mrNotes:/],
			[{ url: 'https://gitlab.example.com', token: GOOD, surprise: 1 }, /surprise/],
			[{ url: 'https://gitlab.example.com' }, /^body\.token: required to connect to GitLab the first time/]
		];
		for (const [body, message] of cases) {
			const r = await api('PUT', path, body);
			expect(r.status, JSON.stringify(body)).toBe(400);
			expect(r.body.message).toMatch(message);
		}
		expect((await api('GET', path)).status).toBe(404);
		expect((await api('PUT', '/api/v1/projects/nope/integrations/gitlab', { url: gl.url, token: GOOD })).status).toBe(404);
	});

	it('keeps the connection, answers it without the token, and changes flags without resending it', async () => {
		const saved = await connect({ token: GOOD });
		expect(saved.status).toBe(200);
		expect(saved.body).toMatchObject({ url: gl.url, tokenSet: true, mrNotes: true, commitStatus: true, gitlabProject: null, lastCheck: null });
		expect(saved.body).not.toHaveProperty('token');
		const got = await api('GET', path);
		expect(got.body).toMatchObject({ url: gl.url, tokenSet: true });
		const flags = await api('PUT', path, { url: `${gl.url}/`, commitStatus: false });
		expect(flags.status).toBe(200);
		expect(flags.body).toMatchObject({ url: gl.url, mrNotes: true, commitStatus: false });
		// The stored token was given for one address: another address needs it again.
		const moved = await api('PUT', path, { url: 'https://elsewhere.example.com' });
		expect(moved.status).toBe(400);
		expect(moved.body.message).toMatch(/^body\.token: required again when the URL changes/);
		expect((await api('GET', path)).body.url).toBe(gl.url);
	});

	it('tests the connection: no project known, then the project of the latest GitLab CI run', async () => {
		const none = await check();
		expect(none.body).toMatchObject({ ok: false, status: 'no_project', gitlabProject: null });
		expect(none.body.message).toMatch(/No GitLab project known yet/);
		const report = await fetch(`${s.url}/api/v1/reports`, {
			method: 'POST',
			headers: { authorization: `Bearer ${ingestToken}`, 'content-type': 'application/json', 'x-flackyness-pipeline-url': `${gl.url}/group/app/-/pipelines/55` },
			body: JSON.stringify(makeReport({ tests: 2 }))
		});
		expect(report.status).toBe(201);
		const ok = await check();
		expect(ok.body).toMatchObject({ ok: true, status: 'ok', gitlabProject: 'group/app', access: 'Developer', scopes: ['api'], project: { id: 7, name: 'The App' } });
		expect(ok.body.message).toBe('Connected to GitLab: project "The App" (group/app), the token has Developer access.');
		expect(gl.requests.at(-2)).toMatchObject({ method: 'GET', path: '/api/v4/projects/group%2Fapp', token: GOOD });
		const got = await api('GET', path);
		expect(got.body).toMatchObject({ effectiveProject: 'group/app', lastCheck: { ok: true, status: 'ok' } });
	});

	it('says what is wrong, in words, for every kind of failure', async () => {
		const expectCheck = async (status: string, message: RegExp) => {
			const r = await check();
			expect(r.status).toBe(200);
			expect(r.body, status).toMatchObject({ ok: false, status });
			expect(r.body.message).toMatch(message);
			expect((await api('GET', path)).body).toMatchObject({ lastCheck: { ok: false, status } });
		};
		await connect({ token: WRONG, gitlabProject: 'group/app' });
		await expectCheck('bad_token', /refused the token \(401/);
		await connect({ token: READ_ONLY });
		await expectCheck('missing_scope', /only the scopes read_api.*"api" scope/);
		await connect({ token: GUEST });
		await expectCheck('no_access', /Commit statuses need the Developer role; this token has Guest/);
		await connect({ token: GOOD, gitlabProject: 'group/missing' });
		await expectCheck('not_found', /no project "group\/missing" the token can see \(404\)/);
		await connect({ token: GOOD, gitlabProject: '7' });
		gl.fault({ status: 403, path: /projects/ });
		await expectCheck('no_access', /no access .*403/);
		gl.fault({ status: 429, retryAfter: '30' });
		await expectCheck('rate_limited', /rate limiting.*retry in 30 s/);
		gl.fault({ status: 500 });
		await expectCheck('server_error', /GitLab failed \(500/);
		await connect({ url: 'http://127.0.0.1:1', token: GOOD });
		await expectCheck('unreachable', /Cannot reach GitLab at http:\/\/127\.0\.0\.1:1.*refused/);
		await connect({ url: `${gl.url}/not-gitlab`, token: GOOD });
		await expectCheck('bad_url', /not a GitLab API/);
		await connect({ token: GOOD });
		gl.fault({ hang: true });
		await expectCheck('timeout', /did not answer within 10 s/);
		const ok = await check();
		expect(ok.body).toMatchObject({ ok: true, status: 'ok', gitlabProject: '7' });
	}, 40_000);

	it('removes the connection', async () => {
		expect((await api('DELETE', path)).status).toBe(204);
		expect((await api('GET', path)).status).toBe(404);
		expect((await api('DELETE', path)).status).toBe(404);
		expect((await check()).status).toBe(404);
		expect((await connect({ token: GOOD })).status).toBe(200);
	});

	it('never lets a token out: not in the logs, the answers, /metrics or the table in clear', async () => {
		const metrics = await (await fetch(`${s.url}/metrics`)).text();
		answers.push(metrics);
		// Failures are counted by kind, for alerts.
		expect(metrics).toMatch(/flackyness_gitlab_calls_total\{operation="getProject",outcome="bad_token"\} 1/);
		expect(metrics).toMatch(/flackyness_gitlab_calls_total\{operation="getProject",outcome="timeout"\} 1/);
		expect(metrics).toMatch(/flackyness_gitlab_calls_total\{operation="getTokenSelf",outcome="ok"\} \d/);
		const client = new pg.Client({ connectionString: t.url });
		await client.connect();
		try {
			const rows = await client.query(`SELECT row_to_json(g)::text AS row FROM gitlab_integrations g`);
			expect(rows.rows).toHaveLength(1);
			expect(rows.rows[0].row).toMatch(/"token_sealed":"fks1\./);
			// The table's file on disk, page by page, once PostgreSQL has written it out.
			await client.query('CHECKPOINT');
			const file = await client.query<{ bytes: Buffer }>(`SELECT pg_read_binary_file(pg_relation_filepath('gitlab_integrations')) AS bytes`);
			const raw = file.rows[0]!.bytes.toString('latin1');
			expect(raw).toContain(gl.url); // the file is the right one
			for (const token of TOKENS) {
				expect(rows.rows[0].row).not.toContain(token.slice(6));
				expect(raw).not.toContain(token.slice(6));
			}
		} finally {
			await client.end();
		}
		// pino writes asynchronously: wait for the line rather than for a fixed time.
		const logged = () => s.output().stdout + s.output().stderr;
		await expect.poll(logged, { timeout: 15_000, interval: 50 }).toContain('gitlab.checked');
		await expect.poll(logged, { timeout: 15_000, interval: 50 }).toContain('gitlab.removed');
		const logs = logged();
		// The checks below look at the real output: the request log of every call made with a token is in it.
		expect(logs).toContain('"url":"/api/v1/projects/web/integrations/gitlab/test"');
		for (const token of TOKENS) {
			expect(logs).not.toContain(token.slice(6));
			for (const a of answers) expect(a).not.toContain(token.slice(6));
		}
	});
});

describe('GitLab connection on the embedded database (Prisma Client over PGlite)', () => {
	let gl: FakeGitlab;
	let app: TestApp;
	beforeAll(async () => {
		gl = await fakeGitlab();
		app = await buildTestApp('pglite', { ADMIN_TOKEN: ADMIN, SECRETS_KEY: generateSecretsKey(), ANALYSIS_WORKER: 'false' });
	}, 60_000);
	afterAll(async () => {
		await app?.close();
		await gl?.close();
	});

	it('saves, reads, tests and removes a connection', async () => {
		const h = { authorization: `Bearer ${ADMIN}` };
		expect((await app.app.inject({ method: 'POST', url: '/api/v1/admin/projects', headers: h, payload: { slug: 'emb' } })).statusCode).toBe(201);
		const url = '/api/v1/projects/emb/integrations/gitlab';
		const put = await app.app.inject({ method: 'PUT', url, headers: h, payload: { url: gl.url, token: GOOD, gitlabProject: 'group/app' } });
		expect(put.statusCode).toBe(200);
		expect(put.json()).toMatchObject({ tokenSet: true, gitlabProject: 'group/app', effectiveProject: 'group/app' });
		const test = await app.app.inject({ method: 'POST', url: `${url}/test`, headers: h });
		expect(test.json()).toMatchObject({ ok: true, status: 'ok', access: 'Developer' });
		expect((await app.app.inject({ method: 'GET', url, headers: h })).json()).toMatchObject({ lastCheck: { ok: true, status: 'ok' } });

		// Another instance with another SECRETS_KEY cannot read the token, and says why instead of sending garbage.
		const other = Fastify({ logger: false });
		await other.register(appPlugin, { config: loadConfig({ ADMIN_TOKEN: ADMIN, DEMO: 'false', ANALYSIS_WORKER: 'false', SECRETS_KEY: generateSecretsKey() }), db: app.db, version: 'test' });
		await other.ready();
		try {
			const before = gl.requests.length;
			const wrongKey = await other.inject({ method: 'POST', url: `${url}/test`, headers: h });
			expect(wrongKey.json()).toMatchObject({ ok: false, status: 'unreadable_token' });
			expect(wrongKey.json().message).toMatch(/encrypted with another key .*give every instance the same SECRETS_KEY/);
			expect(gl.requests.length).toBe(before);
		} finally {
			await other.close();
		}
		expect((await app.app.inject({ method: 'DELETE', url, headers: h })).statusCode).toBe(204);
		expect((await app.app.inject({ method: 'GET', url, headers: h })).statusCode).toBe(404);
		expect((await app.app.inject({ method: 'GET', url })).statusCode).toBe(401);
	});
});

