import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { errorBodySchema } from 'flackyness-reporter/protocol';
import { listPartitions } from '../../db/partitions.js';
import { transaction } from '../../db/database.js';
import { HttpError } from '../../lib/http-errors.js';
import {
	addToken,
	createProject,
	deleteProject,
	findProject,
	listProjects,
	listTokens,
	renameProject,
	revokeOtherTokens,
	revokeToken
} from '../../repositories/projects.js';
import { enqueueProjectAnalysis } from '../../repositories/settings.js';
import { systemHealth, withRowCounts } from '../../repositories/health.js';
import { reportQueueState } from '../../repositories/gitlab-reports.js';
import { reportQueueSchema } from './gitlab-schemas.js';

const slugSchema = z
	.string()
	.min(2)
	.max(100)
	.regex(/^[a-z0-9][a-z0-9-]*[a-z0-9]$/, 'use lower-case letters, digits and dashes, e.g. "web-app"');
const projectParams = z.object({ id: z.string().min(1).max(100).describe('project id or slug') });
const projectSchema = z.object({
	id: z.uuid(),
	slug: z.string(),
	name: z.string(),
	isDemo: z.boolean(),
	createdAt: z.date()
});
const tokenInfoSchema = z.object({
	id: z.uuid(),
	label: z.string(),
	prefix: z.string(),
	createdAt: z.date(),
	lastUsedAt: z.date().nullable(),
	revokedAt: z.date().nullable()
});
const newTokenSchema = z.object({
	token: z.string().describe('shown once; only its hash is stored'),
	tokenId: z.uuid(),
	prefix: z.string()
});

const rowsExact = z.boolean().describe('true: counted; false: the planner’s estimate, for tables of a million rows or more');

