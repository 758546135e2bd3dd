import { afterEach, describe, expect, it } from 'vitest';
import { closedPortUrl, startFakeServer, type Fault, type FakeServer } from '../test/helpers/fake-server.js';
import HttpClient, { backoffDelay, parseRetryAfter, type HttpClientOptions } from './http-client.js';
import { UploadError } from './upload-error.js';
import { PROTOCOL_HEADER, PROTOCOL_VERSION } from './protocol.js';

let server: FakeServer | undefined;
const clients: HttpClient[] = [];

afterEach(async () => {
	await Promise.all(clients.splice(0).map((c) => c.close()));
	await server?.close();
	server = undefined;
});

/** A client whose waits are recorded, not slept. */
function client(baseUrl: string, extra: Partial<HttpClientOptions> = {}) {
	const delays: number[] = [];
	const c = new HttpClient({
		baseUrl,
		token: 'test-token',
		requestTimeoutMs: 2000,
		random: () => 0.5,
		sleep: async (ms) => {
			delays.push(ms);
		},
		...extra
	});
	clients.push(c);
	return { c, delays };
}

async function serve(fault: Fault) {
	server = await startFakeServer(fault);
	return server;
}

const open = { method: 'POST' as const, path: '/api/v1/runs', json: { ci: {} }, idempotencyKey: 'key-123456' };

async function failure(p: Promise<unknown>): Promise<UploadError> {
	try {
		await p;
	} catch (err) {
		expect(err).toBeInstanceOf(UploadError);
		return err as UploadError;
	}
	throw new Error('expected the request to fail');
}

describe('HttpClient', () => {
	it('retries 5xx with exponential backoff and the same idempotency key, then succeeds', async () => {
		const s = await serve((_req, i) => (i < 3 ? { status: 503 } : undefined));
		const { c, delays } = client(s.url);
		const res = await c.request(open);
		expect(res.status).toBe(201);
		expect(s.requests).toHaveLength(4);
		expect(delays).toEqual([backoffDelay(1, 500, 8000, () => 0.5), backoffDelay(2, 500, 8000, () => 0.5), backoffDelay(3, 500, 8000, () => 0.5)]);
		expect(delays[1]).toBeGreaterThan(delays[0]!);
		expect(new Set(s.requests.map((r) => r.headers['idempotency-key']))).toEqual(new Set(['key-123456']));
		expect(s.requests.every((r) => r.headers.authorization === 'Bearer test-token')).toBe(true);
		expect(s.requests.every((r) => r.headers[PROTOCOL_HEADER] === String(PROTOCOL_VERSION))).toBe(true);
	});

	it('honours Retry-After on 429', async () => {
		const s = await serve((_req, i) => (i === 0 ? { status: 429, headers: { 'retry-after': '3' } } : undefined));
		const { c, delays } = client(s.url);
		await c.request(open);
		expect(delays).toEqual([3000]);
		expect(s.requests).toHaveLength(2);
	});

	it('gives up instead of waiting for a Retry-After longer than it accepts', async () => {
		const s = await serve(() => ({ status: 429, headers: { 'retry-after': '120' } }));
		const { c, delays } = client(s.url, { maxRetryAfterMs: 60_000 });
		const err = await failure(c.request(open));
		expect(err.status).toBe(429);
		expect(delays).toEqual([]);
		expect(s.requests).toHaveLength(1);
	});

	it.each([400, 401, 403, 404, 413])('does not retry HTTP %i', async (status) => {
		const s = await serve(() => ({ status, body: { statusCode: status, error: 'E', message: 'nope' } }));
		const { c } = client(s.url);
		const err = await failure(c.request(open));
		expect(err.status).toBe(status);
		expect(err.fatal).toBe(true);
		expect(err.message).toContain(`HTTP ${status}: nope`);
		expect(s.requests).toHaveLength(1);
	});

	it('retries a refused connection up to maxAttempts and says so', async () => {
		const { c, delays } = client(await closedPortUrl(), { maxAttempts: 3 });
		const err = await failure(c.request(open));
		expect(err.kind).toBe('network');
		expect(err.message).toBe('connection refused');
		expect(delays).toHaveLength(2);
	});

	it('retries a connection the server drops', async () => {
		const s = await serve((_req, i) => (i === 0 ? 'destroy' : undefined));
		const { c } = client(s.url);
		expect((await c.request(open)).status).toBe(201);
		expect(s.requests).toHaveLength(2);
	});

	it('times out a hanging server and abandons everything at the deadline', async () => {
		const s = await serve(() => 'hang');
		const c = new HttpClient({ baseUrl: s.url, token: 'test-token', requestTimeoutMs: 300, maxAttempts: 100, baseDelayMs: 50, maxDelayMs: 100 });
		clients.push(c);
		const started = Date.now();
		c.armDeadline(1500);
		const err = await failure(c.request(open));
		expect(err.kind).toBe('deadline');
		expect(err.message).toContain('no response in time');
		expect(s.requests.length).toBeGreaterThan(1);
		expect(Date.now() - started).toBeLessThan(10_000);
	});

	it('does not start a retry it could not finish before the deadline', async () => {
		const s = await serve(() => ({ status: 429, headers: { 'retry-after': '30' } }));
		const { c, delays } = client(s.url);
		c.armDeadline(5000);
		const err = await failure(c.request(open));
		expect(err.status).toBe(429);
		expect(delays).toEqual([]);
	});

	it('ends the waits of retrying requests when attempts are limited (the end of a run with a failing server)', async () => {
		const s = await serve(() => ({ status: 503 }));
		let limited = false;
		// Before the limit, a wait lasts until something ends it; after, waits are instant.
		const waitUntilWoken = (_ms: number, signal: AbortSignal) =>
			limited ? Promise.resolve() : new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('woken'))));
		const c = new HttpClient({ baseUrl: s.url, token: 'test-token', requestTimeoutMs: 2000, maxAttempts: 10, sleep: waitUntilWoken });
		clients.push(c);
		const pending = c.request(open);
		for (let i = 0; i < 200 && s.requests.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
		expect(c.failing).toBe(true);
		limited = true;
		c.limitAttempts(2);
		const err = await failure(pending);
		expect(err.status).toBe(503);
		expect(s.requests).toHaveLength(2);
		// Later requests get the same short budget.
		await failure(c.request(open));
		expect(s.requests).toHaveLength(4);
	});

	it('never puts the token in an error message', async () => {
		const s = await serve(() => ({ status: 401, body: { statusCode: 401, error: 'Unauthorized', message: 'invalid token' } }));
		const { c } = client(s.url);
		const err = await failure(c.request(open));
		expect(`${err.message} ${err.stack}`).not.toContain('test-token');
	});
});

describe('backoffDelay', () => {
	it('doubles up to the cap, with jitter between half and all of it', () => {
		expect(backoffDelay(1, 500, 8000, () => 0)).toBe(250);
		expect(backoffDelay(1, 500, 8000, () => 1)).toBe(500);
		expect(backoffDelay(3, 500, 8000, () => 1)).toBe(2000);
		expect(backoffDelay(10, 500, 8000, () => 1)).toBe(8000);
	});
});

describe('parseRetryAfter', () => {
	it('reads seconds and HTTP dates', () => {
		expect(parseRetryAfter('2')).toBe(2000);
		expect(parseRetryAfter('0.5')).toBe(500);
		const now = Date.parse('2026-01-01T00:00:00Z');
		expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000);
		expect(parseRetryAfter('soon')).toBeUndefined();
		expect(parseRetryAfter(undefined)).toBeUndefined();
	});
});
