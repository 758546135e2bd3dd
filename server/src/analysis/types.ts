/** Input and output of the flakiness engine. Plain data: no database, no HTTP. */

export type Outcome = 'expected' | 'unexpected' | 'flaky' | 'skipped';

/**
 * The verdict states the engine produces (`quarantined` is set by people, not by the engine).
 * `failing`: fails on feature branch(es) (commits that never passed), never seen failing on the
 * default branch; those failures stay out of the flake estimate.
 * `skipped`: every run of the test in the history was skipped; there is nothing to judge.
 */
export type VerdictState = 'healthy' | 'flaky' | 'broken' | 'suspect' | 'failing' | 'fixed' | 'skipped';

/** A feature branch on which the test is failing (see `failing`). */
export interface FailingBranchEvidence {
	branch: string;
	/** Runs on this branch that failed on every attempt, on commits that never passed. */
	failedRuns: number;
	/** All runs of the test on this branch (skipped and infrastructure-failed runs excluded). */
	runs: number;
	firstFailedAt: string;
	lastFailedAt: string;
}

/** Why a failed run is not counted as flakiness evidence. */
export type NotCountedReason = 'infrastructure' | 'broken' | 'feature-branch';

/**
 * The figures a user reads, each over a named set of runs. Every run of the history analysed falls
 * in exactly one bucket: `countedRuns` + the `notCounted` buckets = `totalRuns`.
 */
export interface VerdictFigures {
	/**
	 * The runs the estimate and the failed-run counts cover: `default-branch` (the test's runs on the
	 * default branch) once it has `minRunsForRate` of them, else `all-branches`.
	 */
	runSet: 'default-branch' | 'all-branches';
	/** Every run in the history analysed, skipped ones included. */
	totalRuns: number;
	/** Runs of the run set that count as evidence (see notCounted). */
	countedRuns: number;
	/** Counted runs with at least one failed attempt (flakyRuns + unexpectedRuns). */
	failedRuns: number;
	/** Counted runs that failed, then passed on retry. */
	flakyRuns: number;
	/** Counted runs that failed on every attempt. */
	unexpectedRuns: number;
	notCounted: {
		/** Runs in which the test was skipped. */
		skipped: number;
		/** Failed runs in jobs judged infrastructure failures (or with an error seen only there). */
		infrastructure: number;
		/** Runs on default-branch commits of a broken stretch. */
		broken: number;
		/** Failed runs on feature-branch commits on which the test never passed. */
		featureBranch: number;
		/** Other runs on feature branches, outside a `default-branch` run set. */
		otherBranches: number;
	};
	/** The newest failed run that is not counted, and why; null when there is none. */
	lastNotCountedFailure: { at: string; runId: string; reason: NotCountedReason } | null;
	/**
	 * The time the estimate (score, interval, impact) is as of: the newest run of the history. Runs
	 * that cannot change the verdict only bump the counts afterwards (the analysis's fast path).
	 */
	estimatedAt: string;
}

/** One run of one test (file + title path + project): one row of `test_results` with its run. */
export interface RunObservation {
	runId: string;
	/** When the run (job) started. */
	at: Date;
	commitSha: string;
	branch: string;
	isDefaultBranch: boolean;
	/**
	 * Position of the commit on the default branch (larger = later), when known. Without it the
	 * engine orders default-branch commits by the first time each was seen.
	 */
	commitOrder?: number | undefined;
	pipelineId: string;
	jobId: string;
	isMergeRequest: boolean;
	/** Playwright's outcome(): already accounts for `expectedStatus` (test.fail()). */
	outcome: Outcome;
	attempts: number;
	/** Attempts whose status differed from the expected status. */
	failedAttempts: number;
	/** Sum over attempts. */
	durationMs: number;
	errorFingerprint?: string | null | undefined;
	/** The run's job was judged an infrastructure failure (see `judgeJobInfra`). */
	infra: boolean;
}

export interface AnalysisContext {
	/** Age reference for time decay; defaults to the newest observation. */
	now?: Date;
	/**
	 * Error fingerprints known to come from infrastructure (see `infraFingerprints`). A failure
	 * carrying one is treated as an infrastructure failure even in a job below the guard's
	 * thresholds.
	 */
	infraFingerprints?: ReadonlySet<string>;
}

export interface MixedCommitEvidence {
	sha: string;
	branch: string;
	/** `in-run`: failed then passed on retry; `cross-run`: separate runs disagreed; or both. */
	kind: 'in-run' | 'cross-run' | 'both';
	runs: number;
	failedRuns: number;
	passedRuns: number;
	/** When the commit first showed both outcomes. */
	detectedAt: string;
	lastAt: string;
}

export type SegmentKind = 'passing' | 'flaky' | 'broken';

