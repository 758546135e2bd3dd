import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';

interface Parameter {
	name: string;
	in: string;
	schema: { type?: string; example?: unknown; maximum?: number };
}

describe('OpenAPI document of POST /api/v1/reports', () => {
	let t: TestApp;
	let op: { parameters: Parameter[]; requestBody: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> } };
	let doc: unknown;
	beforeAll(async () => {
		t = await buildTestApp('pglite');
		const res = await t.app.inject({ method: 'GET', url: '/api/openapi.json' });
		expect(res.statusCode).toBe(200);
		doc = res.json();
		op = (doc as { paths: Record<string, { post: typeof op }> }).paths['/api/v1/reports']!.post;
	});
	afterAll(async () => t.close());

	it('describes the JSON, JUnit XML, gzip and multipart bodies', () => {
		expect(Object.keys(op.requestBody.content).sort()).toEqual(['application/json', 'application/xml', 'multipart/form-data', 'text/xml']);
		expect(op.requestBody.content['application/xml']!.schema).toMatchObject({ type: 'string' });
		expect(op.requestBody.content['application/json']!.schema).toMatchObject({ required: ['suites'] });
		const form = op.requestBody.content['multipart/form-data']!.schema.properties!;
		expect(form.report).toMatchObject({ type: 'string', format: 'binary' });
		expect(form).toHaveProperty('commitSha');
		expect(form).toHaveProperty('idempotencyKey');
	});

	it('describes the metadata headers and query parameters with sensible examples', () => {
		const where = (name: string, place: string) => op.parameters.find((p) => p.name === name && p.in === place);
		expect(where('content-encoding', 'header')?.schema).toMatchObject({ example: 'gzip' });
		expect(where('x-flackyness-branch', 'header')?.schema).toMatchObject({ type: 'string', example: 'main' });
		expect(where('x-flackyness-idempotency-key', 'header')).toBeDefined();
		expect(where('x-flackyness-commit-timestamp', 'header')?.schema.example).toBe('2026-11-20T10:00:00Z');
		expect(where('commitSha', 'query')?.schema.example).toMatch(/^[0-9a-f]{40}$/);
		expect(where('mrIid', 'query')?.schema).toMatchObject({ type: 'integer', example: 42 });
		expect(where('shardIndex', 'query')?.schema.maximum).toBe(10_000);
		// Swagger UI's default example for an unbounded integer is Number.MAX_SAFE_INTEGER.
		expect(JSON.stringify(op)).not.toContain(String(Number.MAX_SAFE_INTEGER));
	});
});
