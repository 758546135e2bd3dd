import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { errorBodySchema } from 'flackyness-reporter/protocol';
import { secretContext, urlContext } from '../../integrations/webhooks.js';
import { HttpError } from '../../lib/http-errors.js';
import { findProject } from '../../repositories/projects.js';
import {
	countWebhooks,
	createWebhook,
	deleteWebhook,
	deliverySummaries,
	findWebhook,
	listDeliveries,
	listWebhooks,
	MAX_WEBHOOKS_PER_PROJECT,
	resendDelivery,
	WEBHOOK_EVENTS,
	WEBHOOK_KINDS,
	type DeliveryRow,
	type DeliverySummary,
	type WebhookRow
} from '../../repositories/webhooks.js';

const projectParams = z.object({ id: z.string().min(1).max(100).describe('project id or slug') });
const webhookParams = projectParams.extend({ webhookId: z.uuid('must be a webhook id').describe('webhook id') });
const deliveryParams = webhookParams.extend({ deliveryId: z.uuid('must be a delivery id').describe('delivery id') });

/** http(s) only, no credentials in the authority, no fragment; an internal address is fine (self-hosted Mattermost). */
const hookUrl = z
	.string()
	.trim()
	.max(2000)
	.refine((s) => {
		try {
			const u = new URL(s);
			return (u.protocol === 'https:' || u.protocol === 'http:') && !u.username && !u.password && !u.hash && u.hostname !== '';
		} catch {
			return false;
		}
	}, 'must be an http:// or https:// address without user, password or fragment, e.g. https://hooks.slack.com/services/…')
	.transform((s) => new URL(s).href)
	.describe('the incoming webhook address the receiver issued; write-only: stored encrypted, never answered (only its host)');

const kind = z.enum(WEBHOOK_KINDS).describe('slack, mattermost (Slack-compatible), teams (workflow webhook, Adaptive Card) or generic (signed JSON)');
const eventName = z.enum(WEBHOOK_EVENTS).describe('flaky, broken, fixed, quarantined, released, quarantine_expiring, or digest (weekly)');

const createBody = z
	.object({
		kind,
		url: hookUrl,
		events: z.array(eventName).min(1, 'name at least one event').max(WEBHOOK_EVENTS.length).describe('the events to be told of'),
		owners: z
			.array(z.string().trim().min(1).max(200).describe('an owner as tests carry it, e.g. @team-checkout'))
			.max(50)
			.optional()
			.describe('only events of tests one of these owners owns (CODEOWNERS or the test’s own owner tags); absent: every test'),
		secret: z
			.string()
			.min(16, 'must be at least 16 characters')
			.max(200)
			.regex(/^[\x21-\x7e]+$/, 'must be printable characters without spaces')
			.optional()
			.describe('generic only: signs each delivery (X-Flackyness-Signature); write-only, stored encrypted')
	})
	.strict()
	.superRefine((b, ctx) => {
		if (b.secret !== undefined && b.kind !== 'generic') ctx.addIssue({ code: 'custom', path: ['secret'], message: `only the generic kind signs its deliveries; ${b.kind} takes no secret` });
	});

const deliverySchema = z.object({
	id: z.string().describe('delivery id, as sent in X-Flackyness-Delivery'),
	event: z.string().describe('the event told: flaky, broken, fixed, quarantined, released, quarantine_expiring or digest'),
	eventId: z.string().nullable().describe('the test event (null for a digest)'),
	state: z.enum(['pending', 'done', 'failed']).describe('pending (due, or waiting for a retry), done, failed (given up)'),
	attempts: z.number().int().describe('attempts so far'),
	lastStatus: z.number().int().nullable().describe("the receiver's last HTTP status; null when it did not answer"),
	lastError: z.string().nullable().describe('why the last attempt failed, in words (the host, never the URL)'),
	nextAttemptAt: z.date().nullable().describe('when a pending delivery is tried again'),
	createdAt: z.date().describe('when the event was queued for this webhook'),
	updatedAt: z.date().describe('last change'),
	doneAt: z.date().nullable().describe('when the receiver accepted it')
});

const webhookSchema = z.object({
	id: z.string().describe('webhook id'),
	kind,
	host: z.string().describe("the URL's host, e.g. hooks.slack.com; the URL itself is never answered"),
	events: z.array(z.string()).describe('the events it is told of'),
	owners: z.array(z.string()).describe('owners filter; empty: every test'),
	secretSet: z.boolean().describe('a signing secret is stored (generic kind); it is never answered'),
	createdAt: z.date().describe('when it was added'),
	lastDigestAt: z.date().describe('when the last weekly digest was queued (or the webhook added)'),
	deliveries: z
		.object({
			pending: z.number().int().describe('waiting or being retried'),
			failed: z.number().int().describe('given up'),
			lastDoneAt: z.date().nullable().describe('the last accepted delivery')
		})
		.describe('the state of its deliveries')
});

function view(w: WebhookRow, s: DeliverySummary | undefined): z.infer<typeof webhookSchema> {
	return {
		id: w.id,
		kind: w.kind as z.infer<typeof kind>,
		host: w.urlHost,
		events: w.events,
		owners: w.owners,
		secretSet: w.secretSealed !== null,
		createdAt: w.createdAt,
		lastDigestAt: w.lastDigestAt,
		deliveries: s ?? { pending: 0, failed: 0, lastDoneAt: null }
	};
}

