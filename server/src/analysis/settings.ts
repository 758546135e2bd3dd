/**
 * Analysis thresholds. They live in `Project.settings` (JSONB) under `analysis`; every field is
 * optional there and falls back to the default here.
 */
import { z } from 'zod';

const probability = z.number().min(0).max(1);

export const analysisSettingsSchema = z.object({
	/** Half-life of the time decay applied to evidence, in days. */
	halfLifeDays: z.number().positive().max(3650).default(14),
	/** Beta prior of the per-attempt failure probability (mean α / (α + β)). */
	priorAlpha: z.number().positive().default(0.5),
	priorBeta: z.number().positive().default(9.5),
	/** Probability mass of the credible interval. */
	credibleMass: z.number().gt(0).lt(1).default(0.9),
	/** Commits with mixed outcomes needed to call a test flaky. */
	minMixedCommits: z.number().int().min(1).default(1),
	/**
	 * Separate streaks of failures (on commits that never passed, outside broken segments, with
	 * passing commits between the streaks) needed to call a test flaky without mixed-outcome proof:
	 * suites without retries or re-runs only produce this kind of evidence.
	 */
	minIsolatedFailures: z.number().int().min(1).default(2),
	/** Evidence runs needed before isolated failures alone may make a test flaky. */
	minRunsForRate: z.number().int().min(1).default(10),
	/** Log-likelihood gain a change point needs (LUCI: ln 10^4). */
	changePointThreshold: z.number().positive().default(Math.log(1e4)),
	/** A segment counts as broken when at least this share of its runs failed… */
	brokenMinFailRate: probability.default(0.9),
	/** …and at least this share of its retried failures failed on every attempt… */
	brokenMinStickiness: probability.default(0.9),
	/** …and it has at least this many runs… */
	minBrokenRuns: z.number().int().min(1).default(2),
	/** …and its failures are this unlikely as flakes at the rate seen elsewhere (upper bound). */
	brokenImplausibility: z.number().gt(0).lt(1).default(1e-4),
	/**
	 * Confidence the "fixed" rule demands over a test's life: a steadily flaky test, its verdict
	 * re-checked after every run, is called fixed at some point with a chance of at most 1 − c.
	 */
	fixedConfidence: z.number().gt(0).lt(1).default(0.99),
	/** A lone unexplained failure makes a test suspect for this many days. */
	suspectDays: z.number().positive().default(7),
	/** Window for runs per day in the impact estimate, in days. */
	impactWindowDays: z.number().positive().default(14),
	/** Mixed commits listed in the evidence. */
	evidenceLimit: z.number().int().min(1).max(1000).default(20),
	/**
	 * A feature branch whose newest run of a test failed (on a commit that never passed) makes the
	 * test `failing` for this many days after that failure (an abandoned branch stops counting).
	 */
	failingBranchDays: z.number().positive().max(3650).default(14),
	/**
	 * A test absent from this many complete default-branch pipelines in a row (and not seen anywhere
	 * since the first of them began) is inactive: out of the active counts and the default lists.
	 */
	inactiveAfterPipelines: z.number().int().min(1).max(1000).default(5)
});

export type AnalysisSettings = z.output<typeof analysisSettingsSchema>;
export type AnalysisSettingsInput = z.input<typeof analysisSettingsSchema>;

export const DEFAULT_ANALYSIS_SETTINGS: AnalysisSettings = analysisSettingsSchema.parse({});

/** Resolves stored (possibly partial) settings; throws a ZodError on invalid values. */
export function resolveAnalysisSettings(input: AnalysisSettingsInput | undefined = {}): AnalysisSettings {
	return analysisSettingsSchema.parse(input);
}

export const infraGuardSettingsSchema = z.object({
	/** Jobs with fewer non-skipped results are never judged by share. */
	minResults: z.number().int().min(1).default(10),
	/** Share of results whose first attempt failed that marks a job as an infrastructure failure. */
	failureShare: probability.default(0.5),
	/** A single error fingerprint shared by at least this many failed results… */
	clusterMinFailures: z.number().int().min(2).default(5),
	/** …covering at least this share of the failed results… */
	clusterConcentration: probability.default(0.6),
	/** …and at least this share of all results also marks the job. */
	clusterShare: probability.default(0.05),
	/**
	 * A burst also marks the job (results need `startedAt`): at least `burstMinFailures` results
	 * whose first attempt failed with one error fingerprint, started within `burstWindowSeconds`,
	 * and making up at least `burstShare` of all results started in that span.
	 */
	burstMinFailures: z.number().int().min(2).default(3),
	burstWindowSeconds: z.number().positive().default(300),
	burstShare: probability.default(0.8),
	/**
	 * An error fingerprint is an infrastructure error everywhere (see `infraFingerprints`) when at
	 * least this share of its failures happened in jobs judged infrastructure failures…
	 */
	fingerprintInfraShare: probability.default(0.8),
	/** …and at least this many of them. */
	fingerprintMinFailures: z.number().int().min(1).default(10)
});

export type InfraGuardSettings = z.output<typeof infraGuardSettingsSchema>;
export type InfraGuardSettingsInput = z.input<typeof infraGuardSettingsSchema>;

export const DEFAULT_INFRA_GUARD_SETTINGS: InfraGuardSettings = infraGuardSettingsSchema.parse({});

export function resolveInfraGuardSettings(input: InfraGuardSettingsInput | undefined = {}): InfraGuardSettings {
	return infraGuardSettingsSchema.parse(input);
}

/**
 * Automatic quarantine (off unless `minFailureChance` is set): a flaky test whose failure chance is
 * at least this, by the lower bound of its interval (so a test is not quarantined on thin evidence),
 * is quarantined for `days`, and released as soon as its verdict is fixed.
 */
export const quarantinePolicySchema = z.object({
	minFailureChance: z.number().gt(0).max(1).optional(),
	days: z.number().positive().max(365).default(14)
});

export type QuarantinePolicy = z.output<typeof quarantinePolicySchema>;

export function resolveQuarantinePolicy(input: unknown): QuarantinePolicy {
	const parsed = quarantinePolicySchema.safeParse(input ?? {});
	return parsed.success ? parsed.data : quarantinePolicySchema.parse({});
}
