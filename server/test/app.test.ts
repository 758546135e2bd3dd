import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { buildTestApp, type TestApp } from './helpers/app.js';

describe('the application plugin', () => {
	let t: TestApp;
	beforeAll(async () => {
		t = await buildTestApp('pglite');
	});
	afterAll(async () => {
		await t.close();
	});

	it('answers /health with the migration state', async () => {
		const res = await t.app.inject({ method: 'GET', url: '/health' });
		expect(res.statusCode).toBe(200);
		expect(res.json()).toMatchObject({ status: 'ok', database: { reachable: true, embedded: true }, migrations: { pending: [] } });
	});

	it('answers unknown routes with a JSON 404', async () => {
		const res = await t.app.inject({ method: 'GET', url: '/api/v1/nothing-here?x=1' });
		expect(res.statusCode).toBe(404);
		expect(res.headers['content-type']).toMatch(/application\/json/);
		expect(res.json()).toMatchObject({ statusCode: 404, error: 'Not Found', message: 'No route for GET /api/v1/nothing-here' });
	});

	it('sends a strict CSP and no CORS headers by default', async () => {
		const res = await t.app.inject({ method: 'GET', url: '/health', headers: { origin: 'https://evil.example' } });
		expect(res.headers['content-security-policy']).toContain("default-src 'none'");
		expect(res.headers['x-content-type-options']).toBe('nosniff');
		expect(res.headers['access-control-allow-origin']).toBeUndefined();
	});
});

describe('errors', () => {
	let t: TestApp;
	beforeAll(async () => {
		// Routes that exist only to exercise the error handler, registered like any other route.
		t = await buildTestApp('pglite', { CORS_ORIGINS: 'https://ci.example.com' }, (scope) => {
			const app = scope.withTypeProvider<ZodTypeProvider>();
			app.post('/boom', async () => {
				throw new Error('secret internal detail');
			});
			app.post(
				'/validate',
				{ schema: { body: z.object({ items: z.array(z.object({ n: z.number().int() })) }) } },
				async (req) => ({ count: req.body.items.length })
			);
		});
	}, 120_000);
	afterAll(async () => {
		await t.close();
	});

	it('hides a 5xx message and answers with the request id', async () => {
		const res = await t.app.inject({ method: 'POST', url: '/boom' });
		expect(res.statusCode).toBe(500);
		const body = res.json();
		expect(body.message).not.toContain('secret internal detail');
		expect(body.requestId).toBeTruthy();
		expect(body.message).toContain(body.requestId);
	});

	it('names the path of the first bad field in a 400', async () => {
		const res = await t.app.inject({ method: 'POST', url: '/validate', payload: { items: [{ n: 1 }, { n: 'two' }] } });
		expect(res.statusCode).toBe(400);
		expect(res.json().message).toMatch(/^body\.items\[1\]\.n: /);
	});

	it('answers malformed JSON with a 400 that says so', async () => {
		const res = await t.app.inject({
			method: 'POST',
			url: '/validate',
			headers: { 'content-type': 'application/json' },
			payload: '{"items": [1,'
		});
		expect(res.statusCode).toBe(400);
		expect(res.json().message).toMatch(/not valid JSON/);
	});

	it('allows CORS only for configured origins', async () => {
		const ok = await t.app.inject({ method: 'GET', url: '/health', headers: { origin: 'https://ci.example.com' } });
		expect(ok.headers['access-control-allow-origin']).toBe('https://ci.example.com');
		const other = await t.app.inject({ method: 'GET', url: '/health', headers: { origin: 'https://evil.example' } });
		expect(other.headers['access-control-allow-origin']).toBeUndefined();
	});
});
