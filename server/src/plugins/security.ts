import fp from 'fastify-plugin';
import helmet from '@fastify/helmet';
import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';

/**
 * Strict CSP for everything the API serves. Pages rendered by the SvelteKit dashboard carry their
 * own CSP (dashboard/svelte.config.js) with hashes for SvelteKit's inline bootstrap script.
 */
export default fp(
	async function security(app: FastifyInstance, opts: { corsOrigins: string[] }) {
		await app.register(helmet, {
			contentSecurityPolicy: {
				useDefaults: false,
				directives: {
					defaultSrc: ["'none'"],
					baseUri: ["'none'"],
					frameAncestors: ["'none'"],
					formAction: ["'none'"]
				}
			},
			crossOriginEmbedderPolicy: false
		});
		await app.register(cors, {
			origin: opts.corsOrigins.length > 0 ? opts.corsOrigins : false,
			credentials: false
		});
	},
	{ name: 'security' }
);
