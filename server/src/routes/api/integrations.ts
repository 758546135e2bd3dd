import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { errorBodySchema } from 'flackyness-reporter/protocol';
import { gitlabCallCounter } from '../../integrations/gitlab-metrics.js';
import { checkGitlabConnection, effectiveGitlabProject, tokenContext, type CheckStatus } from '../../integrations/gitlab.js';
import { HttpError } from '../../lib/http-errors.js';
import { findProject } from '../../repositories/projects.js';
import { reportQueueState, retryFailedReports } from '../../repositories/gitlab-reports.js';
import { reportQueueSchema } from './gitlab-schemas.js';
import { deleteGitlabIntegration, findGitlabIntegration, saveGitlabIntegration, type GitlabIntegrationRow } from '../../repositories/gitlab.js';

const projectParams = z.object({ id: z.string().min(1).max(100).describe('project id or slug') });

/** http(s) only, no credentials, query or fragment; internal addresses are fine (self-hosted GitLab). */
const gitlabUrl = z
	.string()
	.trim()
	.max(2000)
	.refine((s) => {
		try {
			const u = new URL(s);
			return (u.protocol === 'https:' || u.protocol === 'http:') && !u.username && !u.password && !u.search && !u.hash;
		} catch {
			return false;
		}
	}, 'must be the http:// or https:// address of GitLab, e.g. https://gitlab.example.com (no credentials, query or fragment)')
	// The parsed form is what is stored: the parser drops tabs and newlines and percent-encodes NUL.
	.transform((s) => new URL(s).href.replace(/\/+$/, '').replace(/\/api\/v4$/, ''))
	.describe('address of the GitLab instance, e.g. https://gitlab.example.com; an internal address works');

const gitlabToken = z
	.string()
	.trim()
	.min(8, 'must be at least 8 characters')
	.max(1000)
	.regex(/^[\x21-\x7e]+$/, 'must be printable characters without spaces')
	.describe('project or group access token with the api scope; write-only: stored encrypted, never answered');

const gitlabProject = z
	.string()
	.trim()
	.max(255)
	.regex(/^(\d+|[\w.-]+(\/[\w.-]+)+)$/, 'must be a GitLab project path such as group/app, or its numeric id')
	.describe('GitLab project path (group/app) or numeric id; null or absent: taken from the pipeline or job URL of the latest GitLab CI run');

const putBody = z
	.object({
		url: gitlabUrl,
		token: gitlabToken.optional(),
		gitlabProject: gitlabProject.nullable().optional(),
		mrNotes: z.boolean().optional().describe('write one note per merge request with the verdicts (default: kept, or true)'),
		commitStatus: z.boolean().optional().describe('set a "flackyness" commit status (default: kept, or true)'),
		issues: z.boolean().optional().describe('open one GitLab issue per flaky test, keep it up to date, close it when fixed (default: kept, or false)'),
		issueLabels: z
			.array(z.string().trim().min(1).max(100).regex(/^[^,]+$/, 'must not contain commas'))
			.max(10)
			.optional()
			.describe('labels of those issues (default: kept, or ["flaky-test"])')
	})
	.strict();

const checkStatus = z
	.enum(['ok', 'no_project', 'unreadable_token', 'bad_url', 'unreachable', 'timeout', 'bad_token', 'missing_scope', 'no_access', 'not_found', 'rate_limited', 'server_error'])
	.describe('what the last test found: ok, or the kind of problem');

const lastCheck = z
	.object({
		at: z.date().describe('when the connection was last tested'),
		ok: z.boolean().describe('whether that test succeeded'),
		status: checkStatus,
		message: z.string().describe('the answer in words')
	})
	.nullable()
	.describe('the last "test connection" answer; null when never tested since the address or token changed');

const viewSchema = z.object({
	url: z.string().describe('address of the GitLab instance'),
	tokenSet: z.literal(true).describe('a token is stored (encrypted); it is never answered'),
	gitlabProject: z.string().nullable().describe('the GitLab project as set; null: taken from runs'),
	effectiveProject: z.string().nullable().describe('the GitLab project in use: as set, or from the latest GitLab CI run; null when unknown'),
	mrNotes: z.boolean().describe('merge request notes are on'),
	commitStatus: z.boolean().describe('commit statuses are on'),
	issues: z.boolean().describe('GitLab issues for flaky tests are on'),
	issueLabels: z.array(z.string()).describe('labels of those issues'),
	createdAt: z.date().describe('when the connection was first saved'),
	updatedAt: z.date().describe('when it was last changed'),
	lastCheck,
	reports: reportQueueSchema
});

const testSchema = z.object({
	ok: z.boolean().describe('GitLab answered and the token can do what the enabled features need'),
	status: checkStatus,
	message: z.string().describe('what was found, or what is wrong, in words'),
	gitlabProject: z.string().nullable().describe('the GitLab project that was asked for'),
	project: z
		.object({
			id: z.number().describe('GitLab project id'),
			name: z.string().describe('project name'),
			pathWithNamespace: z.string().describe('full path, e.g. group/app'),
			webUrl: z.string().describe('the project page')
		})
		.optional()
		.describe("GitLab's project, when it answered"),
	access: z.string().optional().describe("the token's role on the project, e.g. Developer"),
	scopes: z.array(z.string()).optional().describe("the token's scopes, when GitLab tells them"),
	checkedAt: z.date().describe('when this test ran')
});

