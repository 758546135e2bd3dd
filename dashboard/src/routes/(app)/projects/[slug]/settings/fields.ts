/** The thresholds people may tune (server/src/analysis/settings.ts), in words. */
export interface Field {
	group: 'analysis' | 'infraGuard' | 'quarantinePolicy';
	key: string;
	label: string;
	help: string;
	step: string;
}

export const FIELDS: Field[] = [
	{ group: 'analysis', key: 'minMixedCommits', label: 'Mixed commits to call a test flaky', help: 'Commits on which the same code both passed and failed.', step: '1' },
	{ group: 'analysis', key: 'halfLifeDays', label: 'Evidence half-life (days)', help: 'How fast old results stop counting.', step: 'any' },
	{ group: 'analysis', key: 'credibleMass', label: 'Credible interval', help: 'Probability mass of the score interval, e.g. 0.9.', step: 'any' },
	{ group: 'analysis', key: 'minIsolatedFailures', label: 'Failure streaks without retries', help: 'Separate failure streaks that make a test flaky without mixed-commit proof.', step: '1' },
	{ group: 'analysis', key: 'minRunsForRate', label: 'Runs before streaks count', help: 'Evidence runs needed before failure streaks alone may make a test flaky.', step: '1' },
	{ group: 'analysis', key: 'brokenMinFailRate', label: 'Broken: share of runs failing', help: 'A segment counts as broken when at least this share of its runs failed.', step: 'any' },
	{ group: 'analysis', key: 'brokenMinStickiness', label: 'Broken: share failing every retry', help: 'And this share of its retried failures failed on every attempt.', step: 'any' },
	{ group: 'analysis', key: 'minBrokenRuns', label: 'Broken: minimum runs', help: 'And it has at least this many runs.', step: '1' },
	{ group: 'analysis', key: 'fixedConfidence', label: '"Fixed" confidence', help: 'Confidence the clean-run rule demands before a flaky test counts as fixed.', step: 'any' },
	{ group: 'analysis', key: 'suspectDays', label: 'Suspect for (days)', help: 'A lone unexplained failure keeps a test suspect this long.', step: 'any' },
	{ group: 'analysis', key: 'impactWindowDays', label: 'Impact window (days)', help: 'Window for runs per day in the CI-time estimate.', step: 'any' },
	{ group: 'analysis', key: 'failingBranchDays', label: 'Failing on a branch for (days)', help: 'A feature branch whose newest run failed keeps the test "failing" this long (an abandoned branch stops counting).', step: 'any' },
	{ group: 'analysis', key: 'inactiveAfterPipelines', label: 'Inactive after (pipelines)', help: 'A test absent from this many complete default-branch pipelines in a row is inactive: out of the active counts and lists until it runs again.', step: '1' },
	{ group: 'infraGuard', key: 'minResults', label: 'Infra guard: minimum results', help: 'Jobs with fewer results are never judged by share.', step: '1' },
	{ group: 'infraGuard', key: 'failureShare', label: 'Infra guard: failing share', help: 'Share of first attempts failing that marks a job as an infrastructure failure.', step: 'any' },
	{ group: 'infraGuard', key: 'clusterMinFailures', label: 'Infra guard: one error, at least', help: 'A single error shared by at least this many failed results…', step: '1' },
	{ group: 'infraGuard', key: 'clusterConcentration', label: 'Infra guard: one error, share of failures', help: '…covering at least this share of the failures…', step: 'any' },
	{ group: 'infraGuard', key: 'clusterShare', label: 'Infra guard: one error, share of results', help: '…and this share of all results also marks the job.', step: 'any' },
	{ group: 'quarantinePolicy', key: 'minFailureChance', label: 'Auto-quarantine: failure chance at least', help: 'Quarantine a flaky test once the low end of its failure chance reaches this, e.g. 0.05. Empty: off.', step: 'any' },
	{ group: 'quarantinePolicy', key: 'days', label: 'Auto-quarantine: for (days)', help: 'Released earlier as soon as the test is fixed.', step: 'any' }
];

export const fieldName = (f: Field) => `${f.group}.${f.key}`;

/** The form's non-empty fields as the settings API's body; empty means "the default". */
export function settingsBody(form: FormData): { body: Record<string, unknown>; problem: string | null } {
	const groups: Record<Field['group'], Record<string, number>> = { analysis: {}, infraGuard: {}, quarantinePolicy: {} };
	for (const f of FIELDS) {
		const raw = String(form.get(fieldName(f)) ?? '').trim();
		if (raw === '') continue;
		const n = Number(raw.replace(',', '.'));
		if (!Number.isFinite(n)) return { body: {}, problem: `${f.label}: "${raw}" is not a number` };
		groups[f.group][f.key] = n;
	}
	const defaultBranch = String(form.get('defaultBranch') ?? '').trim();
	return {
		body: { ...groups, ...(defaultBranch ? { defaultBranch } : {}) },
		problem: null
	};
}
