import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError } from '../lib/http-errors.js';
import { sameSecret } from '../lib/tokens.js';
import { findToken, touchToken } from '../repositories/tokens.js';

export interface ProjectPrincipal {
	kind: 'project';
	tokenId: string;
	projectId: string;
	projectSlug: string;
}
export interface AdminPrincipal {
	kind: 'admin';
	tokenId: string | null;
}
export type Principal = ProjectPrincipal | AdminPrincipal;

declare module 'fastify' {
	interface FastifyRequest {
		principal: Principal | null;
	}
	interface FastifyInstance {
		requireProjectToken(request: FastifyRequest): Promise<void>;
		requireAdminToken(request: FastifyRequest): Promise<void>;
		/** Any valid principal; project tokens read only their own project (see canReadProject). */
		requireReader(request: FastifyRequest): Promise<void>;
	}
}

const BEARER = /^Bearer\s+(\S{1,512})$/i;

function bearerOf(request: FastifyRequest): string {
	const header = request.headers.authorization;
	if (!header) {
		throw new HttpError(401, 'Missing Authorization header: send "Authorization: Bearer <token>".', {
			'WWW-Authenticate': 'Bearer'
		});
	}
	const m = BEARER.exec(header);
	if (!m) {
		throw new HttpError(401, 'Malformed Authorization header: expected "Bearer <token>".', { 'WWW-Authenticate': 'Bearer' });
	}
	return m[1]!;
}

/**
 * Bearer-token authentication. Tokens are compared by SHA-256 hash; the token itself never reaches
 * a log line (the logger redacts the Authorization header, and messages never quote it).
 */
export default fp(
	async function auth(app: FastifyInstance) {
		app.decorateRequest('principal', null);

		async function resolve(request: FastifyRequest): Promise<Principal> {
			const token = bearerOf(request);
			const envAdmin = app.config.ADMIN_TOKEN;
			if (envAdmin && sameSecret(token, envAdmin)) return { kind: 'admin', tokenId: null };
			const owner = await findToken(app.db.pool, token);
			if (!owner) throw new HttpError(401, 'Invalid token.', { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
			if (owner.revoked) {
				throw new HttpError(401, 'This token was revoked; ask an admin for a new one.', {
					'WWW-Authenticate': 'Bearer error="invalid_token"'
				});
			}
			void touchToken(app.db.pool, owner.tokenId).catch((err: unknown) =>
				request.log.warn({ err: (err as Error).message }, 'could not record token use')
			);
			if (owner.projectId === null) return { kind: 'admin', tokenId: owner.tokenId };
			return { kind: 'project', tokenId: owner.tokenId, projectId: owner.projectId, projectSlug: owner.projectSlug! };
		}

		app.decorate('requireProjectToken', async (request: FastifyRequest) => {
			const p = await resolve(request);
			if (p.kind !== 'project') {
				throw new HttpError(403, 'This endpoint takes a project ingestion token, not an admin token.');
			}
			request.principal = p;
		});

		app.decorate('requireReader', async (request: FastifyRequest) => {
			request.principal = await resolve(request);
		});

		app.decorate('requireAdminToken', async (request: FastifyRequest) => {
			const p = await resolve(request);
			if (p.kind !== 'admin') throw new HttpError(403, 'This endpoint needs an admin token.');
			request.principal = p;
		});
	},
	{ name: 'auth', dependencies: ['errors'] }
);

export function projectOf(request: FastifyRequest): ProjectPrincipal {
	const p = request.principal;
	if (!p || p.kind !== 'project') throw new HttpError(401, 'Not authenticated with a project token.');
	return p;
}

/** Project tokens see their own project; admins see every project. */
export function canReadProject(request: FastifyRequest, projectId: string): boolean {
	const p = request.principal;
	if (!p) return false;
	return p.kind === 'admin' || p.projectId === projectId;
}

/** Who did it, for quarantine records: never the token itself. */
export function actorOf(request: FastifyRequest): string {
	const p = request.principal;
	if (!p) return 'anonymous';
	if (p.kind === 'admin') return p.tokenId ? `admin token ${p.tokenId.slice(0, 8)}` : 'admin (ADMIN_TOKEN)';
	return `project token ${p.tokenId.slice(0, 8)}`;
}
