/**
 * Quality harness: simulate CI histories with ground truth, ingest them in memory, run the engine
 * on every test and score its verdicts, next to simple baselines on the same data.
 *
 *   pnpm --filter ./server bench:quality --seeds 100-109     report seeds (never tune on these)
 *   pnpm --filter ./server bench:quality --seeds 1-10        tuning seeds
 *   pnpm --filter ./server bench:quality --perf              10 000 tests × 300 runs, timed
 *   pnpm --filter ./server bench:quality --seeds 100-109 --http
 *       the same, through the real server: per seed a fresh PostgreSQL database, app.ts on loopback,
 *       every upload POSTed to /api/v1/reports, the analysis queue drained after each upload (the
 *       incremental path), verdicts read back through the read API (`engine`), next to the engine
 *       run in memory on the same reports (`engine(mem)`); see quality-http.ts
 *   options: --json (machine-readable), --verbose (per-seed lines and misclassified tests),
 *            --no-infra-fingerprints (per-job guard only), --no-start-times (guard without its burst
 *            rule), --flip-grid (F1 of flip-rate thresholds), --days N / --files N (smaller
 *            simulations), --drain-every N (HTTP mode: drain the queue after every N uploads),
 *            --no-mem (HTTP mode: leave out the in-memory engine row),
 *            --parallel N (N seeds at a time), --history-limit N (the
 *            in-memory engine sees each test's newest N results, like the server's HISTORY_LIMIT)
 */
import { analyzeTest as defaultAnalyze } from '../src/analysis/engine.js';
import { infraFingerprints, judgeJobInfra, type FingerprintStats } from '../src/analysis/infra.js';
import { DEFAULT_ANALYSIS_SETTINGS, DEFAULT_INFRA_GUARD_SETTINGS, type AnalysisSettings } from '../src/analysis/settings.js';
import type { Outcome, RunObservation, Verdict } from '../src/analysis/types.js';
import { spawnSync } from 'node:child_process';
import { Rng } from '../src/sim/prng.js';
import { simulate } from '../src/sim/simulator.js';
import { identityKey, RETRIES_MODES, type RetriesMode, type SimOptions, type SimTruth, type SimUpload, type TruthTest } from '../src/sim/types.js';
import type { HttpSeedResult } from './quality-http.js';

// ---------------------------------------------------------------------------------------------
// Ingestion, in memory

interface Ingested {
	truth: SimTruth;
	histories: Map<string, RunObservation[]>;
	infraFingerprints: Set<string>;
	jobs: number;
	jobsFlaggedInfra: Set<string>;
	end: Date;
	/** Observation run id → index of its upload (for runs to detect in HTTP mode). */
	uploadOf: Map<string, number>;
	results: number;
}

// The adapter reaches the server's parser, which imports the protocol package at run time; see main().
let adapter: typeof import('../src/sim/adapter.js');

/**
 * `--cache DIR`: what ingest() produced for a seed and retries mode is kept in DIR as JSON and read
 * back next time (simulating and parsing the reports is most of a seed's time; the engine is not).
 * Delete DIR after changing the simulator, the parser or the infrastructure guard.
 */
const cacheDir = (() => {
	const i = process.argv.indexOf('--cache');
	return i < 0 ? undefined : process.argv[i + 1];
})();

async function cachedIngest(seed: number, retries: RetriesMode): Promise<Ingested> {
	if (!cacheDir) return ingest(seed, retries);
	const { mkdirSync, readFileSync, writeFileSync, existsSync } = await import('node:fs');
	const file = `${cacheDir}/seed${seed}-${retries}-d${simOptions.days ?? 'x'}-f${simOptions.files ?? 'x'}${useStartTimes ? '' : '-nostart'}.json`;
	// Observations share their run's fields: stored once per run, results as short tuples.
	type RunFields = Omit<RunObservation, 'outcome' | 'attempts' | 'failedAttempts' | 'durationMs' | 'errorFingerprint'>;
	type ResultTuple = [run: number, outcome: Outcome, attempts: number, failedAttempts: number, durationMs: number, fingerprint: string | null];
	if (existsSync(file)) {
		const raw = JSON.parse(readFileSync(file, 'utf8'));
		const runs = (raw.runs as RunFields[]).map((r) => ({ ...r, at: new Date(r.at) }));
		const histories = new Map<string, RunObservation[]>(
			(raw.histories as [string, ResultTuple[]][]).map(([key, list]) => [
				key,
				list.map(([run, outcome, attempts, failedAttempts, durationMs, errorFingerprint]) => ({
					...runs[run]!,
					outcome,
					attempts,
					failedAttempts,
					durationMs,
					errorFingerprint
				}))
			])
		);
		return {
			...raw,
			histories,
			infraFingerprints: new Set(raw.infraFingerprints),
			jobsFlaggedInfra: new Set(raw.jobsFlaggedInfra),
			end: new Date(raw.end),
			uploadOf: new Map(raw.uploadOf)
		};
	}
	const data = await ingest(seed, retries);
	const runIndex = new Map<string, number>();
	const runs: RunFields[] = [];
	const histories = [...data.histories].map(([key, list]) => [
		key,
		list.map((o): ResultTuple => {
			let run = runIndex.get(o.runId);
			if (run === undefined) {
				const { outcome: _o, attempts: _a, failedAttempts: _f, durationMs: _d, errorFingerprint: _e, ...fields } = o;
				runIndex.set(o.runId, (run = runs.push(fields) - 1));
			}
			return [run, o.outcome, o.attempts, o.failedAttempts, o.durationMs, o.errorFingerprint ?? null];
		})
	]);
	mkdirSync(cacheDir, { recursive: true });
	writeFileSync(
		file,
		JSON.stringify({
			...data,
			runs,
			histories,
			infraFingerprints: [...data.infraFingerprints],
			jobsFlaggedInfra: [...data.jobsFlaggedInfra],
			uploadOf: [...data.uploadOf]
		})
	);
	return data;
}