export interface SegmentEvidence {
	kind: SegmentKind;
	firstSha: string;
	lastSha: string;
	firstAt: string;
	lastAt: string;
	commits: number;
	runs: number;
	/** Runs with an unexpected result (H). */
	failedRuns: number;
	/** Failed runs with two or more attempts (T). */
	retriedFailures: number;
	/** Retried failed runs in which every attempt failed (U). */
	stickyFailures: number;
	/** Log-likelihood gain of the change point that opened this segment (0 for the first). */
	changePointGain: number;
}

export interface VerdictEvidence {
	version: 1;
	/** Why the verdict is what it is, in words, strongest first. */
	reasons: string[];
	estimate: {
		/** Posterior mean per-attempt failure probability of the flaky component. */
		mean: number;
		low: number;
		high: number;
		credibleMass: number;
		halfLifeDays: number;
		/** Time-decayed pseudo-counts behind the posterior (prior included). */
		alpha: number;
		beta: number;
		/**
		 * Undecayed counts over the runs behind the estimate: the default-branch evidence runs when
		 * there are enough of them (feature-branch failures are censored), else all evidence runs.
		 */
		attempts: number;
		failedAttempts: number;
	};
	counts: {
		runs: number;
		evidenceRuns: number;
		failures: number;
		flakyRuns: number;
		mixedCommits: number;
		/** Commits outside broken segments that failed and never passed (no mixed proof). */
		isolatedFailures: number;
		/** Those commits grouped into streaks of consecutive default-branch commits. */
		failureStreaks: number;
		infraRuns: number;
		skippedRuns: number;
		/** Feature-branch runs left out: their commit only ever failed, every attempt (likely a real bug in an unmerged change). */
		branchFailuresIgnored: number;
		brokenRuns: number;
	};
	/** Most recent first, capped. */
	mixedCommits: MixedCommitEvidence[];
	mixedCommitsTotal: number;
	/** Default-branch history segments, oldest first (the newest 50). */
	segments: SegmentEvidence[];
	/** For a broken test: where the failing segment begins (commit range lastGood..firstBad]. */
	changePoint: {
		firstBadSha: string;
		firstBadAt: string;
		lastGoodSha: string | null;
		lastGoodAt: string | null;
		gain: number | null;
	} | null;
	/**
	 * The "fixed" rule: `requiredRuns` clean runs in a row since the last flaky failure, so many that
	 * a test still failing at the rate seen while it was flaky (`rate`, the share of runs with a
	 * failed attempt, posterior mean) would pass them with a chance of at most `errorBudget`: the
	 * error budget 1 − fixedConfidence over the test's life, of which 1/(k(k + 1)) is spent on the
	 * streak after its k-th failed run (`looks` = k). `chanceIfFlaky`: that chance for the clean
	 * runs seen so far.
	 */
	fixedRule: {
		cleanRunsSince: number;
		requiredRuns: number;
		rate: number;
		looks: number;
		errorBudget: number;
		chanceIfFlaky: number;
	} | null;
	/**
	 * Feature branches whose newest run of the test failed on a commit that never passed, within
	 * `failingBranchDays`; most recent failure first. Non-empty for `failing`; may be absent in
	 * evidence stored before it existed.
	 */
	failingBranches?: FailingBranchEvidence[];
	/** Runs whose failures were attributed to infrastructure: most recent first, capped. */
	infra: { runId: string; at: string; commitSha: string; fingerprint: string | null }[];
	impact: { runsPerDay: number; meanAttemptMinutes: number; failureProbability: number };
	/** The figures a user reads, each over a named set of runs (absent in verdicts stored before it existed). */
	figures?: VerdictFigures;
}

/** The verdict for one test; its fields map one to one onto the `TestHealth` row. */
export interface Verdict {
	state: VerdictState;
	score: number;
	scoreLow: number;
	scoreHigh: number;
	/** Observed share of runs with a failed attempt, over the runs behind the estimate (flaky component only). */
	flakeRate: number;
	runs: number;
	failures: number;
	flakyRuns: number;
	mixedCommits: number;
	/** Failure probability × runs per day × mean attempt duration, in minutes per day. */
	impactMinutes: number;
	firstDetectedAt: Date | null;
	lastFlakyAt: Date | null;
	lastSeenAt: Date | null;
	changePointSha: string | null;
	changePointAt: Date | null;
	/**
	 * When the evidence for the current state began: broken, the first run on the first bad commit;
	 * flaky, when flakiness was proven (or came back after a stretch long enough to call it fixed, or
	 * after a broken stretch); fixed, when the clean streak reached the required length; healthy,
	 * the first run after the last broken stretch or the end of the last suspicion; suspect, the
	 * failure that opened the suspicion; skipped, the first skipped run. Null: not known.
	 */
	stateSince: Date | null;
	evidence: VerdictEvidence;
}
