import { createHash } from 'node:crypto';
import fp from 'fastify-plugin';
import { z } from 'zod';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError } from '../lib/http-errors.js';
import { sameSecret } from '../lib/tokens.js';
import { findToken, touchToken } from '../repositories/tokens.js';
import { findUserById, type UserRole } from '../repositories/users.js';

export interface ProjectPrincipal {
	kind: 'project';
	tokenId: string;
	projectId: string;
	projectSlug: string;
}
/** A dashboard user, signed in with a session token (JWT). */
export interface SessionUser {
	id: string;
	email: string;
	role: UserRole;
}
/**
 * Full rights: the admin token, an admin token from the database, or a signed-in user whose role is
 * admin. Every check written as `kind === 'admin'` therefore holds for admin users as well.
 */
export interface AdminPrincipal {
	kind: 'admin';
	tokenId: string | null;
	user: SessionUser | null;
}
/** A signed-in viewer: reads every project, changes nothing but their own password. */
export interface UserPrincipal {
	kind: 'user';
	user: SessionUser;
}
export type Principal = ProjectPrincipal | AdminPrincipal | UserPrincipal;

/** What a session token carries; the role is read from the database on every request. */
export interface SessionClaims {
	sub: string;
	/** Changes when the password does: a reset ends every other session of the user. */
	sv: string;
}

/**
 * A correctly signed token is still checked for shape: `sub` goes into a uuid column, and a token
 * signed with a leaked or shared secret must get 401, never a database error.
 */
const sessionClaimsSchema = z.object({ sub: z.uuid(), sv: z.string().min(1).max(64) });

declare module 'fastify' {
	interface FastifyRequest {
		principal: Principal | null;
	}
	interface FastifyInstance {
		requireProjectToken(request: FastifyRequest): Promise<void>;
		/** Admin token or admin user. */
		requireAdminToken(request: FastifyRequest): Promise<void>;
		/** Any valid principal; project tokens read only their own project (see canReadProject). */
		requireReader(request: FastifyRequest): Promise<void>;
		/** A signed-in user (session token), whatever the role. */
		requireUser(request: FastifyRequest): Promise<void>;
		/**
		 * Who sent the request, resolved once per request (the rate limiter asks before the route's
		 * own check does, and both get the same answer from one database lookup).
		 */
		authenticate(request: FastifyRequest): Promise<Principal>;
	}
}

const BEARER = /^Bearer\s+(\S{1,4096})$/i;
const JWT_SHAPE = /^eyJ[\w-]*\.[\w-]+\.[\w-]+$/;

/** Ties a session to the password it was opened with, without putting the hash in the token. */
export function sessionVersion(passwordHash: string): string {
	return createHash('sha256').update(passwordHash).digest('base64url').slice(0, 16);
}

/**
 * The token of an Authorization header, or why there is none: the one reading of the header, for
 * the API's principals and for /metrics alike.
 */
export function bearerOf(request: FastifyRequest): string {
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

const invalidSession = (message: string) => new HttpError(401, message, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });

/**
 * Bearer authentication: API tokens (compared by SHA-256 hash) and dashboard session tokens (JWT,
 * HS256, checked against the user's current row). Neither ever reaches a log line (the logger
 * redacts the Authorization header, and messages never quote it).
 */
