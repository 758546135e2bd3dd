/**
 * CI-history simulator with ground truth. It plays a GitLab project for some weeks: merge requests
 * with pipelines on their branches, merges into `main` with a pipeline each, nightly schedules,
 * manual job retries, shards and browser projects, and writes each job's Playwright JSON report.
 * Tests are stable, flaky (rates from a realistic spread), broken for a span of commits (on every
 * project or one), renamed, added late, skipped; jobs suffer infrastructure outages.
 *
 * `simulate()` decides everything up front (compactly); `uploads()` renders the reports lazily,
 * oldest job first, so a long history need not sit in memory as JSON.
 */
import type { JSONReport, JSONReportSpec, JSONReportSuite, JSONReportTest, JSONReportTestResult } from '@playwright/test/reporter';
import type { CiMetadata } from 'flackyness-reporter/protocol';
import { buildError, type SimError } from './errors.js';
import { Rng } from './prng.js';
import {
	identityKey,
	type OutageTruth,
	type SimOptions,
	type SimTruth,
	type SimUpload,
	type TruthClass,
	type TruthTest
} from './types.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const PROJECT_NAMES = ['chromium', 'firefox', 'webkit'] as const;
const DEFAULT_BRANCH = 'main';
const PROJECT_PATH = 'acme/shop';
const SERVER = 'https://gitlab.example.com';
const ROOT_DIR = '/builds/acme/shop/tests';

// ---------------------------------------------------------------------------------------------
// Vocabulary

const AREAS = ['cart', 'checkout', 'login', 'search', 'profile', 'orders', 'admin', 'catalog', 'wishlist', 'payments',
	'shipping', 'reviews', 'settings', 'onboarding', 'billing', 'inventory', 'reports', 'notifications', 'coupons', 'support',
	'dashboard', 'signup', 'account', 'export', 'import', 'sharing', 'analytics', 'teams', 'audit', 'i18n', 'uploads',
	'editor', 'comments', 'tags', 'filters', 'returns', 'gift-cards', 'addresses', 'subscriptions', 'invoices', 'api-keys',
	'webhooks', 'sso', 'roles', 'media'] as const;
const GROUPS = ['as a guest', 'as a member', 'as an admin', 'on mobile', 'with an empty state', 'with many items', 'keyboard', 'errors'];
const VERBS = ['shows', 'adds', 'removes', 'updates', 'filters', 'sorts', 'exports', 'validates', 'saves', 'restores',
	'opens', 'closes', 'paginates', 'renames', 'duplicates', 'archives', 'submits', 'cancels', 'retries', 'links'];
const OBJECTS = ['the item', 'a discount code', 'the address', 'two products', 'the order', 'the invoice', 'a comment',
	'the avatar', 'the password', 'the summary', 'a draft', 'the total', 'the banner', 'the history', 'a tag', 'the filters',
	'the empty state', 'a long name', 'the dialog', 'the table'];
const QUALIFIERS = ['', '', '', ' after reload', ' with keyboard only', ' in dark mode', ' for a new user', ' twice', ' offline', ' on slow network'];
const BUTTONS = ['Save', 'Submit', 'Continue', 'Add to cart', 'Checkout', 'Apply', 'Delete', 'Confirm', 'Next', 'Sign in'];
const AUTHORS = ['Ana Souza', 'Ben Carter', 'Chen Wei', 'Dara Okafor', 'Elif Yilmaz', 'Finn Larsen', 'Gita Rao', 'Hugo Martin'];
const MR_TOPICS = ['cart', 'checkout', 'search', 'profile', 'deps', 'ci', 'login', 'a11y', 'perf', 'i18n', 'orders', 'admin'];

// ---------------------------------------------------------------------------------------------
// The world

interface Regression {
	start: number;
	end: number | null;
	projects: Set<number>;
	error: SimError;
	/** When the regression arrives (or leaves) through a merge request: the MR commit that does it. */
	introducedInMr: { mr: number; fromCommit: number } | null;
	fixedInMr: { mr: number; fromCommit: number } | null;
}

interface Spec {
	idx: number;
	file: string;
	/** Describe titles then the test title. */
	titlePath: string[];
	line: number;
	column: number;
	code: string;
	medianMs: number;
	expectedStatus: 'passed' | 'failed';
	tags: string[];
	addedAt: number;
	removedAt: number | null;
	rename: { at: number; titlePath: string[] } | null;
	alwaysSkipped: boolean;
	skipProjects: Set<number>;
	klass: TruthClass;
	/** Per project: per-attempt failure probability while flaky. */
	rates: number[];
	flakyFrom: number;
	flakyUntil: number | null;
	flakyError: SimError;
	/** How much a flaky failure raises the chance that the retry fails too (0: independent). */
	retryCorrelation: number;
	regression: Regression | null;
	/** An MR commit range on which this test fails deterministically. */
	branchBreak: { mr: number; from: number; to: number } | null;
	locator: string;
	path: string;
}

interface Commit {
	sha: string;
	at: number;
	title: string;
	author: string;
	mr: number | null;
}

interface MergeRequest {
	iid: number;
	branch: string;
	base: number;
	merge: number | null;
	commits: { sha: string; at: number; title: string; author: string }[];
}

