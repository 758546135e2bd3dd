import { z } from 'zod';

/**
 * The parts of the read API's answers (server/src/repositories/reads.ts) this server uses. Fields
 * it does not use are let through untouched, so a newer server with more fields still works.
 */

export const HEALTH_STATES = ['healthy', 'flaky', 'broken', 'suspect', 'failing', 'fixed', 'quarantined', 'skipped'] as const;
export const healthState = z.enum(HEALTH_STATES);
export type HealthState = z.infer<typeof healthState>;

const when = z.string();
const outcome = z.enum(['expected', 'unexpected', 'flaky', 'skipped']);

export const projectsAnswer = z.object({
	projects: z.array(
		z.looseObject({
			id: z.string(),
			slug: z.string(),
			name: z.string(),
			isDemo: z.boolean(),
			lastRunAt: when.nullable(),
			tests: z.number(),
			flaky: z.number(),
			broken: z.number()
		})
	)
});
export type ProjectRow = z.infer<typeof projectsAnswer>['projects'][number];

export const flakyRow = z.looseObject({
	testId: z.string(),
	title: z.string(),
	titlePath: z.array(z.string()),
	file: z.string(),
	projectName: z.string(),
	tags: z.array(z.string()).nullable(),
	state: healthState,
	stateSince: when,
	score: z.number().nullable(),
	scoreLow: z.number().nullable(),
	scoreHigh: z.number().nullable(),
	flakeRate: z.number().nullable(),
	impactMinutes: z.number(),
	runs: z.number(),
	failures: z.number(),
	flakyRuns: z.number(),
	mixedCommits: z.number(),
	lastSeenAt: when.nullable(),
	lastFlakyAt: when.nullable(),
	changePointSha: z.string().nullable()
});
export type FlakyRow = z.infer<typeof flakyRow>;

export const flakyPage = z.object({ items: z.array(flakyRow), total: z.number() });

const mixedCommit = z.looseObject({
	sha: z.string(),
	branch: z.string(),
	kind: z.string(),
	runs: z.number(),
	failedRuns: z.number(),
	passedRuns: z.number(),
	lastAt: when
});

/** The engine's evidence (server/src/analysis/types.ts VerdictEvidence); older rows may lack parts. */
const evidence = z.looseObject({
	reasons: z.array(z.string()).optional(),
	estimate: z.looseObject({ mean: z.number(), low: z.number(), high: z.number(), credibleMass: z.number() }).optional(),
	mixedCommits: z.array(mixedCommit).optional(),
	mixedCommitsTotal: z.number().optional(),
	changePoint: z
		.looseObject({ firstBadSha: z.string(), firstBadAt: when, lastGoodSha: z.string().nullable(), lastGoodAt: when.nullable() })
		.nullable()
		.optional(),
	fixedRule: z.looseObject({ cleanRunsSince: z.number(), requiredRuns: z.number(), rate: z.number() }).nullable().optional(),
	failingBranches: z.array(z.looseObject({ branch: z.string(), failedRuns: z.number(), runs: z.number(), lastFailedAt: when })).optional(),
	impact: z.looseObject({ runsPerDay: z.number(), meanAttemptMinutes: z.number(), failureProbability: z.number() }).optional()
});
export type Evidence = z.infer<typeof evidence>;

export const testAnswer = z.looseObject({
	id: z.string(),
	projectId: z.string(),
	title: z.string(),
	titlePath: z.array(z.string()),
	file: z.string(),
	projectName: z.string(),
	tags: z.array(z.string()).nullable(),
	health: z
		.looseObject({
			state: healthState,
			stateSince: when,
			score: z.number().nullable(),
			scoreLow: z.number().nullable(),
			scoreHigh: z.number().nullable(),
			flakeRate: z.number().nullable(),
			runs: z.number(),
			failures: z.number(),
			flakyRuns: z.number(),
			mixedCommits: z.number(),
			impactMinutes: z.number(),
			lastFlakyAt: when.nullable(),
			changePointSha: z.string().nullable(),
			analyzedAt: when,
			evidence: evidence.nullable()
		})
		.nullable(),
	quarantine: z.looseObject({ reason: z.string(), createdBy: z.string(), createdAt: when, expiresAt: when.nullable() }).nullable()
});
export type TestAnswer = z.infer<typeof testAnswer>;

export const historyAnswer = z.object({
	items: z.array(
		z.looseObject({
			runId: z.string(),
			startedAt: when,
			outcome,
			attempts: z.number(),
			failedAttempts: z.number(),
			durationMs: z.number(),
			commitSha: z.string().nullable(),
			branch: z.string().nullable(),
			pipelineId: z.string().nullable(),
			jobUrl: z.string().nullable(),
			infra: z.boolean(),
			error: z.looseObject({ message: z.string(), location: z.string().nullable(), fingerprint: z.string().nullable() }).nullable()
		})
	)
});
export type HistoryItem = z.infer<typeof historyAnswer>['items'][number];

export const runAnswer = z.looseObject({
	id: z.string(),
	projectId: z.string(),
	status: z.string(),
	branch: z.string().nullable(),
	commitSha: z.string().nullable(),
	commitTitle: z.string().nullable(),
	pipelineId: z.string().nullable(),
	pipelineUrl: z.string().nullable(),
	jobName: z.string().nullable(),
	jobUrl: z.string().nullable(),
	mrIid: z.number().nullable(),
	shardIndex: z.number().nullable(),
	shardTotal: z.number().nullable(),
	startedAt: when,
	durationMs: z.number().nullable(),
	total: z.number(),
	expected: z.number(),
	unexpected: z.number(),
	flaky: z.number(),
	skipped: z.number(),
	infraFailure: z.boolean(),
	infraReason: z.string().nullable(),
	shards: z.array(
		z.looseObject({ id: z.string(), shardIndex: z.number().nullable(), shardTotal: z.number().nullable(), status: z.string(), unexpected: z.number(), flaky: z.number() })
	),
	notable: z.array(
		z.looseObject({
			testId: z.string(),
			title: z.string(),
			file: z.string(),
			projectName: z.string(),
			outcome,
			attempts: z.number(),
			errorMessage: z.string().nullable(),
			state: healthState.nullable()
		})
	)
});
export type RunAnswer = z.infer<typeof runAnswer>;
