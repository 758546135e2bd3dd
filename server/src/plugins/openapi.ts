import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';

/** OpenAPI generated from the routes' zod schemas: JSON at /api/openapi.json, Swagger UI at /api/docs. */
export default fp(
	async function openapi(app: FastifyInstance, opts: { version: string }) {
		await app.register(swagger, {
			openapi: {
				info: { title: 'Flackyness API', version: opts.version, description: 'Flaky-test tracking for Playwright in GitLab CI' },
				components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } }
			},
			transform: jsonSchemaTransform
		});
		await app.register(swaggerUi, { routePrefix: '/api/docs', staticCSP: true });
		app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
	},
	{ name: 'openapi' }
);
