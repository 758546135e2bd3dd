/** Shapes of the read API's answers (server/src/repositories/reads.ts), as the dashboard uses them. */

export type Role = 'admin' | 'viewer';
export interface SessionUser {
	id: string;
	email: string;
	role: Role;
}

export type HealthState = 'healthy' | 'flaky' | 'broken' | 'suspect' | 'failing' | 'fixed' | 'quarantined' | 'skipped';
export const HEALTH_STATES: HealthState[] = ['flaky', 'broken', 'suspect', 'failing', 'quarantined', 'fixed', 'healthy', 'skipped'];

/** A feature branch on which a test is failing (evidence of the `failing` state). */
export interface FailingBranch {
	branch: string;
	failedRuns: number;
	runs: number;
	firstFailedAt: string;
	lastFailedAt: string;
}
export type Outcome = 'expected' | 'unexpected' | 'flaky' | 'skipped';

export interface Project {
	id: string;
	slug: string;
	name: string;
	isDemo: boolean;
	createdAt: string;
	lastRunAt: string | null;
	tests: number;
	flaky: number;
	broken: number;
}

export interface TrendDay {
	day: string;
	results: number;
	flaky: number;
	failed: number;
	runs: number;
	flakeRate: number | null;
}

export interface Stats {
	project: { id: string; slug: string; name: string; isDemo: boolean };
	testsTracked: number;
	activeFlaky: number;
	brokenNow: number;
	suspect: number;
	/** Active tests failing on feature branches only. */
	failing: number;
	/** Tests absent from the last N complete default-branch pipelines (not in the other counts). */
	inactive: number;
	quarantined: number;
	/** Tests whose verdict went from flaky or broken to fixed or healthy in the last 7 days. */
	fixedThisWeek: number;
	impactMinutesPerDay: number;
	overallFlakeRate: number;
	flakeRateLast30Days: number;
	days: number;
	trend: TrendDay[];
}

export interface FlakyTestRow {
	testId: string;
	title: string;
	titlePath: string[];
	file: string;
	projectName: string;
	tags: string[];
	/** CODEOWNERS owners of its file and owners it names itself; empty when none. */
	owners: string[];
	state: HealthState;
	stateSince: string;
	/** Null for a test skipped in every run. */
	score: number | null;
	scoreLow: number | null;
	scoreHigh: number | null;
	flakeRate: number | null;
	impactMinutes: number;
	runs: number;
	failures: number;
	flakyRuns: number;
	mixedCommits: number;
	lastSeenAt: string | null;
	lastFlakyAt: string | null;
	changePointSha: string | null;
	/** Null while active; else since when it is gone from the recent default-branch pipelines. */
	inactiveSince: string | null;
	failingBranches: FailingBranch[];
}

export interface Page<T> {
	items: T[];
	total: number;
	page: number;
	pageSize: number;
}

/** An owner of a project's tests (GET /projects/:id/owners). */
export interface OwnerCounts {
	owner: string;
	tests: number;
	flaky: number;
	broken: number;
}

export interface OwnersList {
	owners: OwnerCounts[];
	unowned: number;
}

export interface Facets {
	branches: string[];
	playwrightProjects: string[];
}

export interface MixedCommitEvidence {
	sha: string;
	branch: string;
	kind: 'in-run' | 'cross-run' | 'both';
	runs: number;
	failedRuns: number;
	passedRuns: number;
	detectedAt: string;
	lastAt: string;
}

export interface Evidence {
	reasons?: string[];
	estimate?: { mean: number; low: number; high: number; credibleMass: number; halfLifeDays: number; attempts: number; failedAttempts: number };
	counts?: Record<string, number>;
	mixedCommits?: MixedCommitEvidence[];
	mixedCommitsTotal?: number;
	segments?: {
		kind: 'passing' | 'flaky' | 'broken';
		firstSha: string;
		lastSha: string;
		firstAt: string;
		lastAt: string;
		commits: number;
		runs: number;
		failedRuns: number;
	}[];
	changePoint?: { firstBadSha: string; firstBadAt: string; lastGoodSha: string | null; lastGoodAt: string | null; gain: number | null } | null;
	fixedRule?: { cleanRunsSince: number; requiredRuns: number; rate: number } | null;
	failingBranches?: FailingBranch[];
	impact?: { runsPerDay: number; meanAttemptMinutes: number; failureProbability: number };
}

/** The figures of the test page, each over a named set of runs (see $lib/figures for their definitions). */
export interface Figures {
	runSet: 'default-branch' | 'all-branches';
	totalRuns: number;
	countedRuns: number;
	failedRuns: number;
	flakyRuns: number;
	unexpectedRuns: number;
	notCounted: { skipped: number; infrastructure: number; broken: number; featureBranch: number; otherBranches: number };
	lastNotCountedFailure: { at: string; runId: string; reason: 'infrastructure' | 'broken' | 'feature-branch' } | null;
	estimatedAt: string;
}

