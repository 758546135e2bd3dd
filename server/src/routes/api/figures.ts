/**
 * The definitions of the figures users read on the test page and the project overview: each is the
 * `.describe()` of the API field that carries it, and the dashboard's help tooltip says the same
 * words (dashboard/src/lib/figures.ts; a test compares the two through /api/openapi.json).
 */
export const FIGURE_DEFINITIONS = {
	state: 'The verdict of the analysis: flaky (passed and failed on the same code), broken (fails on every run since a commit on the default branch), suspect (an unexplained failure, too little evidence yet), failing (fails on feature branches on commits that never passed, never seen failing on the default branch: likely a bug in an unmerged change, not counted as flakiness), fixed (was flaky, clean long enough since), healthy, quarantined (set by a person or the quarantine policy), or skipped (skipped in every run: nothing to judge).',
	stateSince:
		'When the evidence for the current state began, not when the analysis ran. Broken: the first run on the first failing commit. Flaky: when flakiness was first proven, or when it failed again after a clean stretch long enough to call it fixed, or after a broken stretch. Fixed: when the clean streak reached the length the fixed rule asks. Healthy: the first run after the last broken stretch, or when the last suspicion lapsed, else the first run. Suspect: the failure that raised the suspicion. Failing: the first failure on the failing branches. Skipped: the first run. Quarantined: when the quarantine began.',
	failureChance:
		'Failure chance per attempt: the estimated chance that one attempt of this test fails without a code change (flakily). The mean of a Beta posterior over the attempts of the counted runs (see failedRuns), recent runs weighing more; scoreLow and scoreHigh bound its credible interval. As of figures.estimatedAt. Null for a test skipped in every run.',
	failedRunShare: 'Share of the counted runs with a failed attempt: failedRuns divided by countedRuns (see failedRuns). Null for a test skipped in every run.',
	failedRuns:
		'Failed runs: counted runs with at least one failed attempt (flakyRuns that passed on retry plus unexpectedRuns that failed every attempt). Counted runs are the runs of runSet (the default branch, or all branches while the default branch has too few runs for a rate), leaving out skipped runs, failures in jobs judged infrastructure failures, runs in a broken stretch, and failures on feature-branch commits on which the test never passed.',
	countedRuns: 'The runs behind failedRuns and the failure chance: the denominator of the failed-run share (see failedRuns).',
	estimatedAt:
		'The newest run the failure chance and the CI time lost were computed from. A run that cannot change the verdict (a healthy test passing again, a broken one failing again) only adds to the counts; the estimate is computed anew at the next run that can.',
	notCounted: 'Runs of the analysed history left out of the counted runs, by reason; countedRuns plus these make totalRuns.',
	lastNotCountedFailure:
		'Last failure not counted: the newest failed run left out of the figures, and why: infrastructure (its job was judged an infrastructure failure), broken (part of a broken stretch) or feature-branch (on a commit where the test never passed). Null when there is none.',
	mixedCommits:
		'Mixed commits: commits (any branch) on which the test both failed and passed, in one run (passed on retry) or across runs, outside jobs judged infrastructure failures and broken stretches. The strongest evidence of flakiness.',
	impactMinutes:
		'CI time lost per day, in minutes: the failure chance per attempt (for a broken test, the share of failed runs in its broken stretch) times the test’s runs per day over the impact window (14 days by default; skipped runs left out) times the mean duration of one attempt; as of figures.estimatedAt.',
	lastFlakyAt:
		'Last flaky failure: the start of the newest run, on any branch, with a failed attempt that counts as flakiness evidence (not in a job judged an infrastructure failure, not in a broken stretch, not on a feature-branch commit where the test never passed). Null when there is none.',
	activeFlaky: 'Active flaky: tests whose verdict is flaky now. Quarantined tests are counted under quarantined instead.',
	brokenNow: 'Broken now: tests whose verdict is broken now, failing in (nearly) every run since a commit.',
	fixedThisWeek:
		'Recovered in the last 7 days: tests whose verdict went from flaky or broken to fixed or healthy in the last 7 days, as the verdict changes were recorded; each test counted once, even if it relapsed since.',
	impactMinutesPerDay: 'CI time lost to flakes per day, in minutes: the sum of CI time lost per day over the tests now flaky, suspect or quarantined (broken tests are counted under broken now).',
	flakeRateLast30Days:
		'Flake rate over the last 30 days: the share of test results (skipped ones and those in jobs judged infrastructure failures left out) that failed and then passed on retry.'
} as const;