const deliveryView = (d: DeliveryRow): z.infer<typeof deliverySchema> => ({
	id: d.id,
	event: d.event,
	eventId: d.eventId,
	state: d.state as 'pending' | 'done' | 'failed',
	attempts: d.attempts,
	lastStatus: d.lastStatus,
	lastError: d.lastError,
	nextAttemptAt: d.state === 'pending' ? d.runAfter : null,
	createdAt: d.createdAt,
	updatedAt: d.updatedAt,
	doneAt: d.doneAt
});

/** A project's notification webhooks and their delivery log: admins only, URLs and secrets write-only. */
const webhooks: FastifyPluginAsyncZod = async (app) => {
	app.addHook('preValidation', app.requireAdminToken);
	const secrets = () => app.secretsFor('Webhook URLs and secrets');
	const common = { config: { rateLimit: app.limits.admin } } as const;
	const tags = ['notifications'];
	const security = [{ bearer: [] }];
	const path = '/api/v1/projects/:id/webhooks';

	async function projectOr404(id: string) {
		const p = await findProject(app.db.pool, id);
		if (!p) throw new HttpError(404, `No project "${id}".`);
		return p;
	}

	async function webhookOr404(id: string, webhookId: string) {
		const p = await projectOr404(id);
		const w = await findWebhook(app.db.prisma, p.id, webhookId);
		if (!w) throw new HttpError(404, `Project "${id}" has no webhook ${webhookId}.`);
		return w;
	}

	app.get(
		path,
		{ ...common, schema: { summary: "The project's notification webhooks (hosts only, never URLs or secrets)", tags, security, params: projectParams, response: { 200: z.object({ webhooks: z.array(webhookSchema).describe('oldest first') }), '4xx': errorBodySchema } } },
		async (request) => {
			const p = await projectOr404(request.params.id);
			const [rows, summaries] = await Promise.all([listWebhooks(app.db.prisma, p.id), deliverySummaries(app.db.pool, p.id)]);
			return { webhooks: rows.map((w) => view(w, summaries.get(w.id))) };
		}
	);

	app.post(
		path,
		{
			...common,
			schema: {
				summary: 'Add a notification webhook; it is told of events from now on (not the history)',
				tags,
				security,
				params: projectParams,
				body: createBody,
				response: { 201: webhookSchema, '4xx': errorBodySchema }
			}
		},
		async (request, reply) => {
			const p = await projectOr404(request.params.id);
			const body = request.body;
			if ((await countWebhooks(app.db.prisma, p.id)) >= MAX_WEBHOOKS_PER_PROJECT) {
				throw new HttpError(409, `Project "${request.params.id}" has ${MAX_WEBHOOKS_PER_PROJECT} webhooks, the most it can have; delete one first.`);
			}
			const box = await secrets();
			const id = randomUUID();
			await createWebhook(app.db.pool, {
				id,
				projectId: p.id,
				kind: body.kind,
				urlSealed: box.seal(body.url, urlContext(id)),
				urlHost: new URL(body.url).host,
				secretSealed: body.secret ? box.seal(body.secret, secretContext(id)) : null,
				events: [...new Set(body.events)],
				owners: [...new Set(body.owners ?? [])]
			});
			const row = await findWebhook(app.db.prisma, p.id, id);
			if (!row) throw new HttpError(409, `The project "${request.params.id}" was deleted meanwhile.`);
			request.log.info({ event: 'webhooks.created', projectId: p.id, webhookId: id, kind: body.kind, host: row.urlHost }, 'notification webhook added');
			return reply.code(201).send(view(row, undefined));
		}
	);

	app.delete(
		`${path}/:webhookId`,
		{ ...common, schema: { summary: 'Remove a webhook with its URL, secret and delivery log', tags, security, params: webhookParams, response: { 204: z.null().describe('removed'), '4xx': errorBodySchema } } },
		async (request, reply) => {
			const p = await projectOr404(request.params.id);
			if (!(await deleteWebhook(app.db.prisma, p.id, request.params.webhookId))) throw new HttpError(404, `Project "${request.params.id}" has no webhook ${request.params.webhookId}.`);
			request.log.info({ event: 'webhooks.deleted', projectId: p.id, webhookId: request.params.webhookId }, 'notification webhook removed');
			return reply.code(204).send(null);
		}
	);

	app.get(
		`${path}/:webhookId/deliveries`,
		{
			...common,
			schema: {
				summary: 'The delivery log of a webhook, newest first',
				tags,
				security,
				params: webhookParams,
				querystring: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50).describe('how many deliveries, newest first (default 50)') }),
				response: { 200: z.object({ deliveries: z.array(deliverySchema).describe('newest first') }), '4xx': errorBodySchema }
			}
		},
		async (request) => {
			const w = await webhookOr404(request.params.id, request.params.webhookId);
			return { deliveries: (await listDeliveries(app.db.prisma, w.id, request.query.limit)).map(deliveryView) };
		}
	);

	app.post(
		`${path}/:webhookId/deliveries/:deliveryId/resend`,
		{
			...common,
			schema: {
				summary: 'Send a delivery again now, with fresh attempts (the receiver sees the same delivery id)',
				tags,
				security,
				params: deliveryParams,
				response: { 200: deliverySchema, '4xx': errorBodySchema }
			}
		},
		async (request) => {
			const w = await webhookOr404(request.params.id, request.params.webhookId);
			const d = await resendDelivery(app.db.prisma, w.id, request.params.deliveryId);
			if (!d) throw new HttpError(404, `Webhook ${w.id} has no delivery ${request.params.deliveryId}.`);
			request.log.info({ event: 'webhooks.resend', projectId: w.projectId, webhookId: w.id, deliveryId: d.id }, 'notification queued again');
			return deliveryView(d);
		}
	);
};

export default webhooks;