export interface Health {
	state: HealthState;
	stateSince: string;
	/** Null for a test skipped in every run. */
	score: number | null;
	scoreLow: number | null;
	scoreHigh: number | null;
	flakeRate: number | null;
	runs: number;
	failures: number;
	flakyRuns: number;
	mixedCommits: number;
	impactMinutes: number;
	firstDetectedAt: string | null;
	lastFlakyAt: string | null;
	changePointSha: string | null;
	changePointAt: string | null;
	analyzedAt: string;
	/** Null for a verdict stored before the figures existed. */
	figures: Figures | null;
	evidence: Evidence;
	/** Null or absent while active. */
	inactiveSince?: string | null;
}

export interface TestDetail {
	id: string;
	projectId: string;
	title: string;
	titlePath: string[];
	file: string;
	projectName: string;
	tags: string[];
	owners: string[];
	firstSeenAt: string;
	lastSeenAt: string;
	health: Health | null;
	quarantine: { id: string; reason: string; createdBy: string; createdAt: string; expiresAt: string | null } | null;
	/** The project's inactiveAfterPipelines: "inactive since … (not in the last N complete default-branch pipelines)". */
	inactiveAfterPipelines?: number;
}

/** A file a failed attempt left behind, as a path in the job's artifacts (relative to CI_PROJECT_DIR). */
export interface Attachment {
	name: string;
	contentType: string;
	path: string;
	/** Retry index of the failed attempt, 0 for the first run. */
	attempt: number;
}

export interface HistoryItem {
	runId: string;
	startedAt: string;
	outcome: Outcome;
	status: string;
	expectedStatus: string;
	attempts: number;
	failedAttempts: number;
	durationMs: number;
	commitSha: string | null;
	commitTitle: string | null;
	branch: string | null;
	pipelineId: string | null;
	pipelineUrl: string | null;
	jobId: string | null;
	jobName: string | null;
	jobUrl: string | null;
	mrIid: number | null;
	infra: boolean;
	/** Why the analysis does not count this run (infrastructure), or null when it does. */
	discountedWhy: string | null;
	/** The run was on the project's default branch. */
	defaultBranch: boolean;
	shardIndex: number | null;
	shardTotal: number | null;
	attachments: Attachment[] | null;
	error: { message: string; location: string | null; fingerprint: string | null } | null;
}

/** A page of `GET /tests/:id/history/compact`: one entry per run in parallel arrays, newest first. */
export interface CompactHistory {
	total: number;
	defaultBranches: string[];
	runs: HistoryColumns;
	nextCursor: string | null;
}

export interface HistoryColumns {
	runId: string[];
	startedAt: string[];
	outcome: Outcome[];
	attempts: number[];
	failedAttempts: number[];
	durationMs: number[];
	branch: (string | null)[];
	defaultBranch: boolean[];
	commitSha: (string | null)[];
	jobName: (string | null)[];
	pipelineId: (string | null)[];
	discountedWhy: (string | null)[];
}

export type RunStatus = 'running' | 'passed' | 'failed' | 'timedout' | 'interrupted' | 'incomplete';

export interface RunRow {
	id: string;
	status: RunStatus;
	source: 'reporter' | 'json_upload';
	branch: string | null;
	commitSha: string | null;
	commitTitle: string | null;
	pipelineId: string | null;
	pipelineUrl: string | null;
	jobName: string | null;
	jobUrl: string | null;
	mrIid: number | null;
	shardIndex: number | null;
	shardTotal: number | null;
	groupKey: string | null;
	startedAt: string;
	durationMs: number | null;
	total: number;
	expected: number;
	unexpected: number;
	flaky: number;
	skipped: number;
	infraFailure: boolean;
	infraReason: string | null;
}

export interface RunDetail extends RunRow {
	projectId: string;
	ciProvider: string | null;
	commitAuthor: string | null;
	jobId: string | null;
	mrTargetBranch: string | null;
	playwrightVersion: string | null;
	endedAt: string | null;
	shards: { id: string; shardIndex: number | null; shardTotal: number | null; status: RunStatus; total: number; unexpected: number; flaky: number }[];
	notable: {
		testId: string;
		title: string;
		file: string;
		projectName: string;
		outcome: Outcome;
		attempts: number;
		durationMs: number;
		errorMessage: string | null;
		fingerprint: string | null;
		state: HealthState | null;
		attachments: Attachment[] | null;
	}[];
}

export interface ErrorCluster {
	fingerprint: string;
	occurrences: number;
	tests: number;
	lastSeenAt: string;
	message: string | null;
	firstSeenAt: string | null;
	allTimeOccurrences: number | null;
	topTests: { testId: string; title: string; file: string; projectName: string; occurrences: number }[] | null;
}

export interface TokenInfo {
	id: string;
	label: string;
	prefix: string;
	createdAt: string;
	lastUsedAt: string | null;
	revokedAt: string | null;
}