async function ingest(
	seed: number,
	retries: RetriesMode,
	beforeUploads?: (truth: SimTruth) => Promise<(upload: SimUpload, index: number) => Promise<void>>
): Promise<Ingested> {
	const { reportResults, resultFingerprint, runContextFromMetadata, toJobResult, toObservation } = adapter;
	const sim = simulate({ seed, retries, ...simOptions });
	const histories = new Map<string, RunObservation[]>();
	const fingerprintStats = new Map<string, FingerprintStats>();
	const jobsFlaggedInfra = new Set<string>();
	const uploadOf = new Map<string, number>();
	const onUpload = beforeUploads ? await beforeUploads(sim.truth) : undefined;
	let jobs = 0;
	let resultCount = 0;
	for (const upload of sim.uploads()) {
		if (onUpload) await onUpload(upload, jobs);
		jobs++;
		const results = reportResults(upload.report);
		resultCount += results.length;
		const fingerprints = results.map(resultFingerprint);
		const judgement = judgeJobInfra(
			results.map((r, i) => {
				const jobResult = toJobResult(r, fingerprints[i]);
				return useStartTimes ? jobResult : { ...jobResult, startedAt: undefined };
			}),
			DEFAULT_INFRA_GUARD_SETTINGS
		);
		if (judgement.infra) jobsFlaggedInfra.add(upload.metadata.jobId!);
		// What the server keeps per error cluster: failures, and failures in infrastructure jobs.
		for (const fp of fingerprints) {
			if (fp === null) continue;
			let stats = fingerprintStats.get(fp);
			if (!stats) fingerprintStats.set(fp, (stats = { fingerprint: fp, failures: 0, failuresInInfraJobs: 0 }));
			stats.failures++;
			if (judgement.infra) stats.failuresInInfraJobs++;
		}
		// No commit order: like the server, the engine orders default-branch commits by their first pipeline.
		const run = runContextFromMetadata(upload.metadata, new Date(upload.report.stats.startTime), { infra: judgement.infra });
		uploadOf.set(run.runId, jobs - 1);
		results.forEach((r, i) => {
			const key = identityKey(r.file, r.titlePath, r.projectName);
			const obs = toObservation(r, run, fingerprints[i]);
			const list = histories.get(key);
			if (list) list.push(obs);
			else histories.set(key, [obs]);
		});
	}
	return {
		truth: sim.truth,
		histories,
		infraFingerprints: infraFingerprints(fingerprintStats.values(), DEFAULT_INFRA_GUARD_SETTINGS),
		jobs,
		jobsFlaggedInfra,
		end: new Date(sim.truth.end),
		uploadOf,
		results: resultCount
	};
}

