import type { JSONReportSuite, JSONReportTest } from '@playwright/test/reporter';
import { ciMetadataSchema } from 'flackyness-reporter/protocol';
import { describe, expect, it } from 'vitest';
import { analyzeTest } from '../analysis/engine.js';
import { judgeJobInfra } from '../analysis/infra.js';
import type { RunObservation } from '../analysis/types.js';
import { reportResults, runContextFromMetadata, toJobResult, toObservation } from './adapter.js';
import { Rng } from './prng.js';
import { simulate } from './simulator.js';
import { identityKey, type SimUpload } from './types.js';

const small = { files: 8, days: 8 };
const ESC = String.fromCharCode(27);

function collect(seed: number, options = small): { uploads: SimUpload[]; truth: ReturnType<typeof simulate>['truth'] } {
	const sim = simulate({ seed, ...options });
	return { uploads: [...sim.uploads()], truth: sim.truth };
}

function* tests(suite: JSONReportSuite): Generator<JSONReportTest> {
	for (const spec of suite.specs) yield* spec.tests;
	for (const child of suite.suites ?? []) yield* tests(child);
}

describe('Rng', () => {
	it('repeats its sequence for a seed and differs between seeds', () => {
		const a = new Rng(7);
		const b = new Rng(7);
		const c = new Rng(8);
		const seqA = Array.from({ length: 5 }, () => a.nextUint32());
		expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(seqA);
		expect(Array.from({ length: 5 }, () => c.nextUint32())).not.toEqual(seqA);
	});

	it('draws uniform values in range with about the right mean', () => {
		const r = new Rng(1);
		let sum = 0;
		for (let i = 0; i < 20_000; i++) {
			const x = r.next();
			expect(x).toBeGreaterThanOrEqual(0);
			expect(x).toBeLessThan(1);
			sum += x;
		}
		expect(sum / 20_000).toBeCloseTo(0.5, 1);
		const ints = new Set(Array.from({ length: 500 }, () => r.int(2, 4)));
		expect([...ints].sort()).toEqual([2, 3, 4]);
	});
});

