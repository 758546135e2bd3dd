import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/db.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { ADMIN, counts, newProject } from '../helpers/ingest.js';
import { makeReport } from '../helpers/report-factory.js';

describe.each(BACKENDS)('X-Flackyness-Idempotency-Key on %s', (backend) => {
	let t: TestApp;
	let token: string;
	beforeAll(async () => {
		t = await buildTestApp(backend, { ADMIN_TOKEN: ADMIN });
		({ token } = await newProject(t, 'idem'));
	});
	afterAll(async () => t.close());

	const upload = (body: Buffer | string, key: string, headers: Record<string, string> = {}) =>
		t.app.inject({
			method: 'POST',
			url: '/api/v1/reports',
			headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-flackyness-idempotency-key': key, ...headers },
			payload: body
		});

	it('answers 200 with the same run for the same report, gzipped or not, and 409 for another report', async () => {
		const report = JSON.stringify(makeReport({ tests: 3, seed: 1 }));
		const other = JSON.stringify(makeReport({ tests: 4, seed: 2 }));
		const first = await upload(report, 'job-key-0001');
		expect(first.statusCode).toBe(201);
		const again = await upload(report, 'job-key-0001');
		expect(again.statusCode).toBe(200);
		expect(again.json().runId).toBe(first.json().runId);
		const gzipped = await upload(gzipSync(report), 'job-key-0001', { 'content-encoding': 'gzip' });
		expect(gzipped.statusCode).toBe(200);
		expect(gzipped.json().runId).toBe(first.json().runId);

		const before = await counts(t);
		const reused = await upload(other, 'job-key-0001');
		expect(reused.statusCode).toBe(409);
		expect(reused.json().message).toMatch(/idempotency key "job-key-0001".*already used for another report/);
		expect(await counts(t)).toEqual(before);

		const fresh = await upload(other, 'job-key-0002');
		expect(fresh.statusCode).toBe(201);
	});
});
