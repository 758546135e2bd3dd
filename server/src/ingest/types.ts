import type { TestResultData } from 'flackyness-reporter/protocol';

/** A Playwright JSON report, normalised: one result per test (file + title path + project). */
export interface ParsedReport {
	results: TestResultData[];
	playwrightVersion?: string;
	/** When the run started (report `stats.startTime`, else the earliest result). */
	startedAt?: string;
	/** Wall time of the run in ms (report `stats.duration`), when known. */
	durationMs?: number;
	/** From `config.shard` (1-based), null for unsharded or merged reports. */
	shard?: { current: number; total: number } | null;
	/** Playwright's verdict for the run derived from the results and top-level errors. */
	status: 'passed' | 'failed' | 'timedout' | 'interrupted';
	/** Report-level errors (e.g. a spec file that failed to load), ANSI codes stripped. */
	errors: string[];
	/** True when the report was written with `onlyFailures`: absent tests are not passes. */
	onlyFailures: boolean;
}