type CodeState = { kind: 'default'; index: number } | { kind: 'mr'; mr: number; commit: number; base: number };

interface Pipeline {
	id: number;
	iid: number;
	at: number;
	source: 'push' | 'merge_request_event' | 'schedule' | 'web';
	sha: string;
	branch: string;
	state: CodeState;
	mr: number | null;
	retries: number;
}

interface AttemptRec {
	status: 'passed' | 'failed' | 'timedOut' | 'skipped';
	duration: number;
	error: SimError | null;
}

interface ResultRec {
	spec: number;
	project: number;
	titlePath: string[];
	startOffset: number;
	workerIndex: number;
	attempts: AttemptRec[];
}

interface Job {
	id: number;
	name: string;
	pipeline: Pipeline;
	projects: number[];
	shardIndex: number;
	shardTotal: number;
	at: number;
	durationMs: number;
	/** Playwright retries this job ran with. */
	retries: number;
	results: ResultRec[];
}

export interface Simulation {
	truth: SimTruth;
	/** Number of uploads (jobs). */
	readonly uploadCount: number;
	/** The uploads, oldest job first, each rendered on demand. */
	uploads(): Generator<SimUpload>;
}

// ---------------------------------------------------------------------------------------------

export function simulate(options: SimOptions): Simulation {
	const root = new Rng(options.seed);
	const cfgRng = root.fork('config');
	const days = options.days ?? 35;
	const start = options.start?.getTime() ?? Date.UTC(2025, 2, 3);
	const projectCount = cfgRng.weighted([
		[1, 0.25],
		[2, 0.35],
		[3, 0.4]
	] as const);
	const projects = PROJECT_NAMES.slice(0, projectCount);
	const shards = cfgRng.weighted([
		[1, 0.3],
		[2, 0.3],
		[3, 0.2],
		[4, 0.2]
	] as const);
	const jobLayout: 'per-project' | 'combined' = projectCount > 1 && cfgRng.chance(0.5) ? 'per-project' : 'combined';
	const retriesWeights = [
		[0, 0.25],
		[1, 0.35],
		[2, 0.4]
	] as const;
	const retriesDefault: number = cfgRng.weighted(retriesWeights);
	const retriesMr: number = cfgRng.weighted(retriesWeights);
	const retriesChange = cfgRng.chance(0.4) ? { fraction: cfgRng.uniform(0.3, 0.7), retries: cfgRng.weighted(retriesWeights) } : null;
	const retriesMode = options.retries ?? 'default';
	const mergesPerDay = options.mergesPerDay ?? cfgRng.uniform(4, 9);
	const outageRate = cfgRng.uniform(0.01, 0.03);
	const blipRate = cfgRng.uniform(0.005, 0.02);

	// --- Timeline: default-branch commits, merge requests, pipelines ---------------------------
	const tl = root.fork('timeline');
	const commits: Commit[] = [];
	const mrs: MergeRequest[] = [];
	let mrIid = 1;
	const newMr = (base: number, firstAt: number, mergeAt: number | null): MergeRequest => {
		const topic = tl.pick(MR_TOPICS);
		const iid = mrIid++;
		const count = tl.weighted([
			[1, 0.45],
			[2, 0.3],
			[3, 0.15],
			[4, 0.1]
		] as const);
		const end = mergeAt ?? firstAt + tl.uniform(2, 48) * HOUR;
		const author = tl.pick(AUTHORS);
		const mrCommits = Array.from({ length: count }, (_, j) => ({
			sha: tl.hex(40),
			at: firstAt + ((end - firstAt) * j) / count,
			title: j === 0 ? `Start ${topic} change` : tl.pick(['Address review comments', 'Fix lint', 'Add tests', 'Simplify', 'Update snapshot']),
			author
		}));
		return { iid, branch: `feature/${topic}-${iid}`, base, merge: null, commits: mrCommits };
	};
	// The initial commit.
	commits.push({ sha: tl.hex(40), at: start - 2 * HOUR, title: 'Initial import', author: tl.pick(AUTHORS), mr: null });
	for (let d = 0; d < days; d++) {
		const dayStart = start + d * DAY;
		const weekday = new Date(dayStart).getUTCDay();
		const working = weekday !== 0 && weekday !== 6;
		const n = tl.poisson(working ? mergesPerDay : 0.4);
		const times = Array.from({ length: n }, () => dayStart + tl.uniform(8, 18) * HOUR).sort((a, b) => a - b);
		for (const at of times) {
			if (tl.chance(0.15)) {
				commits.push({ sha: tl.hex(40), at, title: tl.pick(['Bump dependencies', 'Fix typo', 'Update README', 'Tidy CI config']), author: tl.pick(AUTHORS), mr: null });
				continue;
			}
			const firstAt = Math.max(start, at - tl.uniform(0.5, 72) * HOUR);
			const base = baseIndexAt(commits, firstAt);
			const mr = newMr(base, firstAt, at);
			mr.merge = commits.length;
			mrs.push(mr);
			commits.push({ sha: tl.hex(40), at, title: `Merge branch '${mr.branch}' into '${DEFAULT_BRANCH}'`, author: mr.commits[0]!.author, mr: mr.iid });
		}
		// Merge requests that are never merged.
		for (let k = tl.poisson(working ? mergesPerDay * 0.12 : 0); k > 0; k--) {
			const firstAt = dayStart + tl.uniform(8, 18) * HOUR;
			mrs.push(newMr(baseIndexAt(commits, firstAt), firstAt, null));
		}
	}
	const end = start + days * DAY;
	const retriesChangeAt = retriesChange ? Math.max(1, Math.floor(commits.length * retriesChange.fraction)) : null;

	// --- Tests --------------------------------------------------------------------------------
	const specs = buildSpecs(root.fork('tests'), options.files, commits.length, projects.length, mrs);

	// --- Pipelines ----------------------------------------------------------------------------
	const pipelines: Pipeline[] = [];
	let pipelineId = 400_000 + (options.seed % 1000) * 100;
	let pipelineIid = 1;
	const retriesFor = (state: CodeState, source: Pipeline['source']) => {
		if (state.kind === 'mr' || source === 'merge_request_event') return retriesMr;
		if (retriesChangeAt !== null && state.index >= retriesChangeAt) return retriesChange!.retries;
		return retriesDefault;
	};
	const addPipeline = (at: number, source: Pipeline['source'], state: CodeState) => {
		const mr = state.kind === 'mr' ? mrs.find((m) => m.iid === state.mr)! : null;
		const sha = state.kind === 'mr' ? mr!.commits[state.commit]!.sha : commits[state.index]!.sha;
		pipelines.push({
			id: pipelineId++,
			iid: pipelineIid++,
			at,
			source,
			sha,
			branch: mr ? mr.branch : DEFAULT_BRANCH,
			state,
			mr: mr ? mr.iid : null,
			retries: retriesFor(state, source)
		});
	};
	const plan: { at: number; run: () => void }[] = [];
	commits.forEach((c, index) => {
		if (index === 0) return;
		plan.push({ at: c.at + tl.uniform(0.5, 3) * 60_000, run: () => addPipeline(c.at, 'push', { kind: 'default', index }) });
		// Someone re-runs the whole pipeline on this commit now and then.
		if (tl.chance(0.03)) {
			const at = c.at + tl.uniform(1, 6) * HOUR;
			plan.push({ at, run: () => addPipeline(at, 'web', { kind: 'default', index }) });
		}
	});
	for (const mr of mrs) {
		mr.commits.forEach((c, commit) => {
			const state: CodeState = { kind: 'mr', mr: mr.iid, commit, base: mr.base };
			plan.push({ at: c.at, run: () => addPipeline(c.at, 'merge_request_event', state) });
			// A new pipeline for the same commit: "Run pipeline" pressed, or the MR re-triggered.
			if (tl.chance(0.05)) {
				const at = c.at + tl.uniform(0.5, 8) * HOUR;
				plan.push({ at, run: () => addPipeline(at, 'merge_request_event', state) });
			}
		});
	}
	for (let d = 1; d <= days; d++) {
		const at = start + d * DAY + 2 * HOUR;
		if (at >= end) break;
		plan.push({ at, run: () => addPipeline(at, 'schedule', { kind: 'default', index: baseIndexAt(commits, at) }) });
	}
	plan.sort((a, b) => a.at - b.at);
	for (const p of plan) if (p.at < end) p.run();

	// --- Jobs and results ---------------------------------------------------------------------
	const jobs: Job[] = [];
	const outages: OutageTruth[] = [];
	let jobId = 9_000_000 + (options.seed % 1000) * 10_000;
	const layouts: { projects: number[]; shard: number; name: string }[] = [];
	const shardSuffix = (i: number) => (shards > 1 ? ` ${i}/${shards}` : '');
	if (jobLayout === 'per-project') {
		projects.forEach((name, p) => {
			for (let i = 1; i <= shards; i++) layouts.push({ projects: [p], shard: i, name: `e2e:${name}${shardSuffix(i)}` });
		});
	} else {
		for (let i = 1; i <= shards; i++) layouts.push({ projects: projects.map((_, p) => p), shard: i, name: `e2e${shardSuffix(i)}` });
	}
	for (const pipeline of pipelines) {
		const exec = root.fork(`pipeline:${pipeline.id}`);
		for (const layout of layouts) {
			const at = pipeline.at + exec.uniform(1, 8) * 60_000;
			const job = runJob(exec, jobId++, pipeline, layout, at, true);
			jobs.push(job);
			const failed = job.results.some((r) => isUnexpected(specs[r.spec]!, r.attempts));
			// Failed jobs get a manual retry now and then, outages more often.
			const outage = outages.length > 0 && outages[outages.length - 1]!.jobId === String(job.id);
			if (failed && exec.chance(outage ? 0.7 : 0.25)) {
				jobs.push(runJob(exec, jobId++, pipeline, layout, at + job.durationMs + exec.uniform(10, 90) * 60_000, false));
			}
		}
	}
	jobs.sort((a, b) => a.at - b.at || a.id - b.id);

	function runJob(
		exec: Rng,
		id: number,
		pipeline: Pipeline,
		layout: { projects: number[]; shard: number; name: string },
		at: number,
		firstTry: boolean
	): Job {
		const rng = exec.fork(`job:${id}`);
		const index = pipeline.state.kind === 'default' ? pipeline.state.index : pipeline.state.base;
		// Playwright shards the filtered test list into contiguous chunks.
		const entries: { spec: Spec; project: number }[] = [];
		for (const project of layout.projects) {
			for (const spec of specs) {
				if (spec.addedAt > index || (spec.removedAt !== null && spec.removedAt <= index)) continue;
				entries.push({ spec, project });
			}
		}
		const chunk = Math.ceil(entries.length / shards);
		const mine = entries.slice((layout.shard - 1) * chunk, layout.shard * chunk);
		const retries = jobRetries(pipeline.retries, id);
		const workers = 4;
		const outageKind =
			!firstTry && rng.chance(0.9)
				? null
				: rng.chance(outageRate)
					? rng.chance(0.2)
						? ('browser' as const)
						: ('app-down' as const)
					: rng.chance(blipRate)
						? ('blip' as const)
						: null;
		const outageFrom = outageKind === 'app-down' ? Math.floor(mine.length * rng.uniform(0, 0.5)) : 0;
		const blipFrom = Math.floor(mine.length * rng.uniform(0, 0.9));
		const blipSize = rng.int(3, 9);
		const victims: string[] = [];
		const results: ResultRec[] = [];
		const workerClock = new Array<number>(workers).fill(0);
		mine.forEach(({ spec, project }, position) => {
			const titlePath = spec.rename && index >= spec.rename.at ? spec.rename.titlePath : spec.titlePath;
			const worker = workerClock.indexOf(Math.min(...workerClock));
			const startOffset = workerClock[worker]!;
			const attempts: AttemptRec[] = [];
			if (spec.alwaysSkipped || spec.skipProjects.has(project)) {
				attempts.push({ status: 'skipped', duration: 0, error: null });
			} else {
				const broken = isBroken(spec, project, pipeline.state);
				const rate = flakeRate(spec, project, index);
				const outageHits = (attempt: number) =>
					outageKind === 'browser' ||
					(outageKind === 'app-down' && position >= outageFrom) ||
					(outageKind === 'blip' && attempt === 0 && position >= blipFrom && position < blipFrom + blipSize);
				let victim = false;
				for (let a = 0; a <= retries; a++) {
					let failure: SimError | null = null;
					if (outageHits(a)) {
						failure =
							outageKind === 'browser'
								? { kind: 'browser-launch', pid: rng.int(1000, 60000), profile: rng.hex(6) }
								: { kind: 'conn-refused', path: spec.path };
						victim = true;
					} else if (broken) failure = broken;
					else if (rate > 0) {
						// Retries on the same machine share some of its state: after a flaky failure
						// the next attempt fails more often than the base rate.
						const previousFlaked = a > 0 && attempts[a - 1]!.error === spec.flakyError;
						const p = previousFlaked ? rate + spec.retryCorrelation * (1 - rate) : rate;
						if (rng.chance(p)) failure = spec.flakyError;
					}
					const rec = attemptRecord(rng, spec, failure);
					attempts.push(rec);
					if (rec.status === spec.expectedStatus) break;
				}
				if (victim && attempts.some((x) => x.status !== spec.expectedStatus)) {
					victims.push(identityKey(spec.file, titlePath, projects[project]!));
				}
			}
			const took = attempts.reduce((sum, x) => sum + x.duration, 0) + 150;
			workerClock[worker] = startOffset + took;
			results.push({ spec: spec.idx, project, titlePath, startOffset, workerIndex: worker, attempts });
		});
		if (outageKind !== null && victims.length > 0) {
			outages.push({ pipelineId: String(pipeline.id), jobId: String(id), jobName: layout.name, kind: outageKind, victims });
		}
		return {
			id,
			name: layout.name,
			pipeline,
			projects: layout.projects,
			shardIndex: layout.shard,
			shardTotal: shards,
			at,
			durationMs: Math.max(...workerClock) + 4000,
			retries,
			results
		};
	}

	/** The job's retries under the `retries` option; its own generator, so `default` draws exactly as before. */
	function jobRetries(pipelineRetries: number, id: number): number {
		if (retriesMode === 'none') return 0;
		if (retriesMode === 'mixed') return root.fork(`retries:${id}`).chance(0.5) ? 0 : Math.max(1, pipelineRetries);
		return pipelineRetries;
	}

	function isBroken(spec: Spec, project: number, state: CodeState): SimError | null {
		const reg = spec.regression;
		if (reg && reg.projects.has(project)) {
			const end = reg.end ?? Infinity;
			if (state.kind === 'default') {
				if (state.index >= reg.start && state.index < end) return reg.error;
			} else {
				const inherited = state.base >= reg.start && state.base < end;
				const fixedHere = reg.fixedInMr?.mr === state.mr && state.commit >= reg.fixedInMr.fromCommit;
				const introducedHere = reg.introducedInMr?.mr === state.mr && state.commit >= reg.introducedInMr.fromCommit;
				if ((inherited && !fixedHere) || introducedHere) return reg.error;
			}
		}
		const br = spec.branchBreak;
		if (br && state.kind === 'mr' && state.mr === br.mr && state.commit >= br.from && state.commit <= br.to) {
			return { kind: 'expect-visible', locator: spec.locator };
		}
		return null;
	}

	function flakeRate(spec: Spec, project: number, index: number): number {
		const rate = spec.rates[project] ?? 0;
		if (rate === 0 || index < spec.flakyFrom) return 0;
		if (spec.flakyUntil !== null && index >= spec.flakyUntil) return 0;
		return rate;
	}

	// --- Truth --------------------------------------------------------------------------------
	const tests: TruthTest[] = [];
	for (const spec of specs) {
		projects.forEach((projectName, p) => {
			const cls: TruthClass = spec.alwaysSkipped || spec.skipProjects.has(p) ? 'skipped' : classFor(spec, p);
			const base = {
				file: spec.file,
				projectName,
				class: cls,
				rate: cls === 'flaky' || cls === 'flaky-fixed' ? spec.rates[p]! : 0,
				flakySinceSha: (cls === 'flaky' || cls === 'flaky-fixed') && spec.flakyFrom > 0 ? commits[spec.flakyFrom]!.sha : null,
				flakyUntilSha: cls === 'flaky-fixed' && spec.flakyUntil !== null ? commits[spec.flakyUntil]!.sha : null,
				regression:
					cls === 'regression' && spec.regression
						? {
								startSha: commits[spec.regression.start]!.sha,
								endSha: spec.regression.end === null ? null : commits[spec.regression.end]!.sha,
								onlyThisProject: spec.regression.projects.size === 1 && projects.length > 1
							}
						: null,
				expectedStatus: spec.expectedStatus,
				brokenOnBranch: spec.branchBreak !== null
			};
			const oldKey = identityKey(spec.file, spec.titlePath, projectName);
			if (spec.rename) {
				const newKey = identityKey(spec.file, spec.rename.titlePath, projectName);
				tests.push({ ...base, key: oldKey, titlePath: spec.titlePath, renamedFrom: null, renamedTo: newKey });
				tests.push({ ...base, key: newKey, titlePath: spec.rename.titlePath, renamedFrom: oldKey, renamedTo: null });
			} else {
				tests.push({ ...base, key: oldKey, titlePath: spec.titlePath, renamedFrom: null, renamedTo: null });
			}
		});
	}

	function classFor(spec: Spec, p: number): TruthClass {
		if (spec.regression && spec.regression.projects.has(p)) return 'regression';
		if ((spec.rates[p] ?? 0) > 0) return spec.flakyUntil !== null ? 'flaky-fixed' : 'flaky';
		return 'stable';
	}

	const truth: SimTruth = {
		seed: options.seed,
		start: new Date(start).toISOString(),
		end: new Date(end).toISOString(),
		defaultBranch: DEFAULT_BRANCH,
		projects: [...projects],
		shards,
		jobLayout,
		retries: {
			mode: retriesMode,
			defaultBranch: retriesDefault,
			mergeRequest: retriesMr,
			defaultBranchFrom:
				retriesChange && retriesChangeAt !== null && retriesChangeAt < commits.length
					? { sha: commits[retriesChangeAt]!.sha, retries: retriesChange.retries }
					: null
		},
		commits: commits.map((c) => ({ sha: c.sha, at: new Date(c.at).toISOString() })),
		tests,
		outages
	};

	return {
		truth,
		uploadCount: jobs.length,
		*uploads() {
			for (const job of jobs) yield render(job);
		}
	};

	// --- Rendering ----------------------------------------------------------------------------
	function render(job: Job): SimUpload {
		const p = job.pipeline;
		const mr = p.mr === null ? null : mrs.find((m) => m.iid === p.mr)!;
		const commit = p.state.kind === 'mr' ? mr!.commits[p.state.commit]! : commits[p.state.index]!;
		const metadata: CiMetadata = {
			provider: 'gitlab',
			branch: p.branch,
			defaultBranch: DEFAULT_BRANCH,
			commitSha: p.sha,
			commitTitle: commit.title,
			commitAuthor: commit.author,
			commitTimestamp: new Date(commit.at).toISOString(),
			pipelineId: String(p.id),
			pipelineIid: String(p.iid),
			pipelineUrl: `${SERVER}/${PROJECT_PATH}/-/pipelines/${p.id}`,
			pipelineSource: p.source,
			jobId: String(job.id),
			jobName: job.name,
			jobUrl: `${SERVER}/${PROJECT_PATH}/-/jobs/${job.id}`,
			projectPath: PROJECT_PATH
		};
		if (mr) {
			metadata.mrIid = mr.iid;
			metadata.mrSourceBranch = mr.branch;
			metadata.mrTargetBranch = DEFAULT_BRANCH;
		}
		if (job.shardTotal > 1) {
			metadata.shardIndex = job.shardIndex;
			metadata.shardTotal = job.shardTotal;
		}
		return { metadata, report: renderReport(job) };
	}

	function renderReport(job: Job): JSONReport {
		const version = '1.55.0';
		const fileSuites = new Map<string, JSONReportSuite>();
		const stats = { expected: 0, unexpected: 0, flaky: 0, skipped: 0 };
		for (const rec of job.results) {
			const spec = specs[rec.spec]!;
			const projectName = projects[rec.project]!;
			let fileSuite = fileSuites.get(spec.file);
			if (!fileSuite) {
				fileSuite = { title: spec.file, file: spec.file, line: 0, column: 0, specs: [] };
				fileSuites.set(spec.file, fileSuite);
			}
			// Describe blocks nest; every project's run of one spec shares the spec entry.
			let suite = fileSuite;
			rec.titlePath.slice(0, -1).forEach((title, depth) => {
				suite.suites ??= [];
				let child = suite.suites.find((s) => s.title === title);
				if (!child) {
					child = { title, file: spec.file, line: 3 + depth * 2, column: 6 + depth * 2, specs: [] };
					suite.suites.push(child);
				}
				suite = child;
			});
			const title = rec.titlePath[rec.titlePath.length - 1]!;
			let specEntry = suite.specs.find((s) => s.title === title && s.line === spec.line);
			if (!specEntry) {
				specEntry = {
					title,
					ok: true,
					tags: spec.tags,
					tests: [],
					id: `${hex20(spec.file)}-${hex20(rec.titlePath.join(' '))}`,
					file: spec.file,
					line: spec.line,
					column: spec.column
				} satisfies JSONReportSpec;
				suite.specs.push(specEntry);
			}
			const outcome = outcomeOf(spec, rec.attempts);
			stats[outcome]++;
			if (outcome === 'unexpected') specEntry.ok = false;
			specEntry.tests.push(renderTest(job, rec, spec, projectName, outcome));
		}
		const suites = [...fileSuites.values()];
		for (const s of suites) if (s.suites && s.suites.length === 0) delete s.suites;
		return {
			config: {
				configFile: '/builds/acme/shop/playwright.config.ts',
				rootDir: ROOT_DIR,
				forbidOnly: true,
				fullyParallel: false,
				globalSetup: null,
				globalTeardown: null,
				globalTimeout: 3_600_000,
				grep: {},
				grepInvert: null,
				maxFailures: 0,
				metadata: { actualWorkers: 4 },
				preserveOutput: 'always',
				projects: projects.map((name) => ({
					outputDir: '/builds/acme/shop/test-results',
					repeatEach: 1,
					retries: job.retries,
					metadata: { actualWorkers: 4 },
					id: name,
					name,
					testDir: ROOT_DIR,
					testIgnore: [],
					testMatch: ['**/*.@(spec|test).?(c|m)[jt]s?(x)'],
					timeout: 30_000
				})),
				quiet: false,
				reporter: [['json', { outputFile: 'results.json' }]],
				reportSlowTests: { max: 5, threshold: 300_000 },
				shard: job.shardTotal > 1 ? { current: job.shardIndex, total: job.shardTotal } : null,
				tags: [],
				updateSnapshots: 'missing',
				updateSourceMethod: 'patch',
				version,
				workers: 4,
				webServer: null
				// The JSON form of FullConfig: RegExps serialise to {}, so the declared type does not fit.
			} as unknown as JSONReport['config'],
			suites,
			errors: [],
			stats: { startTime: new Date(job.at).toISOString(), duration: job.durationMs, ...stats }
		};
	}

	function renderTest(job: Job, rec: ResultRec, spec: Spec, projectName: string, outcome: JSONReportTest['status']): JSONReportTest {
		const skipAnnotation = spec.alwaysSkipped || spec.skipProjects.has(rec.project);
		const annotations = skipAnnotation
			? [{ type: 'skip', description: spec.alwaysSkipped ? 'flaky upstream, see issue' : `not supported on ${projectName}` }]
			: spec.expectedStatus === 'failed'
				? [{ type: 'fail', description: 'known bug' }]
				: [];
		let offset = rec.startOffset;
		const results: JSONReportTestResult[] = rec.attempts.map((a, retry) => {
			const startTime = new Date(job.at + offset).toISOString();
			offset += a.duration + 50;
			const result: JSONReportTestResult = {
				workerIndex: rec.workerIndex + retry * 4,
				parallelIndex: rec.workerIndex,
				status: a.status,
				duration: a.duration,
				error: undefined,
				errors: [],
				stdout: [],
				stderr: [],
				retry,
				startTime,
				annotations,
				attachments: []
			};
			if (a.error) {
				const built = buildError(a.error, {
					absFile: `${ROOT_DIR}/${spec.file}`,
					line: spec.line + 2,
					column: 5,
					code: spec.code
				});
				result.error = built.error;
				result.errors = built.errors;
				if (built.error.location) result.errorLocation = built.error.location;
				if (a.status !== spec.expectedStatus) {
					result.attachments = [
						{
							name: 'error-context',
							contentType: 'text/markdown',
							path: `/builds/acme/shop/test-results/${spec.file.replace(/\W+/g, '-')}-${projectName}${retry ? `-retry${retry}` : ''}/error-context.md`
						}
					];
				}
			}
			return result;
		});
		return {
			timeout: 30_000,
			annotations,
			expectedStatus: spec.expectedStatus,
			projectId: projectName,
			projectName,
			results,
			status: outcome
		};
	}

	function attemptRecord(rng: Rng, spec: Spec, failure: SimError | null): AttemptRec {
		const normal = Math.max(40, Math.round(rng.logNormal(spec.medianMs, 0.25)));
		if (spec.expectedStatus === 'failed') {
			// test.fail(): the expected outcome is a failure; a "flaky" attempt passes unexpectedly.
			if (failure === null) return { status: 'failed', duration: normal, error: { kind: 'expected-failure' } };
			if (failure === spec.flakyError) return { status: 'passed', duration: normal, error: null };
		}
		if (failure === null) return { status: 'passed', duration: normal, error: null };
		const built = buildError(failure, { absFile: '', line: 1, column: 1, code: '' });
		const duration =
			failure.kind === 'test-timeout'
				? 30_000 + rng.int(5, 200)
				: failure.kind === 'conn-refused' || failure.kind === 'browser-launch'
					? rng.int(30, 400)
					: failure.kind === 'action-timeout' || failure.kind === 'expect-text' || failure.kind === 'expect-visible'
						? Math.round(Math.min(normal, 8000) * rng.uniform(0.3, 1)) + 5000
						: Math.round(normal * rng.uniform(0.2, 1));
		return { status: built.status, duration, error: failure };
	}
}