describe('simulate', () => {
	it('is deterministic per seed', () => {
		const a = collect(3);
		const b = collect(3);
		expect(b.truth).toEqual(a.truth);
		expect(b.uploads.length).toBe(a.uploads.length);
		expect(JSON.stringify(b.uploads)).toBe(JSON.stringify(a.uploads));
		const c = collect(4);
		expect(c.truth.commits[1]!.sha).not.toBe(a.truth.commits[1]!.sha);
	});

	it('writes valid CI metadata and Playwright JSON reports', () => {
		const { uploads, truth } = collect(5);
		expect(uploads.length).toBeGreaterThan(50);
		const statuses = new Set(['passed', 'failed', 'timedOut', 'skipped', 'interrupted']);
		let coloured = 0;
		for (const { metadata, report } of uploads) {
			expect(() => ciMetadataSchema.parse(metadata)).not.toThrow();
			expect(report.config.version).toMatch(/^1\.5\d\.\d+$/);
			expect(report.config.projects.map((p) => p.name)).toEqual(truth.projects);
			if (truth.shards > 1) {
				expect(report.config.shard).toEqual({ current: metadata.shardIndex, total: truth.shards });
				expect(metadata.jobName).toMatch(new RegExp(` ${metadata.shardIndex}/${truth.shards}$`));
			} else {
				expect(report.config.shard).toBeNull();
			}
			const counted = { expected: 0, unexpected: 0, flaky: 0, skipped: 0 };
			for (const fileSuite of report.suites) {
				expect(fileSuite.title).toBe(fileSuite.file);
				for (const test of tests(fileSuite)) {
					counted[test.status]++;
					expect(truth.projects).toContain(test.projectName);
					expect(test.results.map((r) => r.retry)).toEqual(test.results.map((_, i) => i));
					expect(test.results.length).toBeLessThanOrEqual(report.config.projects[0]!.retries + 1);
					for (const r of test.results) {
						expect(statuses.has(r.status!)).toBe(true);
						expect(Number.isFinite(Date.parse(r.startTime))).toBe(true);
						if (r.status !== 'passed' && r.status !== 'skipped') {
							expect(r.errors.length).toBeGreaterThan(0);
							if (r.errors[0]!.message.includes(ESC)) coloured++;
						}
					}
				}
			}
			const { startTime: _startTime, duration: _duration, ...stats } = report.stats;
			expect(stats).toEqual(counted);
			// Round-trips through JSON unchanged: no Dates, no undefined that matters.
			expect(JSON.parse(JSON.stringify(report)).stats).toEqual(report.stats);
		}
		// Assertion and action errors carry ANSI colour codes, as Playwright writes them.
		expect(coloured).toBeGreaterThan(0);
	});

	it('plays merge requests, nightlies, manual retries, shards and several projects', () => {
		const { uploads, truth } = collect(11, { files: 6, days: 10 });
		const sources = new Set(uploads.map((u) => u.metadata.pipelineSource));
		expect(sources).toContain('push');
		expect(sources).toContain('merge_request_event');
		expect(sources).toContain('schedule');
		const mr = uploads.find((u) => u.metadata.mrIid !== undefined)!;
		expect(mr.metadata.branch).toBe(mr.metadata.mrSourceBranch);
		expect(mr.metadata.mrTargetBranch).toBe('main');
		// A manual retry: the same pipeline and job name again, with a new job id.
		const seen = new Map<string, string>();
		let retried = 0;
		for (const u of uploads) {
			const key = `${u.metadata.pipelineId} ${u.metadata.jobName}`;
			if (seen.has(key) && seen.get(key) !== u.metadata.jobId) retried++;
			seen.set(key, u.metadata.jobId!);
		}
		expect(retried).toBeGreaterThan(0);
		// Commits advance with time on the default branch.
		const times = truth.commits.map((c) => Date.parse(c.at));
		expect(times).toEqual([...times].sort((a, b) => a - b));
		expect(truth.commits.length).toBeGreaterThan(20);
	});

	it('varies configuration across seeds: projects, shards, retries', () => {
		const truths = [1, 2, 3, 4, 5, 6, 7, 8].map((seed) => simulate({ seed, files: 2, days: 2 }).truth);
		expect(new Set(truths.map((t) => t.projects.length)).size).toBeGreaterThan(1);
		expect(new Set(truths.map((t) => t.shards)).size).toBeGreaterThan(1);
		expect(new Set(truths.flatMap((t) => [t.retries.defaultBranch, t.retries.mergeRequest])).size).toBe(3);
	});

	it('runs every job without retries, or half of them, on demand (retries: none | mixed), and the default as before', () => {
		const jobRetries = (retries: 'default' | 'none' | 'mixed') => {
			const sim = simulate({ seed: 8, files: 6, days: 6, retries });
			const seen: number[] = [];
			for (const { report } of sim.uploads()) {
				const configured = report.config.projects[0]!.retries;
				seen.push(configured);
				for (const fileSuite of report.suites) {
					for (const test of tests(fileSuite)) expect(test.results.length).toBeLessThanOrEqual(configured + 1);
				}
			}
			return { seen, truth: sim.truth };
		};
		const none = jobRetries('none');
		expect(none.truth.retries.mode).toBe('none');
		expect(new Set(none.seen)).toEqual(new Set([0]));
		const mixed = jobRetries('mixed');
		const withRetries = mixed.seen.filter((r) => r > 0).length;
		expect(withRetries).toBeGreaterThan(mixed.seen.length * 0.3);
		expect(withRetries).toBeLessThan(mixed.seen.length * 0.7);
		// The default option draws exactly what no option drew: same jobs, same retries.
		const plain = simulate({ seed: 8, files: 6, days: 6 });
		const def = jobRetries('default');
		expect(def.seen).toEqual([...plain.uploads()].map((u) => u.report.config.projects[0]!.retries));
		expect(def.truth.tests).toEqual(plain.truth.tests);
	});

	it('keeps its ground truth: regressions fail on every attempt inside their window and outages hit their victims', () => {
		const { uploads, truth } = collect(21, { files: 30, days: 20 });
		const commitIndex = new Map(truth.commits.map((c, i) => [c.sha, i]));
		const outageJobs = new Map(truth.outages.map((o) => [o.jobId, new Set(o.victims)]));
		const byKey = new Map(truth.tests.map((t) => [t.key, t]));
		let checkedRegressionRuns = 0;
		let checkedVictims = 0;
		for (const { metadata, report } of uploads) {
			const victims = outageJobs.get(metadata.jobId!);
			for (const r of reportResults(report)) {
				const key = identityKey(r.file, r.titlePath, r.projectName);
				const t = byKey.get(key);
				expect(t, key).toBeDefined();
				if (victims?.has(key)) {
					expect(r.failedAttempts).toBeGreaterThan(0);
					checkedVictims++;
				}
				if (t!.class !== 'regression' || metadata.branch !== 'main' || victims) continue;
				const i = commitIndex.get(metadata.commitSha!)!;
				const start = commitIndex.get(t!.regression!.startSha)!;
				const end = t!.regression!.endSha ? commitIndex.get(t!.regression!.endSha)! : Infinity;
				if (i >= start && i < end) {
					expect(r.outcome).toBe('unexpected');
					checkedRegressionRuns++;
				} else if (r.outcome === 'unexpected') {
					// Outside the window only a blip outage (not recorded as a job) could fail it.
					expect(truth.outages.some((o) => o.jobId === metadata.jobId)).toBe(true);
				}
			}
		}
		expect(checkedRegressionRuns).toBeGreaterThan(0);
		expect(checkedVictims).toBeGreaterThan(0);
		expect(truth.tests.some((t) => t.class === 'flaky' && t.rate < 0.01)).toBe(true);
		expect(truth.tests.some((t) => t.class === 'flaky' && t.rate > 0.1)).toBe(true);
	});

	it('renames start a new identity from the rename on', () => {
		const truth = simulate({ seed: 2 }).truth;
		const renamed = truth.tests.find((t) => t.renamedTo !== null)!;
		expect(renamed).toBeDefined();
		const successor = truth.tests.find((t) => t.key === renamed.renamedTo)!;
		expect(successor.renamedFrom).toBe(renamed.key);
		expect(successor.titlePath).not.toEqual(renamed.titlePath);
		expect(successor.projectName).toBe(renamed.projectName);
	});
});

