import { Agent, get as httpGet, request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { ADMIN, counts, newProject } from '../helpers/ingest.js';

/**
 * POSTs `body` and answers the status once both the answer has arrived and the whole body has been
 * taken by the server: a body the server stops reading never finishes sending.
 */
function postAll(url: string, headers: Record<string, string>, body: Buffer, agent: Agent): Promise<{ status: number; json: { statusCode: number } }> {
	return new Promise((resolve, reject) => {
		let answer: { status: number; json: { statusCode: number } } | undefined;
		let sent = false;
		const settle = () => answer && sent && resolve(answer);
		const req = httpRequest(url, { method: 'POST', headers, agent }, (res) => {
			let text = '';
			res.setEncoding('utf8');
			res.on('data', (c: string) => (text += c));
			res.on('end', () => {
				answer = { status: res.statusCode ?? 0, json: JSON.parse(text) as { statusCode: number } };
				settle();
			});
		});
		req.on('error', reject);
		req.end(body, () => {
			sent = true;
			settle();
		});
	});
}

/** GET on the given agent: with one keep-alive socket, it reuses the connection of the request before. */
function getStatus(url: string, agent: Agent): Promise<number> {
	return new Promise((resolve, reject) => {
		httpGet(url, { agent, timeout: 5000 }, (res) => {
			res.resume();
			res.on('end', () => resolve(res.statusCode ?? 0));
		})
			.on('timeout', () => reject(new Error('the connection was left stalled')))
			.on('error', reject);
	});
}

describe('early refusals and malformed multipart on a listening server', () => {
	let t: TestApp;
	let url: string;
	let token: string;
	beforeAll(async () => {
		t = await buildTestApp('postgres', { ADMIN_TOKEN: ADMIN });
		({ token } = await newProject(t, 'early'));
		url = await t.app.listen({ host: '127.0.0.1', port: 0 });
	});
	afterAll(async () => t.close());

	// Bigger than BODY_LIMIT and than what socket buffers absorb: unread, it would stall the client.
	const big = Buffer.alloc(24 * 1024 * 1024, 0x20);
	const auth = () => ({ authorization: `Bearer ${token}` });

	it.each([
		['an unsupported Content-Encoding', () => ({ ...auth(), 'content-type': 'application/json', 'content-encoding': 'br' }), 415],
		['an unsupported Content-Type', () => ({ ...auth(), 'content-type': 'application/octet-stream' }), 415],
		['a text/plain body', () => ({ ...auth(), 'content-type': 'text/plain' }), 415],
		['a body over BODY_LIMIT', () => ({ ...auth(), 'content-type': 'application/json' }), 413],
		['no token', () => ({ 'content-type': 'application/json' }), 401]
	])('answers %s promptly to a client that sends its whole body first', async (_name, headers, status) => {
		const before = await counts(t);
		const started = performance.now();
		const agent = new Agent({ keepAlive: true, maxSockets: 1 });
		const res = await postAll(`${url}/api/v1/reports`, headers(), big, agent);
		expect(res.status).toBe(status);
		expect(res.json.statusCode).toBe(status);
		expect(performance.now() - started).toBeLessThan(10_000);
		// undici with a Blob body sends it all before it reads: the case that hung.
		const viaFetch = await fetch(`${url}/api/v1/reports`, { method: 'POST', headers: headers(), body: new Blob([big]) });
		expect(viaFetch.status).toBe(status);
		expect(((await viaFetch.json()) as { statusCode: number }).statusCode).toBe(status);
		// The same connection, drained, serves the next request.
		expect(await getStatus(`${url}/health`, agent)).toBe(200);
		agent.destroy();
		expect(await counts(t)).toEqual(before);
	});

	it('answers 400 to multipart without a boundary, storing nothing', async () => {
		const before = await counts(t);
		const res = await fetch(`${url}/api/v1/reports`, {
			method: 'POST',
			headers: { ...auth(), 'content-type': 'multipart/form-data' },
			body: '--x\r\n\r\n'
		});
		expect(res.status).toBe(400);
		expect(((await res.json()) as { message: string }).message).toMatch(/multipart.*Boundary not found/);
		expect(await counts(t)).toEqual(before);
	});

	it('answers 400 to a multipart body cut off mid-part, storing nothing', async () => {
		const before = await counts(t);
		const head = [
			'--b0undary',
			'Content-Disposition: form-data; name="branch"',
			'',
			'main',
			'--b0undary',
			'Content-Disposition: form-data; name="report"; filename="results.json"',
			'Content-Type: application/json',
			'',
			'{"suites": ['
		].join('\r\n');
		const res = await fetch(`${url}/api/v1/reports`, {
			method: 'POST',
			headers: { authorization: `Bearer ${token}`, 'content-type': 'multipart/form-data; boundary=b0undary' },
			body: head
		});
		expect(res.status).toBe(400);
		expect(((await res.json()) as { message: string }).message).toMatch(/multipart/i);
		expect(await counts(t)).toEqual(before);
	});
});
