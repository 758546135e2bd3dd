import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrap, firstStartBanner, sessionSecret } from '../../src/bootstrap.js';
import { loadConfig } from '../../src/config.js';
import { CLIENT_IP_HEADER, DASHBOARD_KEY_HEADER, dashboardKey } from '../../src/routes/api/auth.js';
import { BACKENDS } from '../helpers/db.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { ADMIN, newProject } from '../helpers/ingest.js';

const SECRET = 'test-session-secret-0123456789abcdef-0123456789';
const ADMIN_EMAIL = 'Root@Example.com';
const ADMIN_PASSWORD = 'first-admin-password';

describe.each(BACKENDS)('dashboard users and sessions on %s', (backend) => {
	let t: TestApp;
	let adminSession: string;

	beforeAll(async () => {
		t = await buildTestApp(backend, {
			ADMIN_TOKEN: ADMIN,
			JWT_SECRET: SECRET,
			ADMIN_EMAIL,
			ADMIN_PASSWORD,
			RATE_LIMIT_LOGIN: '5',
			RATE_LIMIT_ADMIN: '1000'
		});
		const boot = await bootstrap(t.db, t.config);
		expect(boot.adminUser).toEqual({ email: 'root@example.com' });
	}, 120_000);
	afterAll(async () => t.close());

	const login = (email: string, password: string, headers: Record<string, string> = {}) =>
		t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password }, headers });
	const call = (method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', url: string, token: string, payload?: object) =>
		t.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });

	it('signs the first admin in with the configured password, e-mail in any case', async () => {
		const res = await login('root@example.COM', ADMIN_PASSWORD, { [CLIENT_IP_HEADER]: '10.0.0.1', [DASHBOARD_KEY_HEADER]: dashboardKey(SECRET) });
		expect(res.statusCode).toBe(200);
		const body = res.json();
		expect(body.user).toMatchObject({ email: 'root@example.com', role: 'admin' });
		expect(body.token.split('.')).toHaveLength(3);
		const ttl = Date.parse(body.expiresAt) - Date.now();
		expect(ttl).toBeGreaterThan(59 * 60_000);
		expect(ttl).toBeLessThanOrEqual(60 * 60_000);
		adminSession = body.token;
		expect((await call('GET', '/api/v1/auth/me', adminSession)).json()).toEqual({ user: body.user });
	});

	it('answers the same generic error for a wrong password and an unknown e-mail', async () => {
		const headers = { [CLIENT_IP_HEADER]: '10.0.0.2', [DASHBOARD_KEY_HEADER]: dashboardKey(SECRET) };
		const wrong = await login(ADMIN_EMAIL, 'not-the-password', headers);
		const unknown = await login('nobody@example.com', 'not-the-password', headers);
		expect(wrong.statusCode).toBe(401);
		expect(unknown.statusCode).toBe(401);
		expect(wrong.json().message).toBe('Wrong e-mail or password.');
		expect(unknown.json().message).toBe(wrong.json().message);
		expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'a@b.c' } })).statusCode).toBe(400);
	});

	it('limits sign-ins per client address; the dashboard vouches for addresses only with its key', async () => {
		const key = dashboardKey(SECRET);
		const from = (ip: string, k = key) => ({ [CLIENT_IP_HEADER]: ip, [DASHBOARD_KEY_HEADER]: k });
		for (let i = 0; i < 5; i++) expect((await login(ADMIN_EMAIL, 'guess', from('10.9.9.9'))).statusCode).toBe(401);
		const limited = await login(ADMIN_EMAIL, ADMIN_PASSWORD, from('10.9.9.9'));
		expect(limited.statusCode).toBe(429);
		expect(limited.headers['retry-after']).toBeDefined();
		// Somebody else signing in through the same dashboard is not held up.
		expect((await login(ADMIN_EMAIL, ADMIN_PASSWORD, from('10.9.9.10'))).statusCode).toBe(200);
		// A forged key does not let a caller pick a fresh bucket per request.
		const forged = dashboardKey('some-other-secret-some-other-secret');
		const results = [];
		for (let i = 0; i < 6; i++) results.push((await login(ADMIN_EMAIL, 'guess', from(`10.8.0.${i}`, forged))).statusCode);
		expect(results).toContain(429);
	});

	it('lets an admin user manage users; a viewer reads every project and changes nothing', async () => {
		const shop = await newProject(t, `shop-${backend}`);
		const created = await call('POST', '/api/v1/admin/users', adminSession, { email: 'Viewer@Example.com' });
		expect(created.statusCode).toBe(201);
		const { user, password } = created.json();
		expect(user).toMatchObject({ email: 'viewer@example.com', role: 'viewer', lastLoginAt: null });
		expect(password).toMatch(/^\S{20}$/);
		expect((await call('POST', '/api/v1/admin/users', adminSession, { email: 'viewer@example.com' })).statusCode).toBe(409);
		expect((await call('POST', '/api/v1/admin/users', adminSession, { email: 'x@example.com', password: 'short' })).json().message).toMatch(
			/^body\.password: must be at least 10 characters/
		);

		const fresh = { [CLIENT_IP_HEADER]: '10.1.0.1', [DASHBOARD_KEY_HEADER]: dashboardKey(SECRET) };
		const viewer = (await login('viewer@example.com', password, fresh)).json().token as string;
		expect((await call('GET', '/api/v1/projects', viewer)).json().projects.map((p: { slug: string }) => p.slug)).toContain(`shop-${backend}`);
		expect((await call('GET', `/api/v1/projects/${shop.id}/flaky-tests`, viewer)).statusCode).toBe(200);
		expect((await call('GET', '/api/v1/admin/projects', viewer)).statusCode).toBe(403);
		expect((await call('GET', '/api/v1/admin/users', viewer)).statusCode).toBe(403);
		expect((await call('PUT', `/api/v1/projects/${shop.id}/settings`, viewer, {})).statusCode).toBe(403);
		// Project tokens are not sessions.
		expect((await call('GET', '/api/v1/auth/me', shop.token)).statusCode).toBe(403);
		expect((await call('GET', '/api/v1/admin/users', shop.token)).statusCode).toBe(403);

		// Promotion takes effect on the next request, without signing in again.
		expect((await call('PATCH', `/api/v1/admin/users/${user.id}`, adminSession, { role: 'admin' })).json().user.role).toBe('admin');
		expect((await call('GET', '/api/v1/admin/users', viewer)).statusCode).toBe(200);
		expect((await call('PATCH', `/api/v1/admin/users/${user.id}`, adminSession, { role: 'viewer' })).statusCode).toBe(200);

		const list = (await call('GET', '/api/v1/admin/users', ADMIN)).json().users;
		expect(list.map((u: { email: string; role: string }) => `${u.email}:${u.role}`)).toEqual(
			expect.arrayContaining(['root@example.com:admin', 'viewer@example.com:viewer'])
		);
		expect(JSON.stringify(list)).not.toMatch(/scrypt|password/i);

		// A reset ends the viewer's sessions; the new password works.
		const reset = await call('POST', `/api/v1/admin/users/${user.id}/reset-password`, adminSession, {});
		expect(reset.statusCode).toBe(200);
		expect((await call('GET', '/api/v1/projects', viewer)).statusCode).toBe(401);
		const again = (await login('viewer@example.com', reset.json().password, fresh)).json().token as string;
		expect((await call('GET', '/api/v1/projects', again)).statusCode).toBe(200);

		// Deleting a user ends their sessions at once.
		expect((await call('DELETE', `/api/v1/admin/users/${user.id}`, adminSession)).statusCode).toBe(204);
		expect((await call('GET', '/api/v1/projects', again)).statusCode).toBe(401);
		expect((await call('DELETE', `/api/v1/admin/users/${user.id}`, adminSession)).statusCode).toBe(404);
	});

	it('never leaves the installation without an admin', async () => {
		const users = (await call('GET', '/api/v1/admin/users', ADMIN)).json().users as { id: string; email: string; role: string }[];
		const admins = users.filter((u) => u.role === 'admin');
		expect(admins).toHaveLength(1);
		const root = admins[0]!;
		expect((await call('PATCH', `/api/v1/admin/users/${root.id}`, ADMIN, { role: 'viewer' })).statusCode).toBe(409);
		expect((await call('DELETE', `/api/v1/admin/users/${root.id}`, ADMIN)).statusCode).toBe(409);
		const second = (await call('POST', '/api/v1/admin/users', ADMIN, { email: 'second@example.com', role: 'admin' })).json();
		// With another admin, either may step down.
		expect((await call('PATCH', `/api/v1/admin/users/${root.id}`, ADMIN, { role: 'viewer' })).statusCode).toBe(200);
		expect((await call('PATCH', `/api/v1/admin/users/${second.user.id}`, ADMIN, { role: 'viewer' })).statusCode).toBe(409);
		expect((await call('PATCH', `/api/v1/admin/users/${root.id}`, ADMIN, { role: 'admin' })).statusCode).toBe(200);
		expect((await call('DELETE', `/api/v1/admin/users/${second.user.id}`, ADMIN)).statusCode).toBe(204);
	});

	it('asks for a token before it looks at the body or the query: no validation detail for anonymous callers', async () => {
		const project = await newProject(t, 'anon-order');
		const anonymous = [
			{ method: 'POST' as const, url: '/api/v1/admin/projects', payload: { slug: '' } },
			{ method: 'POST' as const, url: '/api/v1/admin/users', payload: { email: 'not-an-email', role: 'god' } },
			{ method: 'POST' as const, url: '/api/v1/runs', payload: { ci: 'nonsense' } },
			{ method: 'POST' as const, url: '/api/v1/auth/password', payload: { current: 1 } },
			{ method: 'PUT' as const, url: `/api/v1/projects/${project.id}/settings`, payload: { analysis: { nope: true } } },
			{ method: 'GET' as const, url: `/api/v1/projects/${project.id}/flaky-tests?pageSize=100000&state=bogus` }
		];
		for (const r of anonymous) {
			const res = await t.app.inject(r);
			expect({ url: r.url, status: res.statusCode }).toEqual({ url: r.url, status: 401 });
			expect(res.json().message).toMatch(/Authorization/);
		}
		// With a token, the same bodies are judged: 400 naming the field.
		const bad = await call('POST', '/api/v1/admin/projects', ADMIN, { slug: '' });
		expect(bad.statusCode).toBe(400);
		expect(bad.json().message).toMatch(/slug/);
	});

	it('refuses tampered, foreign and expired session tokens', async () => {
		const [h, p, s] = adminSession.split('.') as [string, string, string];
		const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
		const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: '00000000-0000-0000-0000-000000000000' })).toString('base64url')}.${s}`;
		expect((await call('GET', '/api/v1/projects', forged)).statusCode).toBe(401);
		const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${p}.`;
		expect((await call('GET', '/api/v1/projects', none)).statusCode).toBe(401);
		const expired = t.app.jwt.sign({ sub: claims.sub, sv: claims.sv }, { expiresIn: -10 });
		const res = await call('GET', '/api/v1/projects', expired);
		expect(res.statusCode).toBe(401);
		expect(res.json().message).toBe('Your session has expired; sign in again.');
		const refreshed = await call('POST', '/api/v1/auth/refresh', adminSession);
		expect(refreshed.statusCode).toBe(200);
		expect((await call('GET', '/api/v1/projects', refreshed.json().token)).statusCode).toBe(200);
	});

	it('answers 401, never a database error, for a correctly signed token whose claims are not a session’s', async () => {
		const claims = JSON.parse(Buffer.from(adminSession.split('.')[1]!, 'base64url').toString()) as { sub: string; sv: string };
		const odd: Array<[string, Record<string, unknown>]> = [
			['sub not a uuid', { sub: 'not-a-uuid', sv: claims.sv }],
			['sub with a quote', { sub: "x' OR '1'='1", sv: claims.sv }],
			['sub a number', { sub: 12345, sv: claims.sv }],
			['sv missing', { sub: claims.sub }],
			['sv not a string', { sub: claims.sub, sv: 7 }]
		];
		for (const [name, payload] of odd) {
			const token = t.app.jwt.sign(payload);
			for (const url of ['/api/v1/projects', '/api/v1/auth/me', '/api/v1/admin/health']) {
				const res = await call('GET', url, token);
				expect({ name, url, status: res.statusCode }).toEqual({ name, url, status: 401 });
				expect(res.json().message).toMatch(/^Invalid token/);
			}
		}
	});

	it('changes your own password only with the current one, and ends other sessions', async () => {
		const bad = await call('POST', '/api/v1/auth/password', adminSession, { currentPassword: 'wrong-password', newPassword: 'a-new-password-123' });
		expect(bad.statusCode).toBe(400);
		const ok = await call('POST', '/api/v1/auth/password', adminSession, { currentPassword: ADMIN_PASSWORD, newPassword: 'a-new-password-123' });
		expect(ok.statusCode).toBe(200);
		expect((await call('GET', '/api/v1/projects', adminSession)).statusCode).toBe(401);
		expect((await call('GET', '/api/v1/projects', ok.json().token)).statusCode).toBe(200);
		adminSession = ok.json().token;
	});

	it('records quarantines with the e-mail of the admin who set them', async () => {
		const { rows } = await t.db.pool.query(
			`INSERT INTO tests (project_id, key, file, title_path, title) SELECT id, repeat('a', 64), 'a.spec.ts', ARRAY['a'], 'a' FROM projects LIMIT 1 RETURNING id`
		);
		const testId = rows[0].id as string;
		const q = await call('POST', `/api/v1/tests/${testId}/quarantine`, adminSession, { reason: 'noisy' });
		expect(q.statusCode).toBe(201);
		expect((await call('GET', `/api/v1/tests/${testId}`, adminSession)).json().quarantine.createdBy).toBe('root@example.com');
	});

	it('validates thresholds and keeps only the keys that were set', async () => {
		const p = await newProject(t, `tuned-${backend}`);
		const initial = (await call('GET', `/api/v1/projects/${p.id}/settings`, adminSession)).json();
		expect(initial.stored).toEqual({});
		expect(initial.effective.analysis.halfLifeDays).toBe(14);
		expect(initial.effective.defaultBranches).toEqual(['main', 'master']);

		const bad = await call('PUT', `/api/v1/projects/${p.id}/settings`, adminSession, { analysis: { credibleMass: 2 } });
		expect(bad.statusCode).toBe(400);
		expect(bad.json().message).toMatch(/^body\.analysis\.credibleMass: /);
		const unknown = await call('PUT', `/api/v1/projects/${p.id}/settings`, adminSession, { analysis: { wobble: 1 } });
		expect(unknown.statusCode).toBe(400);

		const saved = await call('PUT', `/api/v1/projects/${p.id}/settings`, adminSession, {
			analysis: { halfLifeDays: 30, minMixedCommits: 2 },
			infraGuard: { failureShare: 0.4 },
			defaultBranch: 'develop'
		});
		expect(saved.statusCode).toBe(200);
		expect(saved.json().stored).toEqual({ analysis: { halfLifeDays: 30, minMixedCommits: 2 }, infraGuard: { failureShare: 0.4 }, defaultBranch: 'develop' });
		expect(saved.json().effective.analysis).toMatchObject({ halfLifeDays: 30, minMixedCommits: 2, priorAlpha: 0.5 });
		expect(saved.json().effective.defaultBranches).toEqual(['develop']);
		const cleared = await call('PUT', `/api/v1/projects/${p.id}/settings`, adminSession, {});
		expect(cleared.json().stored).toEqual({});
	});
});