export default fp(
	async function auth(app: FastifyInstance) {
		app.decorateRequest('principal', null);

		async function sessionPrincipal(token: string): Promise<AdminPrincipal | UserPrincipal> {
			let verified: unknown;
			try {
				verified = app.jwt.verify(token);
			} catch (err) {
				const code = (err as { code?: string }).code;
				if (code === 'FAST_JWT_EXPIRED') throw invalidSession('Your session has expired; sign in again.');
				throw invalidSession('Invalid token.');
			}
			const parsed = sessionClaimsSchema.safeParse(verified);
			if (!parsed.success) throw invalidSession('Invalid token: its claims are not those of a session.');
			const claims: SessionClaims = parsed.data;
			const row = await findUserById(app.db.pool, claims.sub);
			if (!row || !sameSecret(claims.sv, sessionVersion(row.passwordHash))) {
				throw invalidSession('This session has ended; sign in again.');
			}
			const user: SessionUser = { id: row.id, email: row.email, role: row.role };
			return user.role === 'admin' ? { kind: 'admin', tokenId: null, user } : { kind: 'user', user };
		}

		async function resolve(request: FastifyRequest): Promise<Principal> {
			const token = bearerOf(request);
			const envAdmin = app.config.ADMIN_TOKEN;
			if (envAdmin && sameSecret(token, envAdmin)) return { kind: 'admin', tokenId: null, user: null };
			if (JWT_SHAPE.test(token)) return sessionPrincipal(token);
			const owner = await findToken(app.db.pool, token);
			if (!owner) throw invalidSession('Invalid token.');
			if (owner.revoked) throw invalidSession('This token was revoked; ask an admin for a new one.');
			void touchToken(app.db.pool, owner.tokenId).catch((err: unknown) =>
				request.log.warn({ err: (err as Error).message }, 'could not record token use')
			);
			if (owner.projectId === null) return { kind: 'admin', tokenId: owner.tokenId, user: null };
			return { kind: 'project', tokenId: owner.tokenId, projectId: owner.projectId, projectSlug: owner.projectSlug! };
		}

		const resolved = new WeakMap<FastifyRequest, Promise<Principal>>();
		function authenticate(request: FastifyRequest): Promise<Principal> {
			let principal = resolved.get(request);
			if (!principal) {
				principal = resolve(request);
				// Whoever asks first may not be the one who reports the failure (the rate limiter
				// falls back to the address); the route's check awaits the same promise and answers it.
				principal.catch(() => undefined);
				resolved.set(request, principal);
			}
			return principal;
		}
		app.decorate('authenticate', authenticate);

		app.decorate('requireProjectToken', async (request: FastifyRequest) => {
			const p = await authenticate(request);
			if (p.kind !== 'project') {
				throw new HttpError(403, 'This endpoint takes a project ingestion token, not an admin token or a session.');
			}
			request.principal = p;
		});

		app.decorate('requireReader', async (request: FastifyRequest) => {
			request.principal = await authenticate(request);
		});

		app.decorate('requireAdminToken', async (request: FastifyRequest) => {
			const p = await authenticate(request);
			if (p.kind !== 'admin') throw new HttpError(403, 'This needs an admin: the admin token or a user with the admin role.');
			request.principal = p;
		});

		app.decorate('requireUser', async (request: FastifyRequest) => {
			const p = await authenticate(request);
			if (p.kind === 'project' || (p.kind === 'admin' && !p.user)) throw new HttpError(403, 'This needs a signed-in user, not an API token.');
			request.principal = p;
		});
	},
	{ name: 'auth', dependencies: ['errors', '@fastify/jwt'] }
);

/**
 * One name per caller, whatever the spelling of the header that carried the credential: the API
 * token's id, the user behind any session token (renewing keeps the name), one name for ADMIN_TOKEN.
 */
export function principalKey(p: Principal): string {
	if (p.kind === 'project') return `token:${p.tokenId}`;
	if (p.user) return `user:${p.user.id}`;
	if (p.kind === 'admin') return p.tokenId ? `token:${p.tokenId}` : 'admin-token';
	return 'anonymous';
}

export function projectOf(request: FastifyRequest): ProjectPrincipal {
	const p = request.principal;
	if (!p || p.kind !== 'project') throw new HttpError(401, 'Not authenticated with a project token.');
	return p;
}

/** The signed-in user behind the request, if any. */
export function userOf(request: FastifyRequest): SessionUser | null {
	const p = request.principal;
	if (!p || p.kind === 'project') return null;
	return p.user;
}

/** Project tokens see their own project; admins and signed-in users see every project. */
export function canReadProject(request: FastifyRequest, projectId: string): boolean {
	const p = request.principal;
	if (!p) return false;
	return p.kind !== 'project' || p.projectId === projectId;
}

/** Who did it, for quarantine records: a user's e-mail, never a token. */
export function actorOf(request: FastifyRequest): string {
	const p = request.principal;
	if (!p) return 'anonymous';
	if (p.kind === 'project') return `project token ${p.tokenId.slice(0, 8)}`;
	if (p.user) return p.user.email;
	if (p.kind === 'admin') return p.tokenId ? `admin token ${p.tokenId.slice(0, 8)}` : 'admin (ADMIN_TOKEN)';
	return 'anonymous';
}