const numberArg = (name: string): number | undefined => {
	const i = process.argv.indexOf(name);
	if (i < 0) return undefined;
	const n = Number(process.argv[i + 1]);
	if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} needs a positive whole number`);
	return n;
};
/** `--days N`, `--files N`: smaller simulations (defaults: 35 days, 25–45 files from the seed). */
const simOptions: Omit<SimOptions, 'seed'> = {
	...(numberArg('--days') !== undefined ? { days: numberArg('--days')! } : {}),
	...(numberArg('--files') !== undefined ? { files: numberArg('--files')! } : {})
};

/** `--no-infra-fingerprints`: judge infrastructure per job only, as a server without error-cluster statistics would. */
const useInfraFingerprints = !process.argv.includes('--no-infra-fingerprints');
/** `--no-start-times`: the guard without result start times (no burst rule). */
const useStartTimes = !process.argv.includes('--no-start-times');

// ---------------------------------------------------------------------------------------------
// Detectors: the engine and the baselines, each a verdict on a history

interface Call {
	flaky: boolean;
	/** Estimated failure rate, to bucket false positives. */
	estimate: number;
}

const failedRun = (o: RunObservation) => o.outcome === 'unexpected' || o.outcome === 'flaky';
const ran = (h: readonly RunObservation[]) => h.filter((o) => o.outcome !== 'skipped');

/** Flip-rate threshold, chosen for the best F1 on the tuning seeds 1–10. */
const FLIP_THRESHOLD = 0.08;

const baselines: Record<string, (h: readonly RunObservation[]) => Call> = {
	'pw-flaky-label': (h) => {
		const r = ran(h);
		return { flaky: r.some((o) => o.outcome === 'flaky'), estimate: rate(r) };
	},
	'fail-rate>5%': (h) => {
		const r = ran(h);
		return { flaky: r.length > 0 && rate(r) > 0.05, estimate: rate(r) };
	},
	[`flip-rate>${FLIP_THRESHOLD}`]: (h) => {
		const r = [...ran(h)].sort((a, b) => a.at.getTime() - b.at.getTime());
		return { flaky: flipRate(r) > FLIP_THRESHOLD, estimate: rate(r) };
	}
};

function rate(r: readonly RunObservation[]): number {
	return r.length === 0 ? 0 : r.filter(failedRun).length / r.length;
}

function flipRate(r: readonly RunObservation[]): number {
	if (r.length < 2) return 0;
	let flips = 0;
	for (let i = 1; i < r.length; i++) if (failedRun(r[i]!) !== failedRun(r[i - 1]!)) flips++;
	return flips / (r.length - 1);
}

// ---------------------------------------------------------------------------------------------
// Scoring

const BUCKETS = [
	{ name: '<1%', lo: 0, hi: 0.01 },
	{ name: '1-5%', lo: 0.01, hi: 0.05 },
	{ name: '5-20%', lo: 0.05, hi: 0.2 },
	{ name: '>=20%', lo: 0.2, hi: Infinity }
] as const;
const bucketOf = (x: number) => BUCKETS.findIndex((b) => x >= b.lo && x < b.hi);

interface Tally {
	tp: number[];
	fn: number[];
	tpDetectable: number[];
	fnDetectable: number[];
	fp: number[];
	flakyCalls: number;
	regressions: number;
	regressionsFlaky: number;
	regressionsOngoing: number;
	regressionsOngoingBroken: number;
	regressionsLocatable: number;
	regressionsExact: number;
	regressionsExactAll: number;
	regressionsInRange: number;
	outageVictims: number;
	outageVictimsFlaky: number;
	branchBroken: number;
	branchBrokenFlaky: number;
	stable: number;
	stableFlaky: number;
	stableSuspect: number;
	fixedFlaky: number;
	fixedFlakyCalledFixed: number;
	fixedFlakyCalledFlaky: number;
	/** fixed-flaky tests whose verdict, re-run after their runs since the fix, turned `fixed` by the end… */
	fixedFlakyFixedByEnd: number;
	/** …and after how many runs since the fix. */
	runsToFixed: number[];
	/** Truly flaky tests (rate constant once flaky) whose verdict was re-run over their history… */
	steadyFlaky: number;
	/** …and was `fixed` after at least one of those uploads. */
	steadyFlakyEverFixed: number;
	/** The same over tests flaky at 1–30% per attempt (the issue's target range). */
	steadyFlakyMid: number;
	steadyFlakyMidEverFixed: number;
	detectRuns: number[];
}

const newTally = (): Tally => ({
	tp: [0, 0, 0, 0],
	fn: [0, 0, 0, 0],
	tpDetectable: [0, 0, 0, 0],
	fnDetectable: [0, 0, 0, 0],
	fp: [0, 0, 0, 0],
	flakyCalls: 0,
	regressions: 0,
	regressionsFlaky: 0,
	regressionsOngoing: 0,
	regressionsOngoingBroken: 0,
	regressionsLocatable: 0,
	regressionsExact: 0,
	regressionsExactAll: 0,
	regressionsInRange: 0,
	outageVictims: 0,
	outageVictimsFlaky: 0,
	branchBroken: 0,
	branchBrokenFlaky: 0,
	stable: 0,
	stableFlaky: 0,
	stableSuspect: 0,
	fixedFlaky: 0,
	fixedFlakyCalledFixed: 0,
	fixedFlakyCalledFlaky: 0,
	fixedFlakyFixedByEnd: 0,
	runsToFixed: [],
	steadyFlaky: 0,
	steadyFlakyEverFixed: 0,
	steadyFlakyMid: 0,
	steadyFlakyMidEverFixed: 0,
	detectRuns: []
});

/** Adds one seed's tally into a running total. */
function addTally(into: Tally, from: Tally) {
	for (const k of Object.keys(from) as (keyof Tally)[]) {
		const a = into[k];
		const b = from[k];
		if (typeof a === 'number' && typeof b === 'number') (into[k] as number) = a + b;
		else if (k === 'detectRuns' || k === 'runsToFixed') into[k].push(...from[k]);
		else (a as number[]).forEach((_, i) => ((a as number[])[i]! += (b as number[])[i]!));
	}
}

type Analyze = typeof defaultAnalyze;

/**
 * `--before-engine PATH`: also score an older engine (a copy of an earlier engine.ts with its
 * imports pointed at ../src/analysis/), as `engine(before)`, on the same simulated data, with the
 * settings it had by default then (`--before-settings JSON`, e.g. '{"fixedConfidence":0.95}').
 */
const beforeEngine = (() => {
	const i = process.argv.indexOf('--before-engine');
	if (i < 0) return undefined;
	const j = process.argv.indexOf('--before-settings');
	return { path: process.argv[i + 1]!, settings: j < 0 ? {} : (JSON.parse(process.argv[j + 1]!) as Partial<AnalysisSettings>) };
})();

interface Timing {
	engineMs: number;
	tests: number;
	/** Engine time spent re-running verdicts over growing histories (ever fixed, runs to fixed). */
	replayMs: number;
}

interface Misclassified {
	seed: number;
	detector: string;
	key: string;
	truth: string;
	call: string;
}

/** What the scoring reads of a verdict (the engine's own, or one read back through the API). */
type ScoredVerdict = Pick<Verdict, 'state' | 'score' | 'changePointSha' | 'evidence'>;

/** An engine to score: the engine run in memory, or the server's verdicts read through the API. */
interface EngineSource {
	name: string;
	verdict(key: string, history: readonly RunObservation[]): ScoredVerdict | null;
	/** Runs since `since` until first called flaky, or null. */
	detect(key: string, history: readonly RunObservation[], since: number): number | null;
	/** Was the verdict ever `fixed`, re-run after each upload? (in memory only) */
	everFixed?(history: readonly RunObservation[]): boolean;
	/** Runs since `fixedAt` until the verdict first says `fixed`, or null when it never does. (in memory only) */
	runsToFixed?(history: readonly RunObservation[], fixedAt: number): number | null;
}

/** The engine in memory, on the whole history, with the harness's own "now" and fingerprints. */
function memoryEngine(name: string, data: Ingested, settings: AnalysisSettings, timing: Timing, analyzeTest: Analyze = defaultAnalyze): EngineSource {
	const context = { now: data.end, infraFingerprints: useInfraFingerprints ? data.infraFingerprints : undefined };
	const engine = (h: readonly RunObservation[]) => analyzeTest(historyLimit ? newest(h, historyLimit) : h, settings, context);
	const cache = new Map<string, Verdict>();
	return {
		name,
		verdict(key, history) {
			const cached = cache.get(key);
			if (cached) return cached;
			const started = performance.now();
			const v = engine(history);
			timing.engineMs += performance.now() - started;
			timing.tests++;
			cache.set(key, v);
			return v;
		},
		detect: (_key, history, since) => runsToDetect('engine', history, since, engine),
		everFixed(history) {
			const sorted = byTime(history);
			// The verdict after the upload of sorted[i], as the server would give it then. Between two
			// failures the clean streak only grows, so a "fixed" within it shows at its last run: look
			// there (just before each failed run, and at the end), when the streak has at least 3 runs
			// (no rule calls a test fixed on fewer).
			let streak = 0;
			for (let i = 0; i < sorted.length; i++) {
				const o = sorted[i]!;
				if (failedRun(o)) streak = 0;
				else if (o.outcome !== 'skipped') streak++;
				const last = i === sorted.length - 1;
				if (streak < 3 || (!last && !failedRun(sorted[i + 1]!))) continue;
				if (verdictAt(sorted, i).state === 'fixed') return true;
			}
			return false;
		},
		runsToFixed(history, fixedAt) {
			const sorted = byTime(history);
			let lo = 0;
			for (let i = 0; i < sorted.length; i++) if (failedRun(sorted[i]!)) lo = i + 1;
			let hi = sorted.length - 1;
			if (hi < lo || verdictAt(sorted, hi).state !== 'fixed') return null;
			// After the last failure the clean streak only grows: the first "fixed" prefix, by bisection.
			while (lo < hi) {
				const mid = (lo + hi) >> 1;
				if (verdictAt(sorted, mid).state === 'fixed') hi = mid;
				else lo = mid + 1;
			}
			return ran(sorted.slice(0, hi + 1)).filter((o) => o.at.getTime() >= fixedAt).length;
		}
	};
	function verdictAt(sorted: readonly RunObservation[], i: number): Verdict {
		const started = performance.now();
		const v = analyzeTest(historyLimit ? newest(sorted.slice(0, i + 1), historyLimit) : sorted.slice(0, i + 1), settings, {
			now: sorted[i]!.at,
			infraFingerprints: context.infraFingerprints
		});
		timing.replayMs += performance.now() - started;
		return v;
	}
}

const byTime = (h: readonly RunObservation[]) => [...h].sort((a, b) => a.at.getTime() - b.at.getTime());

/** `--history-limit N`: the in-memory engine sees each test's newest N results only, as the server's HISTORY_LIMIT does. */
const historyLimit = numberArg('--history-limit');
const newest = (h: readonly RunObservation[], n: number) =>
	h.length <= n ? h : [...h].sort((a, b) => b.at.getTime() - a.at.getTime()).slice(0, n);

/** The server's verdicts (HTTP mode); runs to detect from the upload after which the test first turned flaky. */
function httpEngine(name: string, data: Ingested, http: HttpSeedResult): EngineSource {
	return {
		name,
		verdict: (key) => http.verdicts.get(key) ?? null,
		detect(key, history, since) {
			const upload = http.firstFlaky.get(key);
			if (upload === undefined) return null;
			return ran(history).filter((o) => o.at.getTime() >= since && data.uploadOf.get(o.runId)! <= upload).length;
		}
	};
}

function scoreSeed(data: Ingested, engines: EngineSource[], tallies: Map<string, Tally>, misses: Misclassified[], missing: Map<string, number>) {
	const { truth, histories } = data;
	const outageJobs = new Set(truth.outages.map((o) => o.jobId));
	const victims = new Set(truth.outages.flatMap((o) => o.victims));
	const commitTime = new Map(truth.commits.map((c) => [c.sha, Date.parse(c.at)]));
	const commitIndex = new Map(truth.commits.map((c, i) => [c.sha, i]));
	const isEngine = (name: string) => engines.some((e) => e.name === name);
	const engineOf = (name: string) => engines.find((e) => e.name === name);

	for (const t of truth.tests) {
		if (t.class === 'skipped') continue;
		const history = histories.get(t.key);
		if (!history || ran(history).length === 0) continue;
		const calls: [string, Call, ScoredVerdict | null][] = [];
		for (const e of engines) {
			const verdict = e.verdict(t.key, history);
			if (!verdict) missing.set(e.name, (missing.get(e.name) ?? 0) + 1);
			calls.push([e.name, { flaky: verdict?.state === 'flaky', estimate: verdict?.score ?? 0 }, verdict]);
		}
		calls.push(...Object.entries(baselines).map(([name, f]) => [name, f(history), null] as [string, Call, null]));
		for (const [name, call, v] of calls) {
			let tally = tallies.get(name);
			if (!tally) tallies.set(name, (tally = newTally()));
			score(tally, name, t, call, v, history);
		}
	}

	function score(tally: Tally, name: string, t: TruthTest, call: Call, v: ScoredVerdict | null, history: RunObservation[]) {
		if (call.flaky) tally.flakyCalls++;
		const miss = (what: string) =>
			misses.push({ seed: truth.seed, detector: name, key: t.key, truth: describeTruth(t), call: v ? `${v.state}: ${v.evidence.reasons[0]}` : what });
		if (t.class === 'flaky') {
			const everFixed = engineOf(name)?.everFixed;
			if (everFixed) {
				const mid = t.rate >= 0.01 && t.rate <= 0.3;
				tally.steadyFlaky++;
				if (mid) tally.steadyFlakyMid++;
				if (everFixed(history)) {
					tally.steadyFlakyEverFixed++;
					if (mid) tally.steadyFlakyMidEverFixed++;
					misses.push({ seed: truth.seed, detector: name, key: t.key, truth: describeTruth(t), call: 'called fixed at some upload' });
				}
			}
			const b = bucketOf(t.rate);
			const since = t.flakySinceSha ? commitTime.get(t.flakySinceSha)! : -Infinity;
			const detectable = ran(history).some((o) => failedRun(o) && !outageJobs.has(o.jobId) && o.at.getTime() >= since);
			if (call.flaky) {
				tally.tp[b]!++;
				if (detectable) tally.tpDetectable[b]!++;
				const engine = engines.find((e) => e.name === name);
				const runs = engine ? engine.detect(t.key, history, since) : runsToDetect(name, history, since, baselines[name]!);
				if (runs !== null) tally.detectRuns.push(runs);
			} else {
				tally.fn[b]!++;
				if (detectable) {
					tally.fnDetectable[b]!++;
					if (isEngine(name)) miss('');
				}
			}
			return;
		}
		if (t.class === 'flaky-fixed') {
			tally.fixedFlaky++;
			if (v?.state === 'fixed') tally.fixedFlakyCalledFixed++;
			if (call.flaky) tally.fixedFlakyCalledFlaky++;
			const runs = engineOf(name)?.runsToFixed?.(history, commitTime.get(t.flakyUntilSha!)!);
			if (runs !== undefined && runs !== null) {
				tally.fixedFlakyFixedByEnd++;
				tally.runsToFixed.push(runs);
			}
			return;
		}
		// Everything else is not flaky.
		if (call.flaky) {
			tally.fp[Math.max(0, bucketOf(call.estimate))]!++;
			if (isEngine(name)) miss('');
		}
		if (t.class === 'regression') {
			tally.regressions++;
			if (call.flaky) tally.regressionsFlaky++;
			const reg = t.regression!;
			if (reg.endSha === null) {
				tally.regressionsOngoing++;
				if (v?.state === 'broken') tally.regressionsOngoingBroken++;
			}
			if (v) {
				const located =
					v.changePointSha === reg.startSha || v.evidence.segments.some((s) => s.kind === 'broken' && s.firstSha === reg.startSha);
				// Locatable: the regression failed on at least two default-branch runs outside outages.
				const start = commitTime.get(reg.startSha)!;
				const end = reg.endSha ? commitTime.get(reg.endSha)! : Infinity;
				const failing = history.filter(
					(o) => o.isDefaultBranch && failedRun(o) && !outageJobs.has(o.jobId) && o.at.getTime() >= start && o.at.getTime() < end + 3_600_000
				).length;
				if (located) tally.regressionsExactAll++;
				// The reported range (last passing commit, first failing commit] holds the true start.
				const idx = (sha: string | null | undefined) => (sha ? (commitIndex.get(sha) ?? -1) : -1);
				const startIdx = idx(reg.startSha);
				const inRange = v.evidence.segments.some(
					(seg, i, all) => seg.kind === 'broken' && idx(all[i - 1]?.lastSha) < startIdx && startIdx <= idx(seg.firstSha)
				);
				if (inRange) tally.regressionsInRange++;
				if (failing >= 2) {
					tally.regressionsLocatable++;
					if (located) tally.regressionsExact++;
					else if (isEngine(name)) miss('');
				}
			}
		} else if (t.class === 'stable') {
			tally.stable++;
			if (call.flaky) tally.stableFlaky++;
			if (v?.state === 'suspect') tally.stableSuspect++;
			if (victims.has(t.key)) {
				tally.outageVictims++;
				if (call.flaky) tally.outageVictimsFlaky++;
			}
			if (t.brokenOnBranch) {
				tally.branchBroken++;
				if (call.flaky) tally.branchBrokenFlaky++;
			}
		}
	}
}

/** Runs (since flakiness began) until the detector first calls the test flaky. */
function runsToDetect(name: string, history: readonly RunObservation[], since: number, detect: (h: readonly RunObservation[]) => Call | Verdict): number | null {
	const sorted = ran(history).sort((a, b) => a.at.getTime() - b.at.getTime());
	const isFlaky = (c: Call | Verdict) => ('state' in c ? c.state === 'flaky' : c.flaky);
	const failedShas = new Set<string>();
	for (let i = 0; i < sorted.length; i++) {
		const o = sorted[i]!;
		// A verdict can only turn flaky on new evidence: a failure, or a pass on a commit that failed.
		const relevant = failedRun(o) || failedShas.has(o.commitSha) || name !== 'engine';
		if (failedRun(o)) failedShas.add(o.commitSha);
		if (!relevant || o.at.getTime() < since) continue;
		if (isFlaky(detect(sorted.slice(0, i + 1)))) return sorted.slice(0, i + 1).filter((x) => x.at.getTime() >= since).length;
	}
	return null;
}

function describeTruth(t: TruthTest): string {
	switch (t.class) {
		case 'flaky':
			return `flaky ${(t.rate * 100).toPrecision(2)}%${t.flakySinceSha ? ` since ${t.flakySinceSha.slice(0, 8)}` : ''}`;
		case 'regression':
			return `regression ${t.regression!.startSha.slice(0, 8)}..${t.regression!.endSha?.slice(0, 8) ?? 'now'}`;
		default:
			return t.class + (t.brokenOnBranch ? ' (broken on a branch)' : '');
	}
}

// ---------------------------------------------------------------------------------------------
// Report

const pct = (n: number, d: number) => (d === 0 ? '   -  ' : `${((100 * n) / d).toFixed(1).padStart(5)}%`);
const f3 = (x: number | null) => (x === null ? '  -  ' : x.toFixed(3));
const prf = (tp: number, fp: number, fn: number) => {
	const p = tp + fp === 0 ? null : tp / (tp + fp);
	const r = tp + fn === 0 ? null : tp / (tp + fn);
	const f = p === null || r === null || p + r === 0 ? (tp + fp + fn === 0 ? null : 0) : (2 * p * r) / (p + r);
	return { p, r, f };
};
const median = (xs: number[]) => {
	if (xs.length === 0) return null;
	const s = [...xs].sort((a, b) => a - b);
	const m = s.length >> 1;
	return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function printReport(seeds: number[], tallies: Map<string, Tally>, extra: string[]) {
	const lines: string[] = [];
	lines.push(`Seeds ${seeds.join(', ')}`);
	lines.push(...extra);
	lines.push('');
	lines.push('F1 for "flaky" by true per-attempt flake rate. Recall over flaky tests that failed at least once outside');
	lines.push('outages ("detectable"), and over all flaky tests. False positives (non-flaky tests called flaky) are');
	lines.push("bucketed by the detector's own rate estimate. fixed-flaky tests are left out of P/R (see below).");
	lines.push('');
	const header = ['detector', 'bucket', 'flaky', 'detect.', 'TP', 'FN', 'FP', 'precision', 'recall(det)', 'F1(det)', 'recall(all)', 'F1(all)'];
	const rows: string[][] = [];
	for (const [name, t] of tallies) {
		const bucketRows: { name: string; idx: number[] }[] = BUCKETS.map((b, i) => ({ name: b.name, idx: [i] }));
		bucketRows.push({ name: '>=5%', idx: [2, 3] }, { name: 'all', idx: [0, 1, 2, 3] });
		for (const br of bucketRows) {
			const sum = (xs: number[]) => br.idx.reduce((s, i) => s + xs[i]!, 0);
			const tp = sum(t.tp);
			const fn = sum(t.fn);
			const tpd = sum(t.tpDetectable);
			const fnd = sum(t.fnDetectable);
			const fp = sum(t.fp);
			const det = prf(tpd, fp, fnd);
			const all = prf(tp, fp, fn);
			rows.push([name, br.name, String(tp + fn), String(tpd + fnd), String(tp), String(fn), String(fp), f3(all.p), f3(det.r), f3(det.f), f3(all.r), f3(all.f)]);
		}
	}
	lines.push(...table(header, rows));
	lines.push('');
	const header2 = ['detector', 'regr->flaky', 'ongoing->broken', 'start exact', 'exact(all)', 'in range(all)', 'outage victims->flaky', 'branch-broken->flaky', 'stable->flaky', 'stable->suspect', 'fixed-flaky: fixed/flaky', 'median runs to detect'];
	const rows2: string[][] = [];
	for (const [name, t] of tallies) {
		const engine = name.startsWith('engine');
		rows2.push([
			name,
			`${t.regressionsFlaky}/${t.regressions} ${pct(t.regressionsFlaky, t.regressions)}`,
			engine ? `${t.regressionsOngoingBroken}/${t.regressionsOngoing} ${pct(t.regressionsOngoingBroken, t.regressionsOngoing)}` : '-',
			engine ? `${t.regressionsExact}/${t.regressionsLocatable} ${pct(t.regressionsExact, t.regressionsLocatable)}` : '-',
			engine ? `${t.regressionsExactAll}/${t.regressions} ${pct(t.regressionsExactAll, t.regressions)}` : '-',
			engine ? `${t.regressionsInRange}/${t.regressions} ${pct(t.regressionsInRange, t.regressions)}` : '-',
			`${t.outageVictimsFlaky}/${t.outageVictims} ${pct(t.outageVictimsFlaky, t.outageVictims)}`,
			`${t.branchBrokenFlaky}/${t.branchBroken}`,
			`${t.stableFlaky}/${t.stable} ${pct(t.stableFlaky, t.stable)}`,
			engine ? `${t.stableSuspect}/${t.stable}` : '-',
			engine ? `${t.fixedFlakyCalledFixed}/${t.fixedFlakyCalledFlaky}/${t.fixedFlaky}` : `-/${t.fixedFlakyCalledFlaky}/${t.fixedFlaky}`,
			String(median(t.detectRuns) ?? '-')
		]);
	}
	lines.push(...table(header2, rows2));
	lines.push('');
	lines.push('start exact: broken segment (or change point) begins at the true first bad commit, over regressions with at least two');
	lines.push('failing default-branch runs; exact(all) over every regression; in range: the true start lies in the reported');
	lines.push('(last passing, first failing] commit range. fixed-flaky: called fixed / called flaky / total.');
	console.log(lines.join('\n'));
}

const RETRIES_DESCRIPTION: Record<RetriesMode, string> = {
	default: "the seed's retries: 0, 1 or 2 per pipeline kind, sometimes changed midway",
	none: 'every job with retries: 0',
	mixed: "each job at random without retries or with the seed's (at least 1)"
};

/** The engine's figures per seed and retries mode, then the totals per mode. */
interface PerSeed {
	seed: number;
	mode: RetriesMode;
	detector: string;
	tally: Tally;
}

function printSummary(perSeed: PerSeed[], talliesByMode: Map<RetriesMode, Map<string, Tally>>) {
	const f1 = (t: Tally, idx: number[]) => {
		const sum = (xs: number[]) => idx.reduce((s, i) => s + xs[i]!, 0);
		return f3(prf(sum(t.tp), sum(t.fp), sum(t.fn)).f);
	};
	const prec = (t: Tally) => f3(prf(t.tp.reduce((a, b) => a + b), t.fp.reduce((a, b) => a + b), 0).p);
	const rec = (t: Tally) => f3(prf(t.tp.reduce((a, b) => a + b), 0, t.fn.reduce((a, b) => a + b)).r);
	const header = ['engine', 'seed', 'retries', 'flaky', 'P(all)', 'R(all)', 'F1 <1%', 'F1 1-5%', 'F1 5-20%', 'F1 >=20%', 'F1 >=5%', 'F1 all', 'regr->flaky', 'victims->flaky', 'stable->flaky', 'steady ever fixed', '1-30% ever fixed', 'fixed-flaky fixed', 'runs to fixed (median)'];
	const row = (detector: string, seed: string, mode: string, t: Tally) => [
		detector,
		seed,
		mode,
		String(t.tp.reduce((a, b) => a + b) + t.fn.reduce((a, b) => a + b)),
		prec(t),
		rec(t),
		f1(t, [0]),
		f1(t, [1]),
		f1(t, [2]),
		f1(t, [3]),
		f1(t, [2, 3]),
		f1(t, [0, 1, 2, 3]),
		`${t.regressionsFlaky}/${t.regressions}`,
		`${t.outageVictimsFlaky}/${t.outageVictims}`,
		`${t.stableFlaky}/${t.stable}`,
		`${t.steadyFlakyEverFixed}/${t.steadyFlaky} ${pct(t.steadyFlakyEverFixed, t.steadyFlaky)}`,
		`${t.steadyFlakyMidEverFixed}/${t.steadyFlakyMid} ${pct(t.steadyFlakyMidEverFixed, t.steadyFlakyMid)}`,
		`${t.fixedFlakyFixedByEnd}/${t.fixedFlaky}`,
		String(median(t.runsToFixed) ?? '-')
	];
	const detectors = [...new Set(perSeed.map((p) => p.detector))];
	const rows = detectors.flatMap((d) => perSeed.filter((p) => p.detector === d).map((p) => row(d, String(p.seed), p.mode, p.tally)));
	for (const d of detectors) {
		for (const [mode, tallies] of talliesByMode) {
			const t = tallies.get(d);
			if (t) rows.push(row(d, 'total', mode, t));
		}
	}
	console.log('\nEngine per seed and retries mode (F1 over all flaky tests of the bucket, fixed-flaky left out; "steady ever fixed": truly');
	console.log('flaky tests, rate unchanged once flaky, whose verdict was "fixed" after some upload, re-run along the history; "fixed-flaky fixed":');
	console.log('tests whose flakiness really was fixed, called fixed by the end; runs to fixed: runs since the true fix until then).');
	console.log(table(header, rows).join('\n'));
}

function table(header: string[], rows: string[][]): string[] {
	const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
	const fmt = (r: string[]) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
	return [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)];
}

// ---------------------------------------------------------------------------------------------
// Performance: 10 000 tests × 300 runs

function perf() {
	const rng = new Rng(42);
	const tests = 10_000;
	const runsPerTest = 300;
	const t0 = Date.UTC(2025, 0, 1);
	// Histories are built one at a time and dropped after analysis, as the server would stream
	// them; only analyzeTest is timed.
	let ms = 0;
	const states: Record<string, number> = {};
	for (let t = 0; t < tests; t++) {
		const kind = rng.weighted([
			['stable', 0.8],
			['flaky', 0.15],
			['regression', 0.05]
		] as const);
		const p = kind === 'flaky' ? rng.logUniform(0.002, 0.5) : 0;
		const start = rng.int(50, 280);
		const h: RunObservation[] = [];
		for (let i = 0; i < runsPerTest; i++) {
			const commit = Math.floor(i * 0.8);
			const broken = kind === 'regression' && commit >= start;
			const attempts: boolean[] = [];
			for (let a = 0; a < 3; a++) {
				const fail = broken || rng.chance(p);
				attempts.push(fail);
				if (!fail) break;
			}
			const failed = attempts.filter(Boolean).length;
			const outcome: Outcome = failed === 0 ? 'expected' : failed === attempts.length ? 'unexpected' : 'flaky';
			h.push({
				runId: `r${i}`,
				at: new Date(t0 + i * 3_600_000),
				commitSha: commit.toString(16).padStart(40, '0'),
				branch: 'main',
				isDefaultBranch: true,
				commitOrder: commit,
				pipelineId: `p${i}`,
				jobId: `j${i}`,
				isMergeRequest: false,
				outcome,
				attempts: attempts.length,
				failedAttempts: failed,
				durationMs: 3000 * attempts.length,
				errorFingerprint: failed ? 'ffffffffffffffff' : null,
				infra: false
			});
		}
		const started = performance.now();
		const v = defaultAnalyze(h);
		ms += performance.now() - started;
		states[v.state] = (states[v.state] ?? 0) + 1;
	}
	console.log(`analyzeTest: ${tests} tests × ${runsPerTest} runs in ${(ms / 1000).toFixed(2)} s (${(ms / tests).toFixed(3)} ms per test, one core)`);
	console.log(`states: ${JSON.stringify(states)}`);
}

// ---------------------------------------------------------------------------------------------

/** " (memory→server: n, …)" */
function summarise(ds: { memory: string; server: string }[]): string {
	const counts = new Map<string, number>();
	for (const d of ds) {
		const k = `${d.memory.split(':')[0]}→${d.server.split(':')[0]}`;
		counts.set(k, (counts.get(k) ?? 0) + 1);
	}
	return counts.size === 0 ? '' : ` (memory→server: ${[...counts].map(([k, n]) => `${k} ${n}`).join(', ')})`;
}

function parseSeeds(spec: string): number[] {
	const seeds: number[] = [];
	for (const part of spec.split(',')) {
		const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
		if (!m) throw new Error(`bad --seeds part: ${part}`);
		const from = Number(m[1]);
		const to = m[2] === undefined ? from : Number(m[2]);
		for (let s = from; s <= to; s++) seeds.push(s);
	}
	return seeds;
}

async function main() {
	const args = process.argv.slice(2);
	// Workspace packages resolve to their TypeScript sources under the `source` condition (as in
	// vitest); without it `flackyness-reporter/protocol` needs a build first. Re-run with it.
	if (!process.execArgv.includes('--conditions=source')) {
		// A larger young generation: the reports and histories are many short-lived objects.
		const child = spawnSync(process.execPath, [...process.execArgv, '--conditions=source', '--max-semi-space-size=64', ...process.argv.slice(1)], {
			stdio: 'inherit'
		});
		process.exit(child.status ?? 1);
	}
	adapter = await import('../src/sim/adapter.js');
	if (args.includes('--perf')) {
		perf();
		return;
	}
	const http = args.includes('--http');
	const withMemory = !http || !args.includes('--no-mem');
	const drainEvery = numberArg('--drain-every') ?? 1;
	const parallel = numberArg('--parallel') ?? 1;
	const httpMode = http ? await import('./quality-http.js') : undefined;
	const seedsArg = args[args.indexOf('--seeds') + 1];
	const seeds = parseSeeds(args.includes('--seeds') && seedsArg ? seedsArg : '1-10');
	const verbose = args.includes('--verbose');
	const modesArg = args[args.indexOf('--retries') + 1];
	const modes = (args.includes('--retries') && modesArg ? modesArg : http ? 'default' : RETRIES_MODES.join(',')).split(',') as RetriesMode[];
	for (const m of modes) if (!RETRIES_MODES.includes(m)) throw new Error(`--retries takes ${RETRIES_MODES.join(', ')} (comma-separated), not ${m}`);
	/** Totals per retries mode, then per detector; and the engine's tally per seed and mode. */
	const talliesByMode = new Map<RetriesMode, Map<string, Tally>>(modes.map((m) => [m, new Map()]));
	const perSeed: PerSeed[] = [];
	const before = beforeEngine && {
		analyze: ((await import(beforeEngine.path)) as { analyzeTest: Analyze }).analyzeTest,
		settings: { ...DEFAULT_ANALYSIS_SETTINGS, ...beforeEngine.settings }
	};
	const misses: Misclassified[] = [];
	const timing: Timing = { engineMs: 0, tests: 0, replayMs: 0 };
	const outageKinds = { 'app-down': [0, 0], browser: [0, 0], blip: [0, 0] };
	let cleanJobsFlagged = 0;
	let jobs = 0;
	const flipData: { flaky: boolean; flip: number }[] = [];
	const missing = new Map<string, number>();
	const serverOutageKinds = { 'app-down': [0, 0], browser: [0, 0], blip: [0, 0] };
	let serverCleanJobsFlagged = 0;
	const httpTotals = { upload: 0, drain: 0, read: 0, total: 0, created: 0, duplicate: 0, storedMismatch: [] as string[], jobs: 0, fastPath: 0, analysed: 0 };
	const disagreements: { seed: number; key: string; truth: string; memory: string; server: string }[] = [];
	const started = performance.now();
	const runSeed = async (seed: number, mode: RetriesMode) => {
		let session: Awaited<ReturnType<NonNullable<typeof httpMode>['startHttpSeed']>> | undefined;
		let httpResult: HttpSeedResult | undefined;
		let data: Ingested;
		try {
			data = await (httpMode ? ingest : cachedIngest)(
				seed,
				mode,
				httpMode &&
					(async (truth) => {
						const commitTime = new Map(truth.commits.map((c) => [c.sha, Date.parse(c.at)]));
						const since = new Map(truth.tests.map((t) => [t.key, t.flakySinceSha ? commitTime.get(t.flakySinceSha)! : -Infinity]));
						session = await httpMode.startHttpSeed({
							drainEvery,
							detectFrom: (key) => since.get(key) ?? -Infinity,
							...(verbose ? { progress: (n: number) => console.error(`seed ${seed}: ${n} uploads`) } : {})
						});
						return (upload, index) => session!.upload(upload, index);
					})
			);
			if (session) httpResult = await session.finish();
		} finally {
			await session?.close();
		}
		jobs += data.jobs;
		const outageIds = new Set(data.truth.outages.map((o) => o.jobId));
		for (const o of data.truth.outages) {
			outageKinds[o.kind][1]!++;
			if (data.jobsFlaggedInfra.has(o.jobId)) outageKinds[o.kind][0]!++;
			if (httpResult) {
				serverOutageKinds[o.kind][1]!++;
				if (httpResult.infraJobs.has(o.jobId)) serverOutageKinds[o.kind][0]!++;
			}
		}
		for (const id of data.jobsFlaggedInfra) if (!outageIds.has(id)) cleanJobsFlagged++;
		if (httpResult) {
			for (const id of httpResult.infraJobs) if (!outageIds.has(id)) serverCleanJobsFlagged++;
			const h = httpResult;
			httpTotals.upload += h.ms.upload;
			httpTotals.drain += h.ms.drain;
			httpTotals.read += h.ms.read;
			httpTotals.total += h.ms.total;
			httpTotals.created += h.uploads.created;
			httpTotals.duplicate += h.uploads.duplicate;
			httpTotals.jobs += h.analysis.jobs;
			httpTotals.fastPath += h.analysis.fastPath;
			httpTotals.analysed += h.analysis.analysed;
			if (h.stored.runs !== data.jobs || h.stored.results !== data.results) {
				httpTotals.storedMismatch.push(`seed ${seed}: stored ${h.stored.runs} runs / ${h.stored.results} results, sent ${data.jobs} / ${data.results}`);
			}
			if (verbose) {
				console.error(
					`seed ${seed} over HTTP: upload ${(h.ms.upload / 1000).toFixed(1)} s, analysis ${(h.ms.drain / 1000).toFixed(1)} s ` +
						`(${h.analysis.fastPath} fast-path, ${h.analysis.analysed} analysed), reads ${(h.ms.read / 1000).toFixed(1)} s, total ${(h.ms.total / 1000).toFixed(1)} s; ` +
						`${h.stored.results} results stored, fingerprint query at the end ${h.fingerprintQueryMs.toFixed(0)} ms`
				);
			}
		}
		if (args.includes('--flip-grid')) {
			for (const t of data.truth.tests) {
				const h = data.histories.get(t.key);
				if (t.class === 'skipped' || t.class === 'flaky-fixed' || !h || ran(h).length === 0) continue;
				const r = [...ran(h)].sort((a, b) => a.at.getTime() - b.at.getTime());
				flipData.push({ flaky: t.class === 'flaky', flip: flipRate(r) });
			}
			return;
		}
		const engines: EngineSource[] = [];
		if (httpResult) engines.push(httpEngine('engine', data, httpResult));
		if (withMemory) engines.push(memoryEngine(httpResult ? 'engine(mem)' : 'engine', data, DEFAULT_ANALYSIS_SETTINGS, timing));
		if (before) engines.push(memoryEngine('engine(before)', data, before.settings, timing, before.analyze));
		const seedTallies = new Map<string, Tally>();
		scoreSeed(data, engines, seedTallies, misses, missing);
		const tallies = talliesByMode.get(mode)!;
		for (const [name, t] of seedTallies) {
			if (!tallies.has(name)) tallies.set(name, newTally());
			addTally(tallies.get(name)!, t);
		}
		for (const e of engines) {
			const engineTally = seedTallies.get(e.name);
			if (engineTally) perSeed.push({ seed, mode, detector: e.name, tally: engineTally });
		}
		if (httpResult && withMemory) {
			const mem = engines[1]!;
			for (const t of data.truth.tests) {
				const history = data.histories.get(t.key);
				if (t.class === 'skipped' || !history || ran(history).length === 0) continue;
				const a = mem.verdict(t.key, history);
				const b = httpResult.verdicts.get(t.key);
				if (a?.state !== b?.state) {
					disagreements.push({
						seed,
						key: t.key,
						truth: describeTruth(t),
						memory: a ? `${a.state}: ${a.evidence.reasons[0]}` : 'none',
						server: b ? `${b.state}: ${b.evidence.reasons[0]}` : 'none'
					});
				}
			}
		}
		if (verbose) {
			const t = data.truth;
			console.error(
				`seed ${seed}: ${t.tests.length} tests, ${t.projects.length} projects, ${t.shards} shards (${t.jobLayout}), retries main ${t.retries.defaultBranch}` +
					`${t.retries.defaultBranchFrom ? `→${t.retries.defaultBranchFrom.retries}` : ''} mr ${t.retries.mergeRequest}, ${data.jobs} jobs, ${t.outages.length} outages`
			);
		}
	};
	// `--parallel N`: seeds N at a time (each HTTP seed has its own database and server).
	const queue = seeds.flatMap((seed) => modes.map((mode) => [seed, mode] as [number, RetriesMode]));
	await Promise.all(
		Array.from({ length: Math.min(parallel, seeds.length) }, async () => {
			for (let job = queue.shift(); job !== undefined; job = queue.shift()) await runSeed(...job);
		})
	);
	misses.sort((a, b) => a.seed - b.seed);
	perSeed.sort((a, b) => a.seed - b.seed || modes.indexOf(a.mode) - modes.indexOf(b.mode));
	disagreements.sort((a, b) => a.seed - b.seed);
	if (args.includes('--flip-grid')) {
		for (const threshold of [0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.08, 0.1, 0.15, 0.2, 0.3]) {
			const tp = flipData.filter((d) => d.flaky && d.flip > threshold).length;
			const fp = flipData.filter((d) => !d.flaky && d.flip > threshold).length;
			const fn = flipData.filter((d) => d.flaky && d.flip <= threshold).length;
			console.log(`flip-rate > ${threshold}: F1 ${f3(prf(tp, fp, fn).f)} (TP ${tp}, FP ${fp}, FN ${fn})`);
		}
		return;
	}
	const kinds = Object.entries(outageKinds)
		.map(([kind, [flagged, total]]) => `${kind} ${flagged}/${total}`)
		.join(', ');
	const serverKinds = Object.entries(serverOutageKinds)
		.map(([kind, [flagged, total]]) => `${kind} ${flagged}/${total}`)
		.join(', ');
	const simDesc = `Simulation: ${simOptions.days ?? 35} days, ${simOptions.files ?? '25–45 (from the seed)'} spec files.`;
	const httpLines = http
		? [
				`HTTP mode: every upload POSTed to /api/v1/reports (X-Flackyness-* headers) of a fresh PostgreSQL database per seed, analysis queue ` +
					`drained after every ${drainEvery === 1 ? 'upload' : `${drainEvery} uploads`} (incremental path), verdicts read through ` +
					`/api/v1/projects/:id/flaky-tests and /api/v1/tests/:id. \`engine\` = the API's verdicts` +
					`${withMemory ? '; `engine(mem)` = the engine in memory on the same reports' : ''}.`,
				`Uploads: ${httpTotals.created} stored (201), ${httpTotals.duplicate} answered as duplicates (200). Analysis: ${httpTotals.jobs} queue jobs, ` +
					`${httpTotals.fastPath} results on a fast path, ${httpTotals.analysed} test analyses. Server-judged outage jobs: ${serverKinds}; ` +
					`jobs without an outage flagged: ${serverCleanJobsFlagged}.`,
				`HTTP time: upload ${(httpTotals.upload / 1000).toFixed(0)} s, analysis ${(httpTotals.drain / 1000).toFixed(0)} s, reads ` +
					`${(httpTotals.read / 1000).toFixed(0)} s, per-seed total ${(httpTotals.total / 1000).toFixed(0)} s.`,
				...(httpTotals.storedMismatch.length ? [`STORED DATA DIFFERS: ${httpTotals.storedMismatch.join('; ')}`] : []),
				...[...missing].map(([name, n]) => `${name}: ${n} scored tests without a verdict.`),
				...(withMemory ? [`Verdict states differing between engine and engine(mem): ${disagreements.length}${summarise(disagreements)}.`] : [])
			]
		: [];
	const extra = [
		simDesc,
		...httpLines,
		`Reports parsed by server/src/ingest/playwright-json.ts. Engine: default settings` +
			`${useInfraFingerprints ? ', infrastructure fingerprints from error-cluster statistics' : ', no infrastructure fingerprints'}` +
			`${useStartTimes ? '' : ', guard without start times'}` +
			`${historyLimit ? `, in-memory engine on each test's newest ${historyLimit} results` : ''}. ` +
			'Baselines see raw data (no infrastructure guard).',
		`Jobs: ${jobs}. Outage jobs flagged by the infrastructure guard: ${kinds}; jobs without an outage flagged: ${cleanJobsFlagged}.`,
		`Engine time: ${(timing.engineMs / 1000).toFixed(2)} s for ${timing.tests} tests, ${(timing.replayMs / 1000).toFixed(2)} s re-running ` +
			`verdicts over growing histories; total ${((performance.now() - started) / 1000).toFixed(1)} s.`
	];
	if (args.includes('--json')) {
		const byMode = Object.fromEntries([...talliesByMode].map(([m, t]) => [m, Object.fromEntries(t)]));
		console.log(JSON.stringify({ seeds, modes, tallies: byMode, perSeed, extra }, null, 2));
	} else {
		for (const [mode, tallies] of talliesByMode) {
			console.log(`\n===== retries: ${mode} (${RETRIES_DESCRIPTION[mode]}) =====`);
			printReport(seeds, tallies, extra);
		}
		printSummary(perSeed, talliesByMode);
	}
	if (verbose) {
		console.log('\nEngine misclassifications:');
		for (const m of misses.filter((x) => x.detector.startsWith('engine'))) {
			console.log(`  [${m.detector}] seed ${m.seed} ${m.key}\n    truth: ${m.truth}\n    call:  ${m.call}`);
		}
		if (disagreements.length > 0) {
			console.log('\nengine (API) vs engine(mem):');
			for (const d of disagreements) console.log(`  seed ${d.seed} ${d.key}\n    truth:  ${d.truth}\n    memory: ${d.memory}\n    server: ${d.server}`);
		}
	}
}

await main();
