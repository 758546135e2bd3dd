/**
 * The wire protocol between flackyness-reporter (and the upload CLI) and the Flackyness server.
 * Defined once here; the server imports these schemas from `flackyness-reporter/protocol`.
 */
import { z } from 'zod';

export const PROTOCOL_VERSION = 1;

/** Playwright's TestStatus. */
export const testStatusSchema = z.enum(['passed', 'failed', 'timedOut', 'skipped', 'interrupted']);
export type TestStatus = z.infer<typeof testStatusSchema>;

/** Playwright's TestCase.outcome(), once the last attempt is known. */
export const outcomeSchema = z.enum(['expected', 'unexpected', 'flaky', 'skipped']);
export type Outcome = z.infer<typeof outcomeSchema>;

/** A run's final status, as Playwright's FullResult.status plus what the server may decide. */
export const runStatusSchema = z.enum(['passed', 'failed', 'timedout', 'interrupted']);
export type RunStatus = z.infer<typeof runStatusSchema>;

export const ciProviderSchema = z.enum(['gitlab', 'github', 'local', 'other']);
export type CiProvider = z.infer<typeof ciProviderSchema>;

/** Text that PostgreSQL can store: NUL characters are refused (error text is sanitised instead). */
const text = (max: number) =>
	z
		.string()
		.max(max)
		.refine((s) => !s.includes('\u0000'), 'must not contain NUL characters');
const idLike = z
	.string()
	.min(1)
	.max(64)
	.regex(/^[A-Za-z0-9._:-]+$/, 'may hold only letters, digits and . _ : -');
const url = z.url({ protocol: /^https?$/ }).max(2048);
/** Git object names: 7 to 64 hex digits (SHA-1 or SHA-256, possibly abbreviated). */
export const commitShaSchema = z
	.string()
	.regex(/^[0-9a-fA-F]{7,64}$/, 'must be 7 to 64 hexadecimal digits')
	.transform((s) => s.toLowerCase());

/**
 * CI identity and git metadata of one Playwright invocation. Every field is optional: a local run
 * may know nothing at all. Unknown fields are rejected so that typos surface.
 */
export const ciMetadataSchema = z
	.object({
		provider: ciProviderSchema.optional(),
		branch: text(255).min(1).optional(),
		defaultBranch: text(255).min(1).optional(),
		tag: text(255).min(1).optional(),
		commitSha: commitShaSchema.optional(),
		commitTitle: text(1000).optional(),
		commitAuthor: text(500).optional(),
		commitTimestamp: z.iso.datetime({ offset: true }).optional(),
		pipelineId: idLike.optional(),
		pipelineIid: idLike.optional(),
		pipelineUrl: url.optional(),
		pipelineSource: text(64).optional(),
		jobId: idLike.optional(),
		jobName: text(255).min(1).optional(),
		jobUrl: url.optional(),
		mrIid: z.number().int().positive().max(2_147_483_647).optional(),
		mrSourceBranch: text(255).optional(),
		mrTargetBranch: text(255).optional(),
		shardIndex: z.number().int().min(1).max(10_000).optional(),
		shardTotal: z.number().int().min(1).max(10_000).optional(),
		projectPath: text(255).optional()
	})
	.strict()
	.refine((m) => m.shardIndex === undefined || m.shardTotal === undefined || m.shardIndex <= m.shardTotal, {
		message: 'shardIndex must not exceed shardTotal',
		path: ['shardIndex']
	});
export type CiMetadata = z.infer<typeof ciMetadataSchema>;

export const testErrorSchema = z.object({
	message: z.string().max(65_536),
	stack: z.string().max(65_536).optional(),
	/** "file:line:column" */
	location: z.string().max(1024).optional()
});
export type TestError = z.infer<typeof testErrorSchema>;

export const annotationSchema = z.object({
	type: text(255),
	description: text(4096).optional()
});

/** One test's result in one run, after its last attempt. */
export const testResultInputSchema = z.object({
	/** Path of the spec file relative to the test directory, with forward slashes. */
	file: text(1024).min(1),
	/** Titles from the outermost describe to the test itself (file and project excluded). */
	titlePath: z.array(text(2048)).min(1).max(64),
	/** Playwright project name; '' when the config has a single unnamed project. */
	projectName: text(255).default(''),
	tags: z.array(text(255)).max(100).default([]),
	outcome: outcomeSchema,
	expectedStatus: testStatusSchema,
	/** Status of the last attempt. */
	status: testStatusSchema,
	attempts: z.number().int().min(0).max(100),
	failedAttempts: z.number().int().min(0).max(100),
	/** Sum over attempts, in milliseconds. */
	durationMs: z.number().int().min(0).max(2_147_483_647),
	startedAt: z.iso.datetime({ offset: true }),
	/** First error of the first failed attempt. */
	error: testErrorSchema.optional(),
	annotations: z.array(annotationSchema).max(100).default([])
});
export type TestResultInput = z.input<typeof testResultInputSchema>;
export type TestResultData = z.output<typeof testResultInputSchema>;

export const runStatsSchema = z.object({
	expected: z.number().int().min(0),
	unexpected: z.number().int().min(0),
	flaky: z.number().int().min(0),
	skipped: z.number().int().min(0)
});
export type RunStats = z.infer<typeof runStatsSchema>;

/** POST /api/v1/runs */
export const openRunSchema = z
	.object({
		/** Client-chosen key; otherwise derived from the CI identity. */
		idempotencyKey: text(200).min(8).optional(),
		ci: ciMetadataSchema.default({}),
		playwrightVersion: text(32).optional(),
		startedAt: z.iso.datetime({ offset: true }).optional()
	})
	.strict();
export type OpenRunInput = z.input<typeof openRunSchema>;

export const MAX_RESULTS_PER_BATCH = 1000;

/** POST /api/v1/runs/:runId/results */
export const resultBatchSchema = z
	.object({
		results: z.array(testResultInputSchema).min(1).max(MAX_RESULTS_PER_BATCH)
	})
	.strict();
export type ResultBatchInput = z.input<typeof resultBatchSchema>;

/** POST /api/v1/runs/:runId/complete */
export const completeRunSchema = z
	.object({
		status: runStatusSchema,
		durationMs: z.number().int().min(0).max(2_147_483_647).optional(),
		stats: runStatsSchema.optional()
	})
	.strict();
export type CompleteRunInput = z.input<typeof completeRunSchema>;

export const runCountsSchema = z.object({
	total: z.number().int(),
	expected: z.number().int(),
	unexpected: z.number().int(),
	flaky: z.number().int(),
	skipped: z.number().int()
});

/** Answer to opening a run, completing it, or uploading a whole report. */
export const runReceiptSchema = z.object({
	runId: z.uuid(),
	created: z.boolean(),
	status: z.string(),
	counts: runCountsSchema,
	url: z.string()
});
export type RunReceipt = z.infer<typeof runReceiptSchema>;

export const batchReceiptSchema = z.object({
	accepted: z.number().int(),
	duplicates: z.number().int()
});
export type BatchReceipt = z.infer<typeof batchReceiptSchema>;

/** Error body of every 4xx/5xx answer. */
export const errorBodySchema = z.object({
	statusCode: z.number().int(),
	error: z.string(),
	message: z.string(),
	requestId: z.string().optional()
});
export type ErrorBody = z.infer<typeof errorBodySchema>;
