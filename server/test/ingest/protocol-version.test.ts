import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import HttpClient from '../../../reporter/src/http-client.js';
import { PROTOCOL_HEADER, PROTOCOL_VERSION } from 'flackyness-reporter/protocol';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { ADMIN, newProject } from '../helpers/ingest.js';

/** The reporter names its protocol version on every request; a server that does not speak it says which side to upgrade. */
describe('protocol version', () => {
	let t: TestApp;
	let url: string;
	let project: { id: string; token: string };
	beforeAll(async () => {
		t = await buildTestApp('postgres', { ADMIN_TOKEN: ADMIN });
		project = await newProject(t, 'proto');
		url = await t.app.listen({ host: '127.0.0.1', port: 0 });
	});
	afterAll(async () => t.close());

	const open = (headers: Record<string, string>) =>
		fetch(`${url}/api/v1/runs`, {
			method: 'POST',
			headers: { authorization: `Bearer ${project.token}`, 'content-type': 'application/json', ...headers },
			body: JSON.stringify({ ci: { branch: 'main', commitSha: 'abc1234', pipelineId: '1', jobId: String(Math.random()) } })
		});

	it('the server takes the version the reporter sends, and requests without one', async () => {
		const http = new HttpClient({ baseUrl: url, token: project.token, requestTimeoutMs: 10_000, maxAttempts: 1 });
		try {
			const res = await http.request({ method: 'POST', path: '/api/v1/runs', json: { ci: { branch: 'main', commitSha: 'abc1234', pipelineId: '1', jobId: '1' } } });
			expect(res.status).toBe(201);
		} finally {
			await http.close();
		}
		expect((await open({ [PROTOCOL_HEADER]: String(PROTOCOL_VERSION) })).status).toBe(201);
		// Without the header (curl, older clients): version 1.
		expect((await open({})).status).toBe(201);
	});

	it('refuses a newer protocol with a 400 that says to upgrade the server, and stores nothing', async () => {
		const before = await t.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM runs');
		const res = await open({ [PROTOCOL_HEADER]: String(PROTOCOL_VERSION + 1) });
		expect(res.status).toBe(400);
		const body = (await res.json()) as { message: string };
		expect(body.message).toContain(`protocol ${PROTOCOL_VERSION + 1}`);
		expect(body.message).toMatch(/upgrade the Flackyness server/);
		const after = await t.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM runs');
		expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
	});

	it('refuses a version that is not a number, or zero', async () => {
		for (const value of ['two', '1.5', '0', '-1', '9'.repeat(40)]) {
			const res = await open({ [PROTOCOL_HEADER]: value });
			expect(res.status, value).toBe(400);
			expect(((await res.json()) as { message: string }).message, value).toMatch(/protocol/i);
		}
	});
});
