/**
 * The figures the test page and the project overview show, each with its one definition: the same
 * words as the `.describe()` of the API field that carries it (server/src/routes/api/figures.ts).
 * server/test/read/figures.test.ts fetches /api/openapi.json from a running server and checks that
 * every definition here equals its field's description, so the two cannot drift apart.
 */
export interface Figure {
	/** As the page labels it. */
	label: string;
	/** The help tooltip's text: the API field's description, word for word. */
	definition: string;
	/** Where the API carries it: the route (as in the OpenAPI document) and the field in its 200 answer. */
	api: { path: string; field: string[] };
}

export const FIGURES = {
	state: {
		label: 'Verdict',
		definition:
			'The verdict of the analysis: flaky (passed and failed on the same code), broken (fails on every run since a commit on the default branch), suspect (an unexplained failure, too little evidence yet), failing (fails on feature branches on commits that never passed, never seen failing on the default branch: likely a bug in an unmerged change, not counted as flakiness), fixed (was flaky, clean long enough since), healthy, quarantined (set by a person or the quarantine policy), or skipped (skipped in every run: nothing to judge).',
		api: { path: '/api/v1/tests/{id}', field: ['health', 'state'] }
	},
	stateSince: {
		label: 'In this state since',
		definition:
			'When the evidence for the current state began, not when the analysis ran. Broken: the first run on the first failing commit. Flaky: when flakiness was first proven, or when it failed again after a clean stretch long enough to call it fixed, or after a broken stretch. Fixed: when the clean streak reached the length the fixed rule asks. Healthy: the first run after the last broken stretch, or when the last suspicion lapsed, else the first run. Suspect: the failure that raised the suspicion. Failing: the first failure on the failing branches. Skipped: the first run. Quarantined: when the quarantine began.',
		api: { path: '/api/v1/tests/{id}', field: ['health', 'stateSince'] }
	},
	failureChance: {
		label: 'Failure chance per attempt',
		definition:
			'Failure chance per attempt: the estimated chance that one attempt of this test fails without a code change (flakily). The mean of a Beta posterior over the attempts of the counted runs (see failedRuns), recent runs weighing more; scoreLow and scoreHigh bound its credible interval. As of figures.estimatedAt. Null for a test skipped in every run.',
		api: { path: '/api/v1/tests/{id}', field: ['health', 'score'] }
	},
	failedRunShare: {
		label: 'Failed runs',
		definition:
			'Share of the counted runs with a failed attempt: failedRuns divided by countedRuns (see failedRuns). Null for a test skipped in every run.',
		api: { path: '/api/v1/projects/{id}/flaky-tests', field: ['items', 'flakeRate'] }
	},
	failedRuns: {
		label: 'Failed runs',
		definition:
			'Failed runs: counted runs with at least one failed attempt (flakyRuns that passed on retry plus unexpectedRuns that failed every attempt). Counted runs are the runs of runSet (the default branch, or all branches while the default branch has too few runs for a rate), leaving out skipped runs, failures in jobs judged infrastructure failures, runs in a broken stretch, and failures on feature-branch commits on which the test never passed.',
		api: { path: '/api/v1/tests/{id}', field: ['health', 'figures', 'failedRuns'] }
	},
	notCounted: {
		label: 'Runs not counted',
		definition:
			'Runs of the analysed history left out of the counted runs, by reason; countedRuns plus these make totalRuns.',
		api: { path: '/api/v1/tests/{id}', field: ['health', 'figures', 'notCounted'] }
	},
	lastNotCountedFailure: {
		label: 'Last failure not counted',
		definition:
			'Last failure not counted: the newest failed run left out of the figures, and why: infrastructure (its job was judged an infrastructure failure), broken (part of a broken stretch) or feature-branch (on a commit where the test never passed). Null when there is none.',
		api: { path: '/api/v1/tests/{id}', field: ['health', 'figures', 'lastNotCountedFailure'] }
	},
	estimatedAt: {
		label: 'Estimated as of',
		definition:
			'The newest run the failure chance and the CI time lost were computed from. A run that cannot change the verdict (a healthy test passing again, a broken one failing again) only adds to the counts; the estimate is computed anew at the next run that can.',
		api: { path: '/api/v1/tests/{id}', field: ['health', 'figures', 'estimatedAt'] }
	},
	mixedCommits: {
		label: 'Mixed commits',
		definition:
			'Mixed commits: commits (any branch) on which the test both failed and passed, in one run (passed on retry) or across runs, outside jobs judged infrastructure failures and broken stretches. The strongest evidence of flakiness.',
		api: { path: '/api/v1/tests/{id}', field: ['health', 'mixedCommits'] }
	},
	impactMinutes: {
		label: 'CI time lost per day',
		definition:
			'CI time lost per day, in minutes: the failure chance per attempt (for a broken test, the share of failed runs in its broken stretch) times the test’s runs per day over the impact window (14 days by default; skipped runs left out) times the mean duration of one attempt; as of figures.estimatedAt.',
		api: { path: '/api/v1/tests/{id}', field: ['health', 'impactMinutes'] }
	},
	lastFlakyAt: {
		label: 'Last flaky failure',
		definition:
			'Last flaky failure: the start of the newest run, on any branch, with a failed attempt that counts as flakiness evidence (not in a job judged an infrastructure failure, not in a broken stretch, not on a feature-branch commit where the test never passed). Null when there is none.',
		api: { path: '/api/v1/tests/{id}', field: ['health', 'lastFlakyAt'] }
	},
	activeFlaky: {
		label: 'Active flaky',
		definition:
			'Active flaky: tests whose verdict is flaky now. Quarantined tests are counted under quarantined instead.',
		api: { path: '/api/v1/projects/{id}/stats', field: ['activeFlaky'] }
	},
	brokenNow: {
		label: 'Broken now',
		definition:
			'Broken now: tests whose verdict is broken now, failing in (nearly) every run since a commit.',
		api: { path: '/api/v1/projects/{id}/stats', field: ['brokenNow'] }
	},
	fixedThisWeek: {
		label: 'Recovered, last 7 days',
		definition:
			'Recovered in the last 7 days: tests whose verdict went from flaky or broken to fixed or healthy in the last 7 days, as the verdict changes were recorded; each test counted once, even if it relapsed since.',
		api: { path: '/api/v1/projects/{id}/stats', field: ['fixedThisWeek'] }
	},
	impactMinutesPerDay: {
		label: 'CI time lost to flakes',
		definition:
			'CI time lost to flakes per day, in minutes: the sum of CI time lost per day over the tests now flaky, suspect or quarantined (broken tests are counted under broken now).',
		api: { path: '/api/v1/projects/{id}/stats', field: ['impactMinutesPerDay'] }
	},
	flakeRateLast30Days: {
		label: 'Flake rate, 30 days',
		definition:
			'Flake rate over the last 30 days: the share of test results (skipped ones and those in jobs judged infrastructure failures left out) that failed and then passed on retry.',
		api: { path: '/api/v1/projects/{id}/stats', field: ['flakeRateLast30Days'] }
	}
} as const satisfies Record<string, Figure>;