/** Admin API: projects and their tokens, and the system's health. Needs the admin token. */
const admin: FastifyPluginAsyncZod = async (app) => {
	app.addHook('preValidation', app.requireAdminToken);
	const common = { config: { rateLimit: app.limits.admin } } as const;

	async function projectOr404(id: string) {
		const p = await findProject(app.db.pool, id);
		if (!p) throw new HttpError(404, `No project "${id}".`);
		return p;
	}

	app.post(
		'/api/v1/admin/projects',
		{
			...common,
			schema: {
				summary: 'Create a project; its ingestion token is answered once',
				tags: ['admin'],
				security: [{ bearer: [] }],
				body: z.object({ slug: slugSchema, name: z.string().min(1).max(200).optional() }).strict(),
				response: { 201: z.object({ project: projectSchema }).extend(newTokenSchema.shape), '4xx': errorBodySchema }
			}
		},
		async (request, reply) => {
			const { slug, name } = request.body;
			const created = await transaction(app.db.pool, (c) => createProject(c, { slug, name: name ?? slug }));
			if (!created) throw new HttpError(409, `A project with slug "${slug}" exists already.`);
			request.log.info({ event: 'project.created', projectId: created.project.id }, 'project created');
			const tokens = await listTokens(app.db.pool, created.project.id);
			return reply.code(201).send({ project: created.project, token: created.token, tokenId: tokens[0]!.id, prefix: created.tokenPrefix });
		}
	);

	app.get(
		'/api/v1/admin/projects',
		{
			...common,
			schema: {
				summary: 'List projects with their stats',
				tags: ['admin'],
				security: [{ bearer: [] }],
				response: {
					200: z.object({
						projects: z.array(
							projectSchema.extend({ runs: z.number(), tests: z.number(), lastRunAt: z.date().nullable(), activeTokens: z.number() })
						)
					})
				}
			}
		},
		async () => ({ projects: await listProjects(app.db.pool) })
	);

	app.patch(
		'/api/v1/admin/projects/:id',
		{
			...common,
			schema: {
				summary: 'Rename a project (its name, or its slug)',
				tags: ['admin'],
				security: [{ bearer: [] }],
				params: projectParams,
				body: z
					.object({ name: z.string().trim().min(1).max(200).optional(), slug: slugSchema.optional() })
					.strict()
					.refine((b) => b.name !== undefined || b.slug !== undefined, 'give a new name or slug'),
				response: { 200: z.object({ project: projectSchema }), '4xx': errorBodySchema }
			}
		},
		async (request) => {
			const p = await projectOr404(request.params.id);
			const renamed = await renameProject(app.db.pool, p.id, request.body);
			if (!renamed) throw new HttpError(409, `A project with slug "${request.body.slug}" exists already.`);
			request.log.info({ event: 'project.renamed', projectId: p.id }, 'project renamed');
			return { project: renamed };
		}
	);

	app.get(
		'/api/v1/admin/projects/:id/tokens',
		{
			...common,
			schema: {
				summary: "List a project's tokens (prefixes only)",
				tags: ['admin'],
				security: [{ bearer: [] }],
				params: projectParams,
				response: { 200: z.object({ tokens: z.array(tokenInfoSchema) }), '4xx': errorBodySchema }
			}
		},
		async (request) => {
			const p = await projectOr404(request.params.id);
			return { tokens: await listTokens(app.db.pool, p.id) };
		}
	);

	app.post(
		'/api/v1/admin/projects/:id/rotate-token',
		{
			...common,
			schema: {
				summary: 'Issue a new ingestion token; older ones stay valid until revoked (set revokeOthers to revoke them now)',
				tags: ['admin'],
				security: [{ bearer: [] }],
				params: projectParams,
				querystring: z.object({ revokeOthers: z.enum(['true', 'false']).optional() }).strict(),
				response: { 201: newTokenSchema.extend({ revoked: z.number() }), '4xx': errorBodySchema }
			}
		},
		async (request, reply) => {
			const p = await projectOr404(request.params.id);
			const revokeOthers = request.query.revokeOthers === 'true';
			const result = await transaction(app.db.pool, async (c) => {
				const t = await addToken(c, p.id, 'rotated ingestion token');
				let revoked = 0;
				if (revokeOthers) {
					revoked = await revokeOtherTokens(c, p.id, t.id);
				}
				return { token: t.token, tokenId: t.id, prefix: t.prefix, revoked };
			});
			request.log.info({ event: 'token.rotated', projectId: p.id, revoked: result.revoked }, 'token rotated');
			return reply.code(201).send(result);
		}
	);

	app.delete(
		'/api/v1/admin/projects/:id/tokens/:tokenId',
		{
			...common,
			schema: {
				summary: 'Revoke a token',
				tags: ['admin'],
				security: [{ bearer: [] }],
				params: projectParams.extend({ tokenId: z.uuid() }),
				response: { 204: z.null(), '4xx': errorBodySchema }
			}
		},
		async (request, reply) => {
			const p = await projectOr404(request.params.id);
			if (!(await revokeToken(app.db.pool, p.id, request.params.tokenId))) {
				throw new HttpError(404, `Project "${p.slug}" has no active token ${request.params.tokenId}.`);
			}
			request.log.info({ event: 'token.revoked', projectId: p.id, tokenId: request.params.tokenId }, 'token revoked');
			return reply.code(204).send(null);
		}
	);

	app.delete(
		'/api/v1/admin/projects/:id',
		{
			...common,
			schema: {
				summary: 'Delete a project with all its data',
				tags: ['admin'],
				security: [{ bearer: [] }],
				params: projectParams,
				response: { 204: z.null(), '4xx': errorBodySchema }
			}
		},
		async (request, reply) => {
			const p = await projectOr404(request.params.id);
			await deleteProject(app.db.pool, p.id);
			request.log.info({ event: 'project.deleted', projectId: p.id }, 'project deleted');
			return reply.code(204).send(null);
		}
	);

	app.post(
		'/api/v1/admin/projects/:id/recompute',
		{
			...common,
			schema: {
				summary: 'Queue a fresh analysis of every test of the project (the worker picks it up)',
				tags: ['admin'],
				security: [{ bearer: [] }],
				params: projectParams,
				response: { 202: z.object({ jobs: z.number(), tests: z.number() }), '4xx': errorBodySchema }
			}
		},
		async (request, reply) => {
			const p = await projectOr404(request.params.id);
			const queued = await enqueueProjectAnalysis(app.db.pool, p.id, 1000);
			request.log.info({ event: 'analysis.recompute_queued', projectId: p.id, ...queued }, 'recompute queued');
			return reply.code(202).send(queued);
		}
	);

	app.get(
		'/api/v1/admin/health',
		{
			...common,
			schema: {
				summary: 'Database and table sizes, analysis queue depth, runs in progress',
				tags: ['admin'],
				security: [{ bearer: [] }],
				response: {
					200: z.object({
						databaseBytes: z.number(),
						tables: z.array(z.object({ table: z.string(), rows: z.number(), rowsExact: rowsExact, bytes: z.number() })),
						analysisQueue: z.object({ pending: z.number(), oldestEnqueuedAt: z.date().nullable() }),
						runningRuns: z.number(),
						gitlabReports: reportQueueSchema,
						partitions: z.array(
							z.object({ name: z.string(), from: z.string().nullable(), to: z.string().nullable(), rows: z.number(), rowsExact: rowsExact, bytes: z.number() })
						),
						retentionDays: z.number()
					})
				}
			}
		},
		async () => ({
			...(await systemHealth(app.db.pool)),
			gitlabReports: await reportQueueState(app.db.prisma),
			partitions: await withRowCounts(
				app.db.pool,
				(await listPartitions(app.db.pool)).map(({ rows, ...p }) => ({ ...p, estimate: rows }))
			),
			retentionDays: app.config.RETENTION_DAYS
		})
	);
};

export default admin;
