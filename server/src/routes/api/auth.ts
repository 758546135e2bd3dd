import { createHmac } from 'node:crypto';
import { z } from 'zod';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { errorBodySchema } from 'flackyness-reporter/protocol';
import { sessionVersion, userOf, type SessionClaims, type SessionUser } from '../../auth/plugin.js';
import { HttpError } from '../../lib/http-errors.js';
import { sameSecret } from '../../lib/tokens.js';
import { hashPassword, verifyPassword } from '../../lib/passwords.js';
import { findUserByEmail, findUserById, recordLogin, setUserPassword, type UserWithHash } from '../../repositories/users.js';

/** Header names the dashboard uses to pass on the address of the person signing in. */
export const CLIENT_IP_HEADER = 'x-flackyness-client-ip';
export const DASHBOARD_KEY_HEADER = 'x-flackyness-dashboard-key';

/**
 * The dashboard signs people in from its own address, so a per-IP limit on that address would be
 * one bucket for everybody. It may vouch for the person's address with this key, derived from the
 * session secret it shares with the server (in the same process, or through JWT_SECRET).
 */
export function dashboardKey(secret: string): string {
	return createHmac('sha256', secret).update('flackyness dashboard client-ip').digest('base64url');
}

export const passwordSchema = z.string().min(10, 'must be at least 10 characters').max(200, 'must be at most 200 characters');

const userSchema = z.object({ id: z.uuid(), email: z.string(), role: z.enum(['admin', 'viewer']) });
const sessionSchema = z.object({
	token: z.string().describe('session token (JWT); send as "Authorization: Bearer <token>"'),
	expiresAt: z.string().describe('ISO time'),
	user: userSchema
});

/** Dashboard sign-in: a short-lived session token for a user of the `users` table. */
const auth: FastifyPluginAsyncZod<{ secret: string }> = async (app, opts) => {
	const key = dashboardKey(opts.secret);
	const clientKey = (request: FastifyRequest) => {
		const vouched = request.headers[DASHBOARD_KEY_HEADER];
		const forwarded = request.headers[CLIENT_IP_HEADER];
		if (typeof vouched === 'string' && typeof forwarded === 'string' && forwarded.length <= 64 && sameSecret(vouched, key)) {
			return `login:${forwarded}`;
		}
		return `login:${request.ip}`;
	};
	const loginLimit = { max: app.config.RATE_LIMIT_LOGIN, timeWindow: '1 minute', keyGenerator: clientKey };
	const tags = ['auth'];

	app.post(
		'/api/v1/auth/login',
		{
			config: { rateLimit: loginLimit },
			schema: {
				summary: 'Sign in with e-mail and password; answers a session token',
				tags,
				body: z.object({ email: z.string().trim().min(1).max(320), password: z.string().min(1).max(200) }).strict(),
				response: { 200: sessionSchema, '4xx': errorBodySchema }
			}
		},
		async (request) => {
			const user = await findUserByEmail(app.db.pool, request.body.email);
			// Always hash: an unknown e-mail takes as long as a wrong password.
			const ok = await verifyPassword(request.body.password, user?.passwordHash ?? null);
			if (!user || !ok) {
				request.log.info({ event: 'auth.login_failed' }, 'sign-in refused');
				throw new HttpError(401, 'Wrong e-mail or password.');
			}
			await recordLogin(app.db.pool, user.id);
			request.log.info({ event: 'auth.login', userId: user.id }, 'signed in');
			return issue(app, user);
		}
	);

	app.get(
		'/api/v1/auth/me',
		{
			preValidation: app.requireUser,
			config: { rateLimit: app.limits.reads },
			schema: { summary: 'The signed-in user', tags, security: [{ bearer: [] }], response: { 200: z.object({ user: userSchema }), '4xx': errorBodySchema } }
		},
		async (request) => ({ user: userOf(request)! })
	);

	app.post(
		'/api/v1/auth/refresh',
		{
			preValidation: app.requireUser,
			config: { rateLimit: app.limits.reads },
			schema: { summary: 'A fresh session token for a session that is still valid', tags, security: [{ bearer: [] }], response: { 200: sessionSchema, '4xx': errorBodySchema } }
		},
		async (request) => {
			const row = await findUserById(app.db.pool, userOf(request)!.id);
			if (!row) throw new HttpError(401, 'This session has ended; sign in again.');
			return issue(app, row);
		}
	);

	app.post(
		'/api/v1/auth/password',
		{
			preValidation: app.requireUser,
			config: { rateLimit: loginLimit },
			schema: {
				summary: 'Change your own password; ends your other sessions and answers a new token',
				tags,
				security: [{ bearer: [] }],
				body: z.object({ currentPassword: z.string().min(1).max(200), newPassword: passwordSchema }).strict(),
				response: { 200: sessionSchema, '4xx': errorBodySchema }
			}
		},
		async (request) => {
			const me = userOf(request)!;
			const row = await findUserById(app.db.pool, me.id);
			if (!row || !(await verifyPassword(request.body.currentPassword, row.passwordHash))) {
				throw new HttpError(400, 'body.currentPassword: that is not your current password');
			}
			const passwordHash = await hashPassword(request.body.newPassword);
			await setUserPassword(app.db.pool, me.id, passwordHash);
			request.log.info({ event: 'auth.password_changed', userId: me.id }, 'password changed');
			return issue(app, { ...row, passwordHash });
		}
	);
};

function issue(app: FastifyInstance, user: UserWithHash) {
	const claims: SessionClaims = { sub: user.id, sv: sessionVersion(user.passwordHash) };
	const token = app.jwt.sign(claims);
	const exp = app.jwt.decode<{ exp: number }>(token)!.exp;
	const expiresAt = new Date(exp * 1000).toISOString();
	const shown: SessionUser = { id: user.id, email: user.email, role: user.role };
	return { token, expiresAt, user: shown };
}

export default auth;
