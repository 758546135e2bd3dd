import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { ADMIN, newProject } from '../helpers/ingest.js';
import { makeReport } from '../helpers/report-factory.js';

describe('admin API', () => {
	let t: TestApp;
	beforeAll(async () => {
		// A higher admin limit than the default 20 leaves room for this file's own calls; the last test
		// checks that the limit holds.
		t = await buildTestApp('postgres', { ADMIN_TOKEN: ADMIN, RATE_LIMIT_ADMIN: '40' });
	});
	afterAll(async () => t.close());

	const admin = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object, token = ADMIN) =>
		t.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });

	it('creates a project and answers its token once; only the hash is stored', async () => {
		const res = await admin('POST', '/api/v1/admin/projects', { slug: 'shop', name: 'Shop' });
		expect(res.statusCode).toBe(201);
		const body = res.json();
		expect(body.project).toMatchObject({ slug: 'shop', name: 'Shop', isDemo: false });
		expect(body.token).toMatch(/^flk_p_/);
		expect(body.prefix).toBe(body.token.slice(0, 12));
		const { rows } = await t.db.pool.query(`SELECT token_hash, prefix FROM api_tokens WHERE id = $1`, [body.tokenId]);
		expect(rows[0].token_hash).not.toContain(body.token);
		expect(rows[0].token_hash).toMatch(/^[0-9a-f]{64}$/);

		const dup = await admin('POST', '/api/v1/admin/projects', { slug: 'shop' });
		expect(dup.statusCode).toBe(409);
		const bad = await admin('POST', '/api/v1/admin/projects', { slug: 'Not A Slug!' });
		expect(bad.statusCode).toBe(400);
		expect(bad.json().message).toMatch(/^body\.slug: /);
	});

	it('lists projects with stats, rotates and revokes tokens, and deletes a project with its data', async () => {
		const p = await newProject(t, 'rotating');
		const upload = (token: string, seed: number) =>
			t.app.inject({
				method: 'POST',
				url: '/api/v1/reports',
				headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
				payload: JSON.stringify(makeReport({ tests: 5, seed, titlePrefix: `s${seed} ` }))
			});
		expect((await upload(p.token, 1)).statusCode).toBe(201);

		const list = await admin('GET', '/api/v1/admin/projects');
		const entry = list.json().projects.find((x: { slug: string }) => x.slug === 'rotating');
		expect(entry).toMatchObject({ runs: 1, tests: 5, activeTokens: 1 });

		const rotated = await admin('POST', '/api/v1/admin/projects/rotating/rotate-token');
		expect(rotated.statusCode).toBe(201);
		const fresh = rotated.json().token;
		// Rotation keeps the old token valid until it is revoked.
		expect((await upload(p.token, 2)).statusCode).toBe(201);
		expect((await upload(fresh, 3)).statusCode).toBe(201);

		const tokens = (await admin('GET', `/api/v1/admin/projects/${p.id}/tokens`)).json().tokens;
		expect(tokens).toHaveLength(2);
		expect(JSON.stringify(tokens)).not.toContain(fresh);
		const old = tokens.find((x: { id: string }) => x.id !== rotated.json().tokenId);
		expect((await admin('DELETE', `/api/v1/admin/projects/rotating/tokens/${old.id}`)).statusCode).toBe(204);
		expect((await admin('DELETE', `/api/v1/admin/projects/rotating/tokens/${old.id}`)).statusCode).toBe(404);
		expect((await upload(p.token, 4)).statusCode).toBe(401);

		expect((await admin('DELETE', '/api/v1/admin/projects/rotating')).statusCode).toBe(204);
		const left = await t.db.pool.query(
			`SELECT (SELECT count(*)::int FROM runs WHERE project_id = $1) AS runs, (SELECT count(*)::int FROM tests WHERE project_id = $1) AS tests`,
			[p.id]
		);
		expect(left.rows[0]).toEqual({ runs: 0, tests: 0 });
		expect((await admin('DELETE', '/api/v1/admin/projects/rotating')).statusCode).toBe(404);
	});

	it('renames a project, refusing a slug that is taken', async () => {
		await admin('POST', '/api/v1/admin/projects', { slug: 'old-name' });
		const res = await admin('PATCH', '/api/v1/admin/projects/old-name', { name: 'New name', slug: 'new-name' });
		expect(res.statusCode).toBe(200);
		expect(res.json().project).toMatchObject({ slug: 'new-name', name: 'New name' });
		expect((await admin('PATCH', '/api/v1/admin/projects/new-name', { slug: 'shop' })).statusCode).toBe(409);
		expect((await admin('PATCH', '/api/v1/admin/projects/new-name', {})).statusCode).toBe(400);
	});

	it('reports system health', async () => {
		const res = await admin('GET', '/api/v1/admin/health');
		expect(res.statusCode).toBe(200);
		const body = res.json();
		expect(body.databaseBytes).toBeGreaterThan(0);
		expect(body.tables.map((x: { table: string }) => x.table)).toContain('test_results');
		expect(body.analysisQueue).toHaveProperty('pending');
		expect(body.partitions.map((p: { name: string }) => p.name)).toContain('test_results_default');
		expect(body.retentionDays).toBe(180);
	});

	it('refuses project tokens and missing tokens', async () => {
		const p = await newProject(t, 'plain');
		expect((await admin('GET', '/api/v1/admin/projects', undefined, p.token)).statusCode).toBe(403);
		const none = await t.app.inject({ method: 'GET', url: '/api/v1/admin/projects' });
		expect(none.statusCode).toBe(401);
		expect(none.headers['www-authenticate']).toBe('Bearer');
	});

	it('serves the OpenAPI document generated from the schemas, and Swagger UI', async () => {
		const doc = await t.app.inject({ method: 'GET', url: '/api/openapi.json' });
		expect(doc.statusCode).toBe(200);
		const spec = doc.json();
		expect(spec.openapi).toMatch(/^3\./);
		expect(Object.keys(spec.paths)).toEqual(
			expect.arrayContaining(['/api/v1/reports', '/api/v1/runs', '/api/v1/runs/{runId}/results', '/api/v1/admin/projects'])
		);
		expect(spec.paths['/api/v1/runs/{runId}/results'].post.requestBody.content['application/json'].schema.properties.results.maxItems).toBe(1000);
		const ui = await t.app.inject({ method: 'GET', url: '/api/docs/' });
		expect(ui.statusCode).toBe(200);
		expect(ui.body).toContain('swagger');
	});

	it('limits admin calls per minute (RATE_LIMIT_ADMIN)', async () => {
		const other = 'another-admin-token-abcdefghijkl';
		const { rows } = await t.db.pool.query(
			`INSERT INTO api_tokens (label, token_hash, prefix) VALUES ('second admin', encode(sha256($1::bytea), 'hex'), 'another-admi') RETURNING id`,
			[other]
		);
		expect(rows).toHaveLength(1);
		const codes: number[] = [];
		for (let i = 0; i < 41; i++) codes.push((await admin('GET', '/api/v1/admin/health', undefined, other)).statusCode);
		expect(codes.slice(0, 40).every((c) => c === 200)).toBe(true);
		expect(codes[40]).toBe(429);
	});
});
