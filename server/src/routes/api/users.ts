import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { errorBodySchema } from 'flackyness-reporter/protocol';
import { userOf } from '../../auth/plugin.js';
import { transaction } from '../../db/database.js';
import { HttpError } from '../../lib/http-errors.js';
import { generatePassword, hashPassword } from '../../lib/passwords.js';
import { USER_ROLES, createUser, deleteUser, findUserById, listUsers, otherAdmins, setUserPassword, setUserRole } from '../../repositories/users.js';
import { passwordSchema } from './auth.js';

const userSchema = z.object({
	id: z.uuid(),
	email: z.string(),
	role: z.enum(USER_ROLES),
	createdAt: z.date(),
	lastLoginAt: z.date().nullable()
});
const params = z.object({ id: z.uuid('must be a user id (UUID)') });
const shown = <T extends z.infer<typeof userSchema>>(u: T) => ({
	id: u.id,
	email: u.email,
	role: u.role,
	createdAt: u.createdAt,
	lastLoginAt: u.lastLoginAt
});

/** Dashboard users, for admins (admin token or admin users). */
const users: FastifyPluginAsyncZod = async (app) => {
	app.addHook('preValidation', app.requireAdminToken);
	const common = { config: { rateLimit: app.limits.admin } } as const;
	const tags = ['users'];
	const security = [{ bearer: [] }];

	app.get(
		'/api/v1/admin/users',
		{ ...common, schema: { summary: 'List users', tags, security, response: { 200: z.object({ users: z.array(userSchema) }) } } },
		async () => ({ users: (await listUsers(app.db.pool)).map(shown) })
	);

	app.post(
		'/api/v1/admin/users',
		{
			...common,
			schema: {
				summary: 'Create a user; without a password one is generated and answered once',
				tags,
				security,
				body: z
					.object({ email: z.email('must be an e-mail address').max(320), role: z.enum(USER_ROLES).default('viewer'), password: passwordSchema.optional() })
					.strict(),
				response: { 201: z.object({ user: userSchema, password: z.string().optional() }), '4xx': errorBodySchema }
			}
		},
		async (request, reply) => {
			const { email, role, password } = request.body;
			const chosen = password ?? generatePassword();
			const user = await createUser(app.db.pool, { email, role, passwordHash: await hashPassword(chosen) });
			if (!user) throw new HttpError(409, `A user with e-mail ${email.trim().toLowerCase()} exists already.`);
			request.log.info({ event: 'user.created', userId: user.id, role }, 'user created');
			return reply.code(201).send({ user: shown(user), ...(password ? {} : { password: chosen }) });
		}
	);

	app.patch(
		'/api/v1/admin/users/:id',
		{
			...common,
			schema: {
				summary: "Change a user's role",
				tags,
				security,
				params,
				body: z.object({ role: z.enum(USER_ROLES) }).strict(),
				response: { 200: z.object({ user: userSchema }), '4xx': errorBodySchema }
			}
		},
		async (request) => {
			const { id } = request.params;
			const user = await transaction(app.db.pool, async (c) => {
				const target = await findUserById(c, id);
				if (!target) return null;
				if (target.role === 'admin' && request.body.role !== 'admin' && (await otherAdmins(c, id)) === 0) {
					throw new HttpError(409, 'This is the last admin; make someone else an admin first.');
				}
				return setUserRole(c, id, request.body.role);
			});
			if (!user) throw new HttpError(404, `No user ${id}.`);
			request.log.info({ event: 'user.role_changed', userId: id, role: user.role }, 'role changed');
			return { user: shown(user) };
		}
	);

	app.post(
		'/api/v1/admin/users/:id/reset-password',
		{
			...common,
			schema: {
				summary: "Set a user's password (generated and answered once when none is given); ends their sessions",
				tags,
				security,
				params,
				body: z.object({ password: passwordSchema.optional() }).strict().default({}),
				response: { 200: z.object({ password: z.string().optional() }), '4xx': errorBodySchema }
			}
		},
		async (request) => {
			const given = request.body.password;
			const chosen = given ?? generatePassword();
			if (!(await setUserPassword(app.db.pool, request.params.id, await hashPassword(chosen)))) {
				throw new HttpError(404, `No user ${request.params.id}.`);
			}
			request.log.info({ event: 'user.password_reset', userId: request.params.id }, 'password reset');
			return given ? {} : { password: chosen };
		}
	);

	app.delete(
		'/api/v1/admin/users/:id',
		{ ...common, schema: { summary: 'Delete a user; their sessions end at once', tags, security, params, response: { 204: z.null(), '4xx': errorBodySchema } } },
		async (request, reply) => {
			const { id } = request.params;
			const deleted = await transaction(app.db.pool, async (c) => {
				const target = await findUserById(c, id);
				if (!target) return false;
				if (target.role === 'admin' && (await otherAdmins(c, id)) === 0) {
					throw new HttpError(409, 'This is the last admin; make someone else an admin first.');
				}
				return deleteUser(c, id);
			});
			if (!deleted) throw new HttpError(404, `No user ${id}.`);
			request.log.info({ event: 'user.deleted', userId: id, by: userOf(request)?.id ?? 'admin token' }, 'user deleted');
			return reply.code(204).send(null);
		}
	);
};

export default users;