/** A project's GitLab connection: admins only, the token write-only. */
const integrations: FastifyPluginAsyncZod = async (app) => {
	app.addHook('preValidation', app.requireAdminToken);
	const secrets = () => app.secretsFor('GitLab tokens');
	const observe = gitlabCallCounter(app.metrics.registry);
	const common = { config: { rateLimit: app.limits.admin } } as const;
	const tags = ['integrations'];
	const security = [{ bearer: [] }];
	const path = '/api/v1/projects/:id/integrations/gitlab';

	async function projectOr404(id: string) {
		const p = await findProject(app.db.pool, id);
		if (!p) throw new HttpError(404, `No project "${id}".`);
		return p;
	}

	async function connectionOr404(id: string) {
		const p = await projectOr404(id);
		const row = await findGitlabIntegration(app.db.prisma, p.id);
		if (!row) throw new HttpError(404, `Project "${id}" has no GitLab connection.`);
		return row;
	}

	async function view(row: GitlabIntegrationRow) {
		const effective = await effectiveGitlabProject(app.db.prisma, row);
		const checked = row.checkedAt && row.checkStatus && row.checkMessage !== null;
		return {
			url: row.url,
			tokenSet: true as const,
			gitlabProject: row.gitlabProject,
			effectiveProject: effective.path,
			mrNotes: row.mrNotes,
			commitStatus: row.commitStatus,
			issues: row.issues,
			issueLabels: row.issueLabels ?? [],
			createdAt: row.createdAt,
			updatedAt: row.updatedAt,
			lastCheck: checked ? { at: row.checkedAt!, ok: row.checkStatus === 'ok', status: row.checkStatus as CheckStatus, message: row.checkMessage! } : null,
			reports: await reportQueueState(app.db.prisma, row.projectId)
		};
	}

	app.get(
		path,
		{ ...common, schema: { summary: 'The GitLab connection, without its token', tags, security, params: projectParams, response: { 200: viewSchema, '4xx': errorBodySchema } } },
		async (request) => view(await connectionOr404(request.params.id))
	);

	app.put(
		path,
		{
			...common,
			schema: {
				summary: 'Connect the project to GitLab, or change the connection (the token may be left out to keep the stored one)',
				tags,
				security,
				params: projectParams,
				body: putBody,
				response: { 200: viewSchema, '4xx': errorBodySchema }
			}
		},
		async (request) => {
			const p = await projectOr404(request.params.id);
			const body = request.body;
			const existing = await findGitlabIntegration(app.db.prisma, p.id);
			const sealed = body.token ? (await secrets()).seal(body.token, tokenContext(p.id)) : undefined;
			if (!body.token && !existing) throw new HttpError(400, 'body.token: required to connect to GitLab the first time');
			// The stored token was given for one address: it must never be sent to another.
			if (!body.token && existing && existing.url !== body.url) throw new HttpError(400, 'body.token: required again when the URL changes');
			const project = body.gitlabProject === undefined ? (existing?.gitlabProject ?? null) : body.gitlabProject;
			const row = await saveGitlabIntegration(
				app.db.prisma,
				p.id,
				{
					url: body.url,
					tokenSealed: sealed,
					gitlabProject: project,
					mrNotes: body.mrNotes ?? existing?.mrNotes ?? true,
					commitStatus: body.commitStatus ?? existing?.commitStatus ?? true,
					issues: body.issues ?? existing?.issues ?? false,
					issueLabels: body.issueLabels ?? existing?.issueLabels ?? ['flaky-test']
				},
				!!body.token || existing?.url !== body.url || existing?.gitlabProject !== project,
				existing?.url
			);
			if (!row) throw new HttpError(409, `The GitLab connection of "${request.params.id}" was removed or changed meanwhile; load it again`);
			request.log.info({ event: 'gitlab.saved', projectId: p.id, tokenChanged: !!body.token }, 'GitLab connection saved');
			return view(row);
		}
	);

	app.delete(
		path,
		{
			...common,
			schema: { summary: 'Remove the GitLab connection and its token', tags, security, params: projectParams, response: { 204: z.null().describe('removed'), '4xx': errorBodySchema } }
		},
		async (request, reply) => {
			const p = await projectOr404(request.params.id);
			if (!(await deleteGitlabIntegration(app.db.prisma, p.id))) throw new HttpError(404, `Project "${request.params.id}" has no GitLab connection.`);
			request.log.info({ event: 'gitlab.removed', projectId: p.id }, 'GitLab connection removed');
			return reply.code(204).send(null);
		}
	);

	app.post(
		`${path}/test`,
		{
			...common,
			schema: {
				summary: "Test the connection: asks GitLab for the project with the stored token and says what is wrong, in words",
				tags,
				security,
				params: projectParams,
				response: { 200: testSchema, '4xx': errorBodySchema }
			}
		},
		async (request) => {
			const row = await connectionOr404(request.params.id);
			const result = await checkGitlabConnection(app.db.prisma, await secrets(), row, { observe });
			if (!result) throw new HttpError(409, `The GitLab connection of "${request.params.id}" was removed or changed during the test; test it again`);
			request.log.info({ event: 'gitlab.checked', projectId: row.projectId, status: result.status }, 'GitLab connection tested');
			return result;
		}
	);

	app.post(
		`${path}/reports/retry`,
		{
			...common,
			schema: {
				summary: 'Send the reports GitLab refused (MR notes, commit statuses) again, e.g. after the token or its access was fixed',
				tags,
				security,
				params: projectParams,
				response: { 200: z.object({ requeued: z.number().int().describe('failed reports due again now') }), '4xx': errorBodySchema }
			}
		},
		async (request) => {
			const row = await connectionOr404(request.params.id);
			const requeued = await retryFailedReports(app.db.prisma, row.projectId);
			request.log.info({ event: 'gitlab.reports_retried', projectId: row.projectId, requeued }, 'failed GitLab reports queued again');
			return { requeued };
		}
	);
};

export default integrations;
