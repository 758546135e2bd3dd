/**
 * From uploads to engine input, in memory: a minimal walk of a Playwright JSON report into the
 * protocol's `TestResultData` (what the real parser in `ingest/` produces), and the mapping of a
 * stored result plus its run to a `RunObservation`. The second half is the seam the database
 * layer uses too; only the first is a stand-in.
 */
import type { JSONReport, JSONReportSuite } from '@playwright/test/reporter';
import type { CiMetadata, TestResultData, TestStatus } from 'flackyness-reporter/protocol';
import { errorFingerprint, stripAnsi } from '../analysis/fingerprint.js';
import type { JobResult } from '../analysis/infra.js';
import type { RunObservation } from '../analysis/types.js';

/** One result per test (file + title path + project), Playwright's outcome semantics. */
export function reportResults(report: JSONReport): TestResultData[] {
	const out: TestResultData[] = [];
	const walk = (suite: JSONReportSuite, titles: string[]) => {
		for (const spec of suite.specs) {
			for (const test of spec.tests) {
				const results = [...test.results].sort((a, b) => a.retry - b.retry);
				const expectedStatus = test.expectedStatus;
				const isFailed = (status: TestStatus | undefined) =>
					status !== undefined && status !== 'skipped' && status !== 'interrupted' && status !== expectedStatus;
				const firstFailed = results.find((r) => isFailed(r.status));
				const first = firstFailed?.errors[0] ?? firstFailed?.error;
				const data: TestResultData = {
					file: spec.file,
					titlePath: [...titles, spec.title],
					projectName: test.projectName,
					tags: spec.tags,
					outcome: test.status,
					expectedStatus,
					status: results[results.length - 1]?.status ?? 'skipped',
					attempts: results.length,
					failedAttempts: results.filter((r) => isFailed(r.status)).length,
					durationMs: Math.round(results.reduce((sum, r) => sum + r.duration, 0)),
					startedAt: results[0]?.startTime ?? new Date(0).toISOString(),
					annotations: test.annotations.map((a) => (a.description === undefined ? { type: a.type } : { type: a.type, description: a.description }))
				};
				if (first?.message) {
					data.error = { message: stripAnsi(first.message) };
					if (first.location) data.error.location = `${first.location.file}:${first.location.line}:${first.location.column}`;
				}
				out.push(data);
			}
		}
		for (const child of suite.suites ?? []) walk(child, [...titles, child.title]);
	};
	// Top-level suites are files; their titles are not part of the title path.
	for (const fileSuite of report.suites) walk(fileSuite, []);
	return out;
}

/** What one run (job, shard) contributes to every observation of it. */
export interface RunContext {
	runId: string;
	at: Date;
	commitSha: string;
	branch: string;
	isDefaultBranch: boolean;
	commitOrder?: number | undefined;
	pipelineId: string;
	jobId: string;
	isMergeRequest: boolean;
	/** The job was judged an infrastructure failure. */
	infra: boolean;
}

export function runContextFromMetadata(
	metadata: CiMetadata,
	at: Date,
	extra: { infra: boolean; commitOrder?: number | undefined }
): RunContext {
	const branch = metadata.branch ?? '';
	return {
		runId: `${metadata.pipelineId ?? ''}:${metadata.jobId ?? ''}`,
		at,
		commitSha: metadata.commitSha ?? '',
		branch,
		isDefaultBranch: metadata.mrIid === undefined && branch !== '' && branch === metadata.defaultBranch,
		commitOrder: extra.commitOrder,
		pipelineId: metadata.pipelineId ?? '',
		jobId: metadata.jobId ?? '',
		isMergeRequest: metadata.mrIid !== undefined,
		infra: extra.infra
	};
}

export function resultFingerprint(result: TestResultData): string | null {
	return result.error ? errorFingerprint(result.error.message) : null;
}

/** What the per-job infrastructure guard needs of a result. */
export function toJobResult(result: TestResultData): JobResult {
	return { outcome: result.outcome, errorFingerprint: resultFingerprint(result) };
}

export function toObservation(result: TestResultData, run: RunContext, fingerprint = resultFingerprint(result)): RunObservation {
	return {
		runId: run.runId,
		at: run.at,
		commitSha: run.commitSha,
		branch: run.branch,
		isDefaultBranch: run.isDefaultBranch,
		commitOrder: run.commitOrder,
		pipelineId: run.pipelineId,
		jobId: run.jobId,
		isMergeRequest: run.isMergeRequest,
		outcome: result.outcome,
		attempts: result.attempts,
		failedAttempts: result.failedAttempts,
		durationMs: result.durationMs,
		errorFingerprint: fingerprint,
		infra: run.infra
	};
}
