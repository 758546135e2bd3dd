import { z } from 'zod';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { errorBodySchema } from 'flackyness-reporter/protocol';
import { canReadProject } from '../../auth/plugin.js';
import {
	DEFAULT_ANALYSIS_SETTINGS,
	DEFAULT_INFRA_GUARD_SETTINGS,
	analysisSettingsSchema,
	infraGuardSettingsSchema,
	quarantinePolicySchema
} from '../../analysis/settings.js';
import { transaction } from '../../db/database.js';
import { HttpError } from '../../lib/http-errors.js';
import { findProject } from '../../repositories/projects.js';
import { enqueueProjectAnalysis, projectSettings, saveProjectSettings, type StoredSettings } from '../../repositories/settings.js';

const projectParams = z.object({ id: z.string().min(1).max(100).describe('project id or slug') });
const branch = z.string().trim().min(1).max(255);
const record = z.record(z.string(), z.unknown());

/**
 * The schema's fields without their defaults: stored settings keep only the keys someone set, so
 * that better defaults reach every project that never chose its own.
 */
function withoutDefaults<S extends z.ZodRawShape>(schema: z.ZodObject<S>) {
	const shape = Object.fromEntries(
		Object.entries(schema.shape).map(([k, v]) => [k, (v instanceof z.ZodDefault ? v.unwrap() : v) as z.ZodType])
	);
	return z.object(shape).partial().strict();
}

const bodySchema = z
	.object({
		analysis: withoutDefaults(analysisSettingsSchema).optional(),
		infraGuard: withoutDefaults(infraGuardSettingsSchema).optional(),
		defaultBranch: branch.nullable().optional(),
		quarantinePolicy: withoutDefaults(quarantinePolicySchema)
			.optional()
			.describe(
				'automatic quarantine: minFailureChance (0–1, the lower bound of the interval a flaky test must reach; absent: off) and days (how long; default 14)'
			)
	})
	.strict();

const DEFAULT_QUARANTINE_POLICY = quarantinePolicySchema.parse({});

const viewSchema = z.object({
	stored: z.object({ analysis: record.optional(), infraGuard: record.optional(), defaultBranch: z.string().optional(), quarantinePolicy: record.optional() }),
	effective: z.object({ analysis: record, infraGuard: record, defaultBranches: z.array(z.string()), quarantinePolicy: record }),
	defaults: z.object({ analysis: record, infraGuard: record, defaultBranches: z.array(z.string()), quarantinePolicy: record })
});

const DEFAULT_BRANCHES = ['main', 'master'];

function view(stored: StoredSettings) {
	const pick = <T extends object>(o: unknown) => (o && typeof o === 'object' ? (o as T) : undefined);
	const analysis = analysisSettingsSchema.safeParse(stored.analysis ?? {});
	const infraGuard = infraGuardSettingsSchema.safeParse(stored.infraGuard ?? {});
	const policy = quarantinePolicySchema.safeParse(stored.quarantinePolicy ?? {});
	return {
		stored: {
			...(pick(stored.analysis) ? { analysis: stored.analysis } : {}),
			...(pick(stored.infraGuard) ? { infraGuard: stored.infraGuard } : {}),
			...(typeof stored.defaultBranch === 'string' ? { defaultBranch: stored.defaultBranch } : {}),
			...(pick(stored.quarantinePolicy) ? { quarantinePolicy: stored.quarantinePolicy } : {})
		},
		effective: {
			analysis: analysis.success ? analysis.data : DEFAULT_ANALYSIS_SETTINGS,
			infraGuard: infraGuard.success ? infraGuard.data : DEFAULT_INFRA_GUARD_SETTINGS,
			defaultBranches: typeof stored.defaultBranch === 'string' ? [stored.defaultBranch] : DEFAULT_BRANCHES,
			quarantinePolicy: policy.success ? policy.data : DEFAULT_QUARANTINE_POLICY
		},
		defaults: { analysis: DEFAULT_ANALYSIS_SETTINGS, infraGuard: DEFAULT_INFRA_GUARD_SETTINGS, defaultBranches: DEFAULT_BRANCHES, quarantinePolicy: DEFAULT_QUARANTINE_POLICY }
	};
}

/** A project's analysis thresholds: read by any reader, written by admins. */
const settings: FastifyPluginAsyncZod = async (app) => {
	const tags = ['settings'];
	const security = [{ bearer: [] }];

	async function readable(request: FastifyRequest, idOrSlug: string) {
		const p = await findProject(app.db.pool, idOrSlug);
		if (!p || !canReadProject(request, p.id)) throw new HttpError(404, `No project "${idOrSlug}".`);
		return p;
	}

	app.get(
		'/api/v1/projects/:id/settings',
		{
			preValidation: app.requireReader,
			config: { rateLimit: app.limits.reads },
			schema: { summary: 'Analysis thresholds: as stored, in effect, and the defaults', tags, security, params: projectParams, response: { 200: viewSchema, '4xx': errorBodySchema } }
		},
		async (request) => {
			const p = await readable(request, request.params.id);
			return view((await projectSettings(app.db.pool, p.id)) ?? {});
		}
	);

	app.put(
		'/api/v1/projects/:id/settings',
		{
			preValidation: app.requireAdminToken,
			config: { rateLimit: app.limits.admin },
			schema: {
				summary: 'Replace the analysis thresholds (omitted keys take the defaults) and re-analyse every test',
				tags,
				security,
				params: projectParams,
				body: bodySchema,
				response: { 200: viewSchema.extend({ queuedJobs: z.number() }), '4xx': errorBodySchema }
			}
		},
		async (request) => {
			const p = await readable(request, request.params.id);
			const { analysis, infraGuard, defaultBranch, quarantinePolicy } = request.body;
			const stored: StoredSettings = {};
			if (analysis && Object.keys(analysis).length > 0) stored.analysis = analysis;
			if (infraGuard && Object.keys(infraGuard).length > 0) stored.infraGuard = infraGuard;
			if (defaultBranch) stored.defaultBranch = defaultBranch;
			if (quarantinePolicy && Object.keys(quarantinePolicy).length > 0) stored.quarantinePolicy = quarantinePolicy;
			const result = await transaction(app.db.pool, async (c) => {
				const saved = await saveProjectSettings(c, p.id, stored);
				return { saved: saved ?? {}, jobs: (await enqueueProjectAnalysis(c, p.id)).jobs };
			});
			request.log.info({ event: 'settings.saved', projectId: p.id, queuedJobs: result.jobs }, 'project settings saved');
			return { ...view(result.saved), queuedJobs: result.jobs };
		}
	);
};

export default settings;
