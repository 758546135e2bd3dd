/**
 * From uploads to engine input, in memory: a stored result plus its run becomes a
 * `RunObservation`. Reports are parsed by the server's own parser (`ingest/playwright-json.ts`)
 * and errors fingerprinted by its `ingest/errors.ts`, so the harness sees what ingestion sees.
 */
import type { CiMetadata, TestResultData } from 'flackyness-reporter/protocol';
import type { JobResult } from '../analysis/infra.js';
import type { RunObservation } from '../analysis/types.js';
import { stripAnsi } from 'flackyness-reporter/playwright-data';
import { errorFingerprint } from '../ingest/errors.js';
import { parsePlaywrightReport } from '../ingest/playwright-json.js';

/** One result per test (file + title path + project), as ingestion stores them. */
export function reportResults(report: unknown): TestResultData[] {
	return parsePlaywrightReport(report).results;
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

/** The fingerprint ingestion stores for the result's first error. */
export function resultFingerprint(result: TestResultData): string | null {
	return result.error ? errorFingerprint(stripAnsi(result.error.message)) : null;
}

/** What the per-job infrastructure guard needs of a result. */
export function toJobResult(result: TestResultData, fingerprint = resultFingerprint(result)): JobResult {
	return { outcome: result.outcome, errorFingerprint: fingerprint, startedAt: result.startedAt };
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
