import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';

/**
 * OpenAPI for what a route reads by hand rather than through a validated schema (a raw or
 * multipart body, metadata in headers and the query string): documented, never validated.
 * Put it in the route's `config.openapi`; the values are JSON Schema, as in an OpenAPI document.
 */
export interface HandReadDocs {
	body?: { content: Record<string, { schema: Record<string, unknown> }> };
	querystring?: Record<string, unknown>;
	headers?: Record<string, unknown>;
}

declare module 'fastify' {
	interface FastifyContextConfig {
		openapi?: HandReadDocs;
	}
}

type TransformArgs = Parameters<typeof jsonSchemaTransform>[0];

/** The zod schemas' JSON Schema, plus what the route documents by hand. */
function transform(args: TransformArgs): ReturnType<typeof jsonSchemaTransform> {
	const out = jsonSchemaTransform(args);
	const docs = (args.route.config as { openapi?: HandReadDocs } | undefined)?.openapi;
	if (!docs) return out;
	return { ...out, schema: { ...out.schema, ...docs } };
}

/** OpenAPI generated from the routes' zod schemas: JSON at /api/openapi.json, Swagger UI at /api/docs. */
export default fp(
	async function openapi(app: FastifyInstance, opts: { version: string }) {
		await app.register(swagger, {
			openapi: {
				info: { title: 'Flackyness API', version: opts.version, description: 'Flaky-test tracking for Playwright in GitLab CI' },
				components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } }
			},
			transform
		});
		await app.register(swaggerUi, { routePrefix: '/api/docs', staticCSP: true });
		app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
	},
	{ name: 'openapi' }
);