export type FigureName = keyof typeof FIGURES;

const plural = (n: number, word: string) => `${n.toLocaleString('en')} ${word}${n === 1 ? '' : 's'}`;

/** The figures of a verdict, as the API carries them (see types.ts Figures). */
interface RunFigures {
	runSet: 'default-branch' | 'all-branches';
	totalRuns: number;
	countedRuns: number;
	failedRuns: number;
	flakyRuns: number;
	unexpectedRuns: number;
	notCounted: { skipped: number; infrastructure: number; broken: number; featureBranch: number; otherBranches: number };
}

/** "111 default-branch runs" or "12 runs on all branches": the run set, with the number counted in it. */
export function countedRunsWords(f: Pick<RunFigures, 'runSet' | 'countedRuns'>): string {
	return f.runSet === 'default-branch' ? plural(f.countedRuns, 'default-branch run') : `${plural(f.countedRuns, 'run')} on all branches`;
}

/** "8 of 111 default-branch runs (7%): 8 passed on retry, 0 failed every attempt". */
export function failedRunsWords(f: RunFigures): string {
	const share = f.countedRuns > 0 ? ` (${((100 * f.failedRuns) / f.countedRuns).toFixed(f.failedRuns > 0 && f.failedRuns * 100 < f.countedRuns ? 1 : 0)}%)` : '';
	return `${f.failedRuns} of ${countedRunsWords(f)}${share}: ${f.flakyRuns} passed on retry, ${f.unexpectedRuns} failed every attempt`;
}

/** "138 of 249 runs: 120 on other branches, 18 skipped", or "none of 111 runs". */
export function notCountedWords(f: RunFigures): string {
	const n = f.notCounted;
	const parts: [number, string][] = [
		[n.otherBranches, 'on other branches'],
		[n.infrastructure, 'failed in infrastructure-failed jobs'],
		[n.broken, 'in broken stretches'],
		[n.featureBranch, 'failed on feature-branch commits that never passed'],
		[n.skipped, 'skipped']
	];
	const total = parts.reduce((a, [k]) => a + k, 0);
	if (total === 0) return `none of ${plural(f.totalRuns, 'run')}`;
	return `${total.toLocaleString('en')} of ${plural(f.totalRuns, 'run')}: ${parts
		.filter(([k]) => k > 0)
		.map(([k, w]) => `${k.toLocaleString('en')} ${w}`)
		.join(', ')}`;
}

/** Why a failed run is not counted, in words. */
export const NOT_COUNTED_REASONS = {
	infrastructure: 'its job was judged an infrastructure failure',
	broken: 'part of a broken stretch',
	'feature-branch': 'on a feature-branch commit where the test never passed'
} as const;
