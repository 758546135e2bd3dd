import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { ADMIN } from '../helpers/ingest.js';

/**
 * What the SvelteKit dashboard mounted by server.ts relies on, seen through a stand-in route
 * registered the way server.ts registers the dashboard's: after the application plugin.
 */
describe('the mounted dashboard', () => {
	let t: TestApp;
	const seen: { body: unknown; unread: boolean; headers: Record<string, unknown> }[] = [];

	beforeAll(async () => {
		t = await buildTestApp('pglite', { ADMIN_TOKEN: ADMIN, JWT_SECRET: 'mount-test-secret-0123456789abcdef-0123' }, (scope) => {
			scope.route({
				method: ['GET', 'POST'],
				url: '/dashboard-stand-in',
				handler: async (request) => {
					const chunks: Buffer[] = [];
					for await (const c of request.raw) chunks.push(c as Buffer);
					seen.push({ body: request.body, unread: chunks.length > 0, headers: { ...request.raw.headers } });
					return { ok: true };
				}
			});
		});
	});
	afterAll(async () => t.close());

	it('gets form posts with their bodies unread, for SvelteKit to parse', async () => {
		for (const type of ['application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'text/plain']) {
			const res = await t.app.inject({ method: 'POST', url: '/dashboard-stand-in', headers: { 'content-type': type }, payload: 'email=a%40b.c' });
			expect(res.statusCode).toBe(200);
		}
		expect(seen.map((s) => [s.body, s.unread])).toEqual([
			[undefined, true],
			[undefined, true],
			[undefined, true]
		]);
	});

	it('learns the protocol, host and client address from Fastify, whatever the client claims', async () => {
		seen.length = 0;
		await t.app.inject({
			method: 'GET',
			url: '/dashboard-stand-in',
			headers: { host: 'flackyness.example.com:8080', 'x-flackyness-proto': 'https', 'x-flackyness-address': '6.6.6.6' }
		});
		expect(seen[0]!.headers).toMatchObject({
			'x-flackyness-proto': 'http',
			'x-flackyness-host': 'flackyness.example.com:8080',
			'x-flackyness-address': '127.0.0.1'
		});
		expect(process.env).toMatchObject({ PROTOCOL_HEADER: 'x-flackyness-proto', HOST_HEADER: 'x-flackyness-host', ADDRESS_HEADER: 'x-flackyness-address' });
	});

	it('leaves the API refusing form posts', async () => {
		const res = await t.app.inject({
			method: 'POST',
			url: '/api/v1/admin/projects',
			headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/x-www-form-urlencoded' },
			payload: 'slug=web'
		});
		expect(res.statusCode).toBe(415);
		const login = await t.app.inject({
			method: 'POST',
			url: '/api/v1/auth/login',
			headers: { 'content-type': 'application/x-www-form-urlencoded' },
			payload: 'email=a%40b.c&password=x'
		});
		expect(login.statusCode).toBe(415);
	});
});