export interface UserInfo {
	id: string;
	email: string;
	role: Role;
	createdAt: string;
	lastLoginAt: string | null;
}

export interface SettingsView {
	stored: { analysis?: Record<string, unknown>; infraGuard?: Record<string, unknown>; defaultBranch?: string; quarantinePolicy?: Record<string, unknown> };
	effective: { analysis: Record<string, number>; infraGuard: Record<string, number>; defaultBranches: string[]; quarantinePolicy: Record<string, number> };
	defaults: { analysis: Record<string, number>; infraGuard: Record<string, number>; defaultBranches: string[]; quarantinePolicy: Record<string, number> };
}

/** A quarantine as GET /projects/:id/quarantines lists it. */
export interface QuarantineView {
	id: string;
	test: { id: string; title: string; file: string; titlePath: string[]; projectName: string };
	/** 'policy' for the automatic quarantine policy, else the admin's e-mail or token label. */
	createdBy: string;
	automatic: boolean;
	reason: string;
	createdAt: string;
	expiresAt: string | null;
	releasedAt: string | null;
	releasedBy: string | null;
	ended: 'fixed' | 'expired' | 'released' | 'replaced' | null;
	/** Failed results of the test while the quarantine was in force. */
	failuresIgnored: number;
	/** Their summed duration, in minutes. */
	savedMinutes: number;
}

export interface QuarantineList {
	active: QuarantineView[];
	ended: QuarantineView[];
	days: number;
}

/** A notification webhook as GET /api/v1/projects/:id/webhooks answers it (the host only, never the URL or secret). */
export interface WebhookView {
	id: string;
	kind: 'slack' | 'mattermost' | 'teams' | 'generic';
	host: string;
	events: string[];
	owners: string[];
	secretSet: boolean;
	createdAt: string;
	lastDigestAt: string;
	deliveries: { pending: number; failed: number; lastDoneAt: string | null };
}

/** One entry of a webhook's delivery log. */
export interface WebhookDelivery {
	id: string;
	event: string;
	eventId: string | null;
	state: 'pending' | 'done' | 'failed';
	attempts: number;
	lastStatus: number | null;
	lastError: string | null;
	nextAttemptAt: string | null;
	createdAt: string;
	updatedAt: string;
	doneAt: string | null;
}

// Pipelines and durations (GET /projects/:id/pipelines, /projects/:id/durations/*, /tests/:id/durations).

export type PipelineOutcome = 'running' | 'failed' | 'incomplete' | 'flaky' | 'passed';

export interface PipelineJob {
	runId: string;
	jobId: string | null;
	jobName: string | null;
	jobUrl: string | null;
	shardIndex: number | null;
	shardTotal: number | null;
	status: RunStatus;
	attempt: number;
	attempts: number;
	counts: boolean;
	startedAt: string;
	durationMs: number | null;
	total: number;
	expected: number;
	unexpected: number;
	flaky: number;
	skipped: number;
	infraFailure: boolean;
}

export interface PipelineRow {
	provider: string;
	pipelineId: string;
	pipelineIid: string | null;
	branch: string | null;
	isDefaultBranch: boolean | null;
	commitSha: string | null;
	commitTitle: string | null;
	mrIid: number | null;
	startedAt: string;
	endedAt: string | null;
	durationMs: number | null;
	outcome: PipelineOutcome;
	infraFailure: boolean;
	tests: number;
	passed: number;
	failed: number;
	flaky: number;
	skipped: number;
	retriedJobs: number;
	jobs: PipelineJob[];
	missingShards: { job: string; shardIndex: number; shardTotal: number }[];
	gitlabUrl: string | null;
}

export interface SlowTestRow {
	testId: string;
	title: string;
	file: string;
	projectName: string;
	runs: number;
	p50Ms: number;
	p95Ms: number;
	maxMs: number;
	lastPassedAt: string;
}

export interface SlowestPage extends Page<SlowTestRow> {
	days: number;
	scope: 'default' | 'all' | 'branch';
	defaultBranch: string | null;
}

export interface SlowerTestRow {
	testId: string;
	title: string;
	file: string;
	projectName: string;
	recentRuns: number;
	previousRuns: number;
	recentP50Ms: number;
	previousP50Ms: number;
	changeMs: number;
	ratio: number;
}

export interface DurationPoint {
	from: string;
	runs: number;
	p50Ms: number;
	p95Ms: number;
}

export interface ShardLoad {
	runId: string;
	jobName: string | null;
	shardIndex: number | null;
	shardTotal: number | null;
	status: string;
	wallMs: number | null;
	results: number;
	sumMs: number;
	parallelism: number | null;
	bounding: boolean;
	slowest: { testId: string; title: string; file: string; projectName: string; durationMs: number; outcome: Outcome; attempts: number }[];
}

export interface CriticalPath {
	pipeline: Omit<PipelineRow, 'jobs'> | null;
	shards: ShardLoad[];
	wallMs: number | null;
}
