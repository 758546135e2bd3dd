/**
 * Session renewal and expiry through the dashboard, on a server whose sessions last one minute:
 * a page request in the second half of a session's life renews the cookie; a session that has run
 * out sends the person to sign in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase, type TestDatabase } from '../../server/test/helpers/db.js';
import { startServer, type ServerProcess } from '../../server/test/helpers/server-process.js';

let db: TestDatabase;
let server: ServerProcess;

const claims = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { iat: number; exp: number };
const sessionOf = (res: Response) => /flackyness_session=([^;]*)/.exec(res.headers.get('set-cookie') ?? '')?.[1];

describe('dashboard sessions', () => {
	beforeAll(async () => {
		db = await createPostgresDatabase();
		server = await startServer({ DATABASE_URL: db.url, DEMO: 'false', ADMIN_EMAIL: 'a@example.com', ADMIN_PASSWORD: 'a-long-password', SESSION_MINUTES: '1' });
	});
	afterAll(async () => {
		await server?.stop();
		await db?.destroy();
	});

	it('renews a session in use and ends one that ran out', async () => {
		const login = await fetch(`${server.url}/login`, {
			method: 'POST',
			redirect: 'manual',
			headers: { origin: server.url, accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
			body: 'email=a%40example.com&password=a-long-password'
		});
		expect(login.status).toBe(303);
		const first = sessionOf(login)!;
		expect(claims(first).exp - claims(first).iat).toBe(60);
		expect(login.headers.get('set-cookie')).toMatch(/HttpOnly/i);
		expect(login.headers.get('set-cookie')).toMatch(/SameSite=Lax/i);

		const page = (token: string) => fetch(`${server.url}/`, { redirect: 'manual', headers: { cookie: `flackyness_session=${token}` } });
		const early = await page(first);
		expect(early.status).toBe(200);
		expect(sessionOf(early)).toBeUndefined();

		await new Promise((r) => setTimeout(r, 32_000));
		const later = await page(first);
		expect(later.status).toBe(200);
		const renewed = sessionOf(later)!;
		expect(renewed).toBeDefined();
		expect(claims(renewed).exp).toBeGreaterThan(claims(first).exp);

		await new Promise((r) => setTimeout(r, 30_000));
		const expired = await page(first);
		expect(expired.status).toBe(303);
		expect(expired.headers.get('location')).toBe('/login');
		expect(sessionOf(expired)).toBe('');
		expect((await page(renewed)).status).toBe(200);
	}, 120_000);
});