describe('end to end, in memory', () => {
	it('flags outage jobs and finds regressions as broken, never flaky', () => {
		const sim = simulate({ seed: 31, files: 30, days: 25 });
		const histories = new Map<string, RunObservation[]>();
		const outageIds = new Set(sim.truth.outages.filter((o) => o.kind !== 'blip').map((o) => o.jobId));
		// The dominant errors of jobs judged infrastructure failures: the same error in a smaller
		// outage elsewhere is infrastructure too.
		const infraFingerprints = new Set<string>();
		let flaggedOutages = 0;
		for (const { metadata, report } of sim.uploads()) {
			const results = reportResults(report);
			const judgement = judgeJobInfra(results.map((r) => toJobResult(r)));
			if (judgement.infra && judgement.topFingerprint) infraFingerprints.add(judgement.topFingerprint);
			if (judgement.infra && outageIds.has(metadata.jobId!)) flaggedOutages++;
			const run = runContextFromMetadata(metadata, new Date(report.stats.startTime), { infra: judgement.infra });
			for (const r of results) {
				const key = identityKey(r.file, r.titlePath, r.projectName);
				histories.set(key, [...(histories.get(key) ?? []), toObservation(r, run)]);
			}
		}
		expect(flaggedOutages).toBe(outageIds.size);
		const regressions = sim.truth.tests.filter((t) => t.class === 'regression');
		expect(regressions.length).toBeGreaterThan(0);
		for (const t of regressions) {
			const v = analyzeTest(histories.get(t.key) ?? [], undefined, { now: new Date(sim.truth.end), infraFingerprints });
			expect(v.state, t.key).not.toBe('flaky');
			if (t.regression!.endSha === null && v.state === 'broken') expect(v.changePointSha).toBe(t.regression!.startSha);
		}
	});
});
