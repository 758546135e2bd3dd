export { analyzeTest } from './engine.js';
export { infraFingerprints, judgeJobInfra, type FingerprintStats, type InfraJudgement, type JobResult } from './infra.js';
export { segmentHistory, segmentLogLikelihood, LUCI_PRIORS, LUCI_SPLIT_THRESHOLD } from './changepoint.js';
export { betaCdf, betaInterval, betaQuantile, lnBeta, lnGamma } from './beta.js';
export {
	analysisSettingsSchema,
	infraGuardSettingsSchema,
	resolveAnalysisSettings,
	resolveInfraGuardSettings,
	DEFAULT_ANALYSIS_SETTINGS,
	DEFAULT_INFRA_GUARD_SETTINGS,
	type AnalysisSettings,
	type AnalysisSettingsInput,
	type InfraGuardSettings,
	type InfraGuardSettingsInput,
	quarantinePolicySchema,
	resolveQuarantinePolicy,
	type QuarantinePolicy
} from './settings.js';
export type * from './types.js';