describe('first start', () => {
	it('creates admin@localhost with a generated password, printed once, and a session secret that survives restarts', async () => {
		const dir = await mkdtemp(path.join(tmpdir(), 'fk-secret-'));
		try {
			const config = loadConfig({ DATA_DIR: dir });
			const [a, b] = await Promise.all([sessionSecret(config), sessionSecret(config)]);
			expect(a).toBe(b);
			expect(a.length).toBeGreaterThanOrEqual(32);
			expect(await sessionSecret(config)).toBe(a);
			expect((await readFile(path.join(dir, 'session-secret'), 'utf8')).trim()).toBe(a);
			expect(await sessionSecret(loadConfig({ DATA_DIR: dir, JWT_SECRET: SECRET }))).toBe(SECRET);
		} finally {
			await rm(dir, { recursive: true, force: true });
		}

		const t = await buildTestApp('pglite', { JWT_SECRET: SECRET, DEMO: 'false' });
		try {
			const first = await bootstrap(t.db, t.config);
			expect(first.adminUser?.email).toBe('admin@localhost');
			const password = first.adminUser!.password!;
			expect(password).toHaveLength(20);
			const banner = firstStartBanner(first, 'http://127.0.0.1:3000');
			expect(banner).toContain('sign in as admin@localhost');
			expect(banner).toContain(password);
			expect((await bootstrap(t.db, t.config)).adminUser).toBeUndefined();
			const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'admin@localhost', password } });
			expect(res.statusCode).toBe(200);
			const { rows } = await t.db.pool.query(`SELECT password_hash FROM users`);
			expect(rows[0].password_hash).not.toContain(password);
		} finally {
			await t.close();
		}
	});
});
