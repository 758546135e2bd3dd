/**
 * Rate limits count per authenticated caller, whatever the spelling of the Authorization header
 * that authentication accepts ("bearer", "BEARER", two spaces, a tab, trailing spaces): a real
 * server listening on a port, requests over raw HTTP (fetch would normalise the header), with the
 * in-memory counters and with Redis.
 */
import http from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import app from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createDatabase, type Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';
import { createPostgresDatabase, type TestDatabase } from '../helpers/db.js';
import { ADMIN } from '../helpers/ingest.js';
import { makeReport } from '../helpers/report-factory.js';

const LIMIT = 3;
const PASSWORD = 'rate-limit-password-1';
const SPELLINGS: Array<[string, (token: string) => string]> = [
	['canonical', (t) => `Bearer ${t}`],
	['lower case', (t) => `bearer ${t}`],
	['upper case', (t) => `BEARER ${t}`],
	['two spaces', (t) => `Bearer  ${t}`],
	['a tab', (t) => `Bearer\t${t}`],
	['trailing spaces', (t) => `Bearer ${t}   `]
];

interface Answer {
	status: number;
	headers: http.IncomingHttpHeaders;
	body: string;
	ms: number;
}

/**
 * One request over its own connection with the Authorization header exactly as given. With
 * `declaredLength`, the body announced is larger than what is sent and the rest never comes: only a
 * server that answers before reading the body answers at all.
 */
function send(base: string, opts: { method?: string; path: string; authorization?: string; body?: string; declaredLength?: number }): Promise<Answer> {
	const started = performance.now();
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
					...(opts.authorization === undefined ? {} : { authorization: opts.authorization }),
					...(body ? { 'content-type': 'application/json', 'content-length': String(opts.declaredLength ?? body.length) } : {})
				}
			},
			(res) => {
				const chunks: Buffer[] = [];
				res.on('data', (c: Buffer) => chunks.push(c));
				res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString(), ms: performance.now() - started }));
				res.on('error', reject);
			}
		);
		req.setTimeout(20_000, () => req.destroy(new Error('no answer within 20 s')));
		req.on('error', reject);
		if (!body) return void req.end();
		if (opts.declaredLength === undefined) return void req.end(body);
		req.write(body);
	});
}

async function startInstance(url: string, env: Record<string, string>) {
	const db = createDatabase({ url, embedded: false, poolSize: 5 });
	const config = loadConfig({
		LOG_LEVEL: 'silent',
		DEMO: 'false',
		ANALYSIS_WORKER: 'false',
		ADMIN_TOKEN: ADMIN,
		RATE_LIMIT_RUNS: String(LIMIT),
		RATE_LIMIT_READS: String(LIMIT),
		RATE_LIMIT_ADMIN: '1000',
		RATE_LIMIT_LOGIN: '1000',
		...env
	});
	const server = Fastify({ logger: false });
	await server.register(app, { config, db, version: 'test' });
	const base = await server.listen({ host: '127.0.0.1', port: 0 });
	return { server, db, base };
}