function outcomeOf(spec: Spec, attempts: readonly AttemptRec[]): JSONReportTest['status'] {
	if (attempts.every((a) => a.status === 'skipped')) return 'skipped';
	const failures = attempts.filter((a) => a.status !== 'skipped' && a.status !== spec.expectedStatus).length;
	if (failures === 0) return 'expected';
	return failures === attempts.length ? 'unexpected' : 'flaky';
}

function isUnexpected(spec: Spec, attempts: readonly AttemptRec[]): boolean {
	return outcomeOf(spec, attempts) === 'unexpected';
}

function baseIndexAt(commits: readonly Commit[], at: number): number {
	let lo = 0;
	let hi = commits.length - 1;
	while (lo < hi) {
		const mid = (lo + hi + 1) >> 1;
		if (commits[mid]!.at <= at) lo = mid;
		else hi = mid - 1;
	}
	return lo;
}

function hex20(text: string): string {
	let h1 = 0x811c9dc5;
	let h2 = 0x01000193;
	for (let i = 0; i < text.length; i++) {
		h1 = Math.imul(h1 ^ text.charCodeAt(i), 0x01000193);
		h2 = Math.imul(h2 ^ text.charCodeAt(i), 0x5bd1e995);
	}
	return ((h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0') + '0000').slice(0, 20);
}

/** Flake rates per attempt: many below 1%, many above 10%, some in between. */
export function drawFlakeRate(rng: Rng): number {
	const bucket = rng.weighted([
		['rare', 0.35],
		['low', 0.2],
		['mid', 0.15],
		['high', 0.3]
	] as const);
	switch (bucket) {
		case 'rare':
			return rng.logUniform(0.001, 0.01);
		case 'low':
			return rng.logUniform(0.01, 0.05);
		case 'mid':
			return rng.logUniform(0.05, 0.1);
		case 'high':
			return rng.uniform(0.1, 0.6);
	}
}

function buildSpecs(rng: Rng, filesOption: number | undefined, commitCount: number, projectCount: number, mrs: readonly MergeRequest[]): Spec[] {
	const fileCount = filesOption ?? rng.int(25, 45);
	const specs: Spec[] = [];
	const usedFiles = new Set<string>();
	const lateIndex = () => rng.int(Math.floor(commitCount * 0.1), Math.floor(commitCount * 0.9));
	for (let f = 0; f < fileCount; f++) {
		let file: string;
		do {
			const area = rng.pick(AREAS);
			file = rng.chance(0.3) ? `${area}/${rng.pick(['basic', 'edge-cases', 'flows', 'permissions'])}.spec.ts` : `${area}.spec.ts`;
		} while (usedFiles.has(file));
		usedFiles.add(file);
		const groups = rng.weighted([
			[0, 0.3],
			[1, 0.45],
			[2, 0.25]
		] as const);
		const groupTitles = rng.shuffle([...GROUPS]).slice(0, groups);
		const testCount = rng.int(2, 12);
		let line = 5;
		const titlesInFile = new Set<string>();
		for (let t = 0; t < testCount; t++) {
			const group = groups === 0 ? null : groupTitles[t % groups]!;
			const nested = group !== null && rng.chance(0.15) ? rng.pick(['with retries', 'slow path', 'legacy']) : null;
			let title: string;
			do title = `${rng.pick(VERBS)} ${rng.pick(OBJECTS)}${rng.pick(QUALIFIERS)}`;
			while (titlesInFile.has(title));
			titlesInFile.add(title);
			const titlePath = [...(group ? [group] : []), ...(nested ? [nested] : []), title];
			const button = rng.pick(BUTTONS);
			const locator = rng.pick([
				`getByRole('button', { name: '${button}' })`,
				`getByTestId('${file.split(/[./]/)[0]}-${t}')`,
				`locator('#${rng.pick(OBJECTS).replace(/\W+/g, '-').replace(/^-/, '')}')`
			]);
			line += rng.int(6, 30);
			specs.push({
				idx: specs.length,
				file,
				titlePath,
				line,
				column: 3 + (titlePath.length - 1) * 2,
				code: `    await ${locator.startsWith('get') ? `page.${locator}` : `page.${locator}`}.click();`,
				medianMs: Math.min(90_000, Math.max(200, rng.logNormal(3500, 0.8))),
				expectedStatus: 'passed',
				tags: rng.chance(0.2) ? [rng.pick(['smoke', 'slow', 'regression', 'critical'])] : [],
				addedAt: 0,
				removedAt: null,
				rename: null,
				alwaysSkipped: false,
				skipProjects: new Set(),
				klass: 'stable',
				rates: new Array<number>(projectCount).fill(0),
				flakyFrom: 0,
				flakyUntil: null,
				flakyError: { kind: 'test-timeout' },
				retryCorrelation: 0,
				regression: null,
				branchBreak: null,
				locator,
				path: `/${file.split(/[./]/)[0]}`
			});
		}
	}

	for (const spec of specs) {
		const roll = rng.next();
		spec.flakyError = rng.weighted<SimError>([
			[{ kind: 'action-timeout', action: rng.pick(['click', 'fill', 'check'] as const), locator: spec.locator }, 0.35],
			[{ kind: 'expect-text', locator: spec.locator, expected: '$42.00', received: '$0.00' }, 0.25],
			[{ kind: 'expect-visible', locator: spec.locator }, 0.15],
			[{ kind: 'test-timeout' }, 0.25]
		]);
		if (rng.chance(0.02)) spec.expectedStatus = 'failed';
		if (roll < 0.02) {
			spec.alwaysSkipped = true;
			spec.klass = 'skipped';
			continue;
		}
		if (projectCount > 1 && rng.chance(0.04)) spec.skipProjects.add(rng.int(0, projectCount - 1));
		if (roll < 0.14) {
			spec.klass = 'flaky';
			const rate = drawFlakeRate(rng);
			const scope = rng.weighted([
				['all', 0.55],
				['one', 0.3],
				['varied', 0.15]
			] as const);
			const only = rng.int(0, projectCount - 1);
			for (let p = 0; p < projectCount; p++) {
				spec.rates[p] =
					scope === 'all' ? rate : scope === 'one' ? (p === only ? rate : 0) : Math.min(0.8, rate * rng.logUniform(0.3, 3));
			}
			if (rng.chance(0.15)) spec.flakyFrom = lateIndex();
			if (rng.chance(0.5)) spec.retryCorrelation = rng.uniform(0, 0.5);
		} else if (roll < 0.155) {
			spec.klass = 'flaky-fixed';
			const rate = Math.max(0.02, drawFlakeRate(rng));
			spec.rates.fill(rate);
			spec.flakyUntil = rng.int(Math.floor(commitCount * 0.2), Math.floor(commitCount * 0.7));
		} else if (roll < 0.2 && spec.expectedStatus === 'passed') {
			spec.klass = 'regression';
			const start = rng.int(Math.floor(commitCount * 0.1), commitCount - 3);
			const length = rng.chance(0.1) ? 1 : rng.int(2, 40);
			const fixed = rng.chance(0.55) && start + length < commitCount;
			const projects = new Set<number>();
			if (projectCount > 1 && rng.chance(0.4)) projects.add(rng.int(0, projectCount - 1));
			else for (let p = 0; p < projectCount; p++) projects.add(p);
			const error = rng.weighted<SimError>([
				[{ kind: 'expect-tobe', expected: String(rng.int(1, 9)), received: String(rng.int(10, 99)) }, 0.4],
				[{ kind: 'expect-text', locator: spec.locator, expected: 'Order placed', received: 'Something went wrong' }, 0.3],
				[{ kind: 'expect-visible', locator: spec.locator }, 0.3]
			]);
			const viaMr = (index: number) => {
				const mr = mrs.find((m) => m.merge === index);
				return mr ? { mr: mr.iid, fromCommit: rng.int(0, mr.commits.length - 1) } : null;
			};
			spec.regression = {
				start,
				end: fixed ? start + length : null,
				projects,
				error,
				introducedInMr: viaMr(start),
				fixedInMr: fixed ? viaMr(start + length) : null
			};
		} else if (rng.chance(0.04) && mrs.length > 0) {
			const mr = rng.pick(mrs);
			const from = rng.int(0, mr.commits.length - 1);
			// Broken on the branch, then fixed before merging (or the MR is abandoned).
			spec.branchBreak = { mr: mr.iid, from, to: from };
		}
		// Late additions, removals and renames only for tests whose truth has no commit window of its own.
		if (spec.klass !== 'stable' && !(spec.klass === 'flaky' && spec.flakyFrom === 0)) continue;
		const life = rng.next();
		if (life < 0.08) spec.addedAt = lateIndex();
		else if (life < 0.11) spec.removedAt = lateIndex();
		else if (life < 0.14) {
			const last = spec.titlePath[spec.titlePath.length - 1]!;
			spec.rename = { at: lateIndex(), titlePath: [...spec.titlePath.slice(0, -1), `${last} correctly`] };
		}
	}
	return specs;
}
