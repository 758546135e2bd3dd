import type { JSONReport } from '@playwright/test/reporter';
import type { CiMetadata } from 'flackyness-reporter/protocol';

export interface SimOptions {
	seed: number;
	/** Spec files; default 25–45, from the seed. */
	files?: number;
	/** Days of history; default 35. */
	days?: number;
	/** Mean merges into the default branch per working day; default 4–9, from the seed. */
	mergesPerDay?: number;
	/** Start of the history (a Monday is best); default 2025-03-03T00:00Z. */
	start?: Date;
	/**
	 * Playwright retries per job. `default`: 0, 1 or 2 from the seed (per pipeline kind, sometimes
	 * changed midway); `none`: every job runs with `retries: 0`; `mixed`: each job, at random, runs
	 * either without retries or with the seed's retries (at least 1).
	 */
	retries?: RetriesMode;
}

export type RetriesMode = 'default' | 'none' | 'mixed';
export const RETRIES_MODES: readonly RetriesMode[] = ['default', 'none', 'mixed'];

/** One Playwright invocation (one CI job, one shard) as an upload would carry it. */
export interface SimUpload {
	metadata: CiMetadata;
	report: JSONReport;
}

export type TruthClass =
	/** Never fails on its own (it may still be an outage victim or broken on a feature branch). */
	| 'stable'
	/** Fails at random at `rate` per attempt, from `flakySinceSha` (or the start) to the end. */
	| 'flaky'
	/** Was flaky at `rate` until `flakyUntilSha`, stable after. */
	| 'flaky-fixed'
	/** Fails on every attempt from `regression.startSha` until `regression.endSha` (or the end). */
	| 'regression'
	/** Always skipped. */
	| 'skipped';

export interface TruthTest {
	/** `identityKey(file, titlePath, projectName)` */
	key: string;
	file: string;
	titlePath: string[];
	projectName: string;
	class: TruthClass;
	/** Per-attempt failure probability while flaky; 0 otherwise. */
	rate: number;
	flakySinceSha: string | null;
	flakyUntilSha: string | null;
	regression: { startSha: string; endSha: string | null; onlyThisProject: boolean } | null;
	expectedStatus: 'passed' | 'failed';
	/** Identity before a rename (the same test under its old title), and after one. */
	renamedFrom: string | null;
	renamedTo: string | null;
	/** A merge request broke this test on its branch for a while, never on the default branch. */
	brokenOnBranch: boolean;
}

export interface OutageTruth {
	pipelineId: string;
	jobId: string;
	jobName: string;
	/** `app-down`: the app died mid-job; `browser`: no browser starts; `blip`: a short outage, retries pass. */
	kind: 'app-down' | 'browser' | 'blip';
	/** Identity keys of the tests that failed because of it. */
	victims: string[];
}

export interface SimTruth {
	seed: number;
	start: string;
	end: string;
	defaultBranch: string;
	projects: string[];
	shards: number;
	jobLayout: 'per-project' | 'combined';
	/** The seed's retries (before `mode` applies): `none` sets every job to 0, `mixed` half of them (at random). */
	retries: { mode: RetriesMode; defaultBranch: number; mergeRequest: number; defaultBranchFrom: { sha: string; retries: number } | null };
	/** Default-branch commits, oldest first. */
	commits: { sha: string; at: string }[];
	tests: TruthTest[];
	outages: OutageTruth[];
}

/** Test identity: file + title path + project, as one string. */
export function identityKey(file: string, titlePath: readonly string[], projectName: string): string {
	return JSON.stringify([file, ...titlePath, projectName]);
}