describe.each([
	['in-memory counters', {}],
	['Redis counters', { REDIS_URL: 'redis://127.0.0.1:6379' }]
] as Array<[string, Record<string, string>]>)('rate limits key on the caller, not the header (%s)', (_name, env) => {
	let t: TestDatabase;
	let instance: { server: FastifyInstance; db: Database; base: string };
	let seed = 0;
	const admin = (method: string, path: string, body?: unknown) =>
		send(instance.base, { method, path, authorization: `Bearer ${ADMIN}`, body: body === undefined ? undefined : JSON.stringify(body) });
	const newToken = async (slug: string) => {
		const created = await admin('POST', '/api/v1/admin/projects', { slug });
		expect(created.status).toBe(201);
		return (JSON.parse(created.body) as { token: string }).token;
	};
	const upload = (authorization: string) =>
		send(instance.base, { path: '/api/v1/reports', authorization, body: JSON.stringify(makeReport({ tests: 2, seed: ++seed, titlePrefix: `r${seed} ` })) });
	const read = (authorization: string) => send(instance.base, { path: '/api/v1/projects', authorization });

	beforeAll(async () => {
		t = await createPostgresDatabase();
		const db = createDatabase({ url: t.url, embedded: false, poolSize: 2 });
		await migrate(db.pool);
		await db.close();
		instance = await startInstance(t.url, env);
	});
	afterAll(async () => {
		await instance?.server.close();
		await instance?.db.close();
		await t?.destroy();
	});

	it('uploads over the limit are refused 429 in every spelling, and a second token has its own budget', async () => {
		const token = await newToken('uploads');
		const spelled = SPELLINGS.map(([, spell]) => spell(token));
		// Within the limit, each spelling authenticates.
		for (let i = 0; i < LIMIT; i++) expect((await upload(spelled[i]!)).status).toBe(201);
		for (const [name, spell] of SPELLINGS) {
			const answer = await upload(spell(token));
			expect({ name, status: answer.status }).toEqual({ name, status: 429 });
			expect(Number(answer.headers['retry-after'])).toBeGreaterThan(0);
		}
		const other = await newToken('uploads-other');
		expect((await upload(`bearer ${other}`)).status).toBe(201);
		const { rows } = await instance.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM runs');
		expect(rows[0]!.n).toBe(LIMIT + 1);
	});

	it('answers 429 before reading the body: a flood never makes the server take in its uploads', async () => {
		const token = await newToken('flood');
		for (let i = 0; i < LIMIT; i++) expect((await upload(`Bearer ${token}`)).status).toBe(201);
		// 8 MB announced, 1 kB sent, the rest never: the answer can only come from before the body.
		const answer = await send(instance.base, {
			path: '/api/v1/reports',
			authorization: `BEARER\t${token}`,
			body: 'x'.repeat(1024),
			declaredLength: 8 * 1024 * 1024
		});
		expect(answer.status).toBe(429);
		expect(answer.ms).toBeLessThan(5_000);
	});

	it('reads over the limit are refused 429 in every spelling', async () => {
		const token = await newToken('reads');
		for (let i = 0; i < LIMIT; i++) expect((await read(SPELLINGS[SPELLINGS.length - 1 - i]![1](token))).status).toBe(200);
		for (const [name, spell] of SPELLINGS) {
			expect({ name, status: (await read(spell(token))).status }).toEqual({ name, status: 429 });
		}
	});

	it('a signed-in user renewing the session token stays in one bucket; another user has their own', async () => {
		const signIn = async (email: string) => {
			expect((await admin('POST', '/api/v1/admin/users', { email, role: 'viewer', password: PASSWORD })).status).toBe(201);
			const login = await send(instance.base, { path: '/api/v1/auth/login', body: JSON.stringify({ email, password: PASSWORD }) });
			expect(login.status).toBe(200);
			return (JSON.parse(login.body) as { token: string }).token;
		};
		const first = await signIn('renewing@example.com');
		expect((await read(`Bearer ${first}`)).status).toBe(200);
		expect((await read(`bearer  ${first}`)).status).toBe(200);
		// A token issued in a later second differs from the first one.
		await new Promise((r) => setTimeout(r, 1100));
		const refreshed = await send(instance.base, { method: 'POST', path: '/api/v1/auth/refresh', authorization: `Bearer ${first}` });
		expect(refreshed.status).toBe(200);
		const second = (JSON.parse(refreshed.body) as { token: string }).token;
		expect(second).not.toBe(first);
		expect((await read(`Bearer ${second}`)).status).toBe(200);
		expect((await read(`Bearer ${second}`)).status).toBe(429);
		expect((await read(`Bearer ${first}`)).status).toBe(429);
		const someoneElse = await signIn('someone-else@example.com');
		expect((await read(`Bearer ${someoneElse}`)).status).toBe(200);
	});

});

describe('callers that do not authenticate', () => {
	let t: TestDatabase;
	let instance: { server: FastifyInstance; db: Database; base: string };
	const read = (authorization: string) => send(instance.base, { path: '/api/v1/projects', authorization });
	// In-memory counters only: the address bucket of a shared Redis is every test's loopback address.
	beforeAll(async () => {
		t = await createPostgresDatabase();
		const db = createDatabase({ url: t.url, embedded: false, poolSize: 2 });
		await migrate(db.pool);
		await db.close();
		instance = await startInstance(t.url, {});
	});
	afterAll(async () => {
		await instance?.server.close();
		await instance?.db.close();
		await t?.destroy();
	});

	it('count against their address, and are still refused 401', async () => {
		const wrong = 'not-a-token-of-this-server-0123456789';
		const codes: number[] = [];
		for (let i = 0; i < LIMIT + 2; i++) codes.push((await read(i % 2 ? `bearer ${wrong}${i}` : `Bearer ${wrong}`)).status);
		expect(codes.slice(0, LIMIT)).toEqual(Array(LIMIT).fill(401));
		expect(codes.slice(LIMIT)).toEqual([429, 429]);
	});
});
