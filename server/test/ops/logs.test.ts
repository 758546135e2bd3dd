import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase, type TestDatabase } from '../helpers/db.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { makeReport } from '../helpers/report-factory.js';

const ADMIN = 'log-test-admin-token-0123456789abcdef';

describe('logs', () => {
	let t: TestDatabase;
	let s: ServerProcess;
	beforeAll(async () => {
		t = await createPostgresDatabase();
		s = await startServer({ DATABASE_URL: t.url, ADMIN_TOKEN: ADMIN, DEMO: 'false', LOG_LEVEL: 'trace' });
	});
	afterAll(async () => {
		await s?.stop();
		await t?.destroy();
	});

	it('carry structured events for ingestion, auth failures and rate limits, and never a token', async () => {
		const created = await fetch(`${s.url}/api/v1/admin/projects`, {
			method: 'POST',
			headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
			body: JSON.stringify({ slug: 'logged' })
		});
		const { token } = (await created.json()) as { token: string };
		const rotated = await fetch(`${s.url}/api/v1/admin/projects/logged/rotate-token`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` } });
		const { token: second } = (await rotated.json()) as { token: string };
		const wrong = 'flk_p_this-is-a-wrong-token-0123456789';
		const headers = (tok: string) => ({ authorization: `Bearer ${tok}`, 'content-type': 'application/json' });
		const body = JSON.stringify(makeReport({ tests: 3 }));
		expect((await fetch(`${s.url}/api/v1/reports`, { method: 'POST', headers: headers(token), body })).status).toBe(201);
		expect((await fetch(`${s.url}/api/v1/reports?branch=x`, { method: 'POST', headers: headers(wrong), body })).status).toBe(401);
		expect((await fetch(`${s.url}/api/v1/runs`, { method: 'POST', headers: headers(second), body: '{"ci": {"branch": 5}}' })).status).toBe(400);
		// A token pasted into a URL must not reach the log either.
		const pasted = await fetch(`${s.url}/api/v1/projects?access_token=${second}`, { headers: headers(wrong) });
		expect(pasted.status).toBe(401);
		// Let pino flush.
		await new Promise((r) => setTimeout(r, 500));
		const out = s.output().stdout + s.output().stderr;
		for (const secret of [ADMIN, token, second, wrong]) expect(out).not.toContain(secret);
		for (const secret of [token, second, wrong]) expect(out).not.toContain(secret.slice(6));
		const events = out
			.split('\n')
			.filter((l) => l.startsWith('{'))
			.map((l) => JSON.parse(l) as { event?: string; msg: string; req?: { headers?: Record<string, string> } });
		expect(events.some((e) => e.event === 'report.ingested')).toBe(true);
		expect(events.some((e) => e.event === 'auth.failed')).toBe(true);
		expect(events.some((e) => e.event === 'token.rotated')).toBe(true);
	});
});
