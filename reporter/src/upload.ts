/**
 * What `flackyness-reporter upload` does with one file: a spool file is replayed through the
 * streaming endpoints; a Playwright JSON report is sent whole to `/api/v1/reports`, gzipped, with
 * the CI metadata of the environment in `X-Flackyness-*` headers.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import type FlackynessApi from './api.js';
import { ciHeaders, detectCi } from './ci.js';
import type { RunReceipt, TestResultInput } from './protocol.js';
import { isSpool, markSent, marksAsSent, parseSpool, type SpoolData } from './spool.js';
import { UploadError } from './upload-error.js';

export type UploadKind = 'spool' | 'report';

export interface UploadResult {
	kind: UploadKind;
	receipt: RunReceipt;
	/** Results sent (spool) or tests in the report. */
	results: number;
	/** Where a stored spool file was renamed to, or why it could not be. */
	sent?: { file: string } | { error: string };
}

/** Results in batches; a batch the server finds too large is halved. */
export async function sendInBatches(api: FlackynessApi, runId: string, results: TestResultInput[], batchSize: number, keyPrefix: string): Promise<void> {
	let size = batchSize;
	let seq = 0;
	for (let i = 0; i < results.length; ) {
		const batch = results.slice(i, i + size);
		try {
			await api.sendResults(runId, batch, `${keyPrefix}:${++seq}`);
			i += batch.length;
		} catch (err) {
			if (err instanceof UploadError && err.status === 413 && batch.length > 1) size = Math.ceil(batch.length / 2);
			else throw err;
		}
	}
}

export async function replaySpool(api: FlackynessApi, spool: SpoolData, batchSize: number): Promise<UploadResult> {
	const opened = await api.openRun(spool.open);
	const key = spool.open.idempotencyKey ?? opened.runId;
	await sendInBatches(api, opened.runId, spool.results, batchSize, `${key}:replay`);
	const receipt = spool.complete ? await api.completeRun(opened.runId, spool.complete, `${key}:complete`) : opened;
	return { kind: 'spool', receipt, results: spool.results.length };
}

function countTests(suites: unknown): number {
	if (!Array.isArray(suites)) return 0;
	let n = 0;
	for (const suite of suites as { specs?: { tests?: unknown[] }[]; suites?: unknown }[]) {
		for (const spec of suite.specs ?? []) n += spec.tests?.length ?? 0;
		n += countTests(suite.suites);
	}
	return n;
}

export function isPlaywrightReport(json: unknown): json is { config: { shard?: { current: number; total: number } | null }; suites: unknown[] } {
	return !!json && typeof json === 'object' && Array.isArray((json as { suites?: unknown }).suites) && typeof (json as { config?: unknown }).config === 'object';
}

export interface ReportUploadContext {
	env: Record<string, string | undefined>;
	/** Where to ask git when no CI is detected. */
	cwd: string;
}

/** The headers sent with a report: CI metadata and an idempotency key derived from the content. */
export function reportHeaders(raw: Buffer, report: { config: { shard?: { current: number; total: number } | null } }, ctx: ReportUploadContext): Record<string, string> {
	const shard = report.config.shard ?? null;
	const ci = detectCi({ env: ctx.env, shard, cwd: ctx.cwd });
	return {
		...ciHeaders(ci),
		'X-Flackyness-Idempotency-Key': createHash('sha256').update(raw).digest('hex').slice(0, 40)
	};
}

/** Reads a file, gunzipping it if needed, and parses its JSON. */
export function readUploadFile(file: string): { raw: Buffer; json: unknown } {
	let raw = readFileSync(file);
	if (raw[0] === 0x1f && raw[1] === 0x8b) raw = gunzipSync(raw);
	try {
		return { raw, json: JSON.parse(raw.toString('utf8')) };
	} catch {
		throw new UploadError('not JSON: expected a spool file or a Playwright JSON report', 'config');
	}
}

/** The data is stored whatever happens to the file: a read-only directory only costs the mark. */
function markSentSafely(file: string): { file: string } | { error: string } {
	try {
		return { file: markSent(file) };
	} catch (err) {
		return { error: (err as { code?: string }).code ?? (err as Error).message };
	}
}

export async function uploadFile(api: FlackynessApi, file: string, batchSize: number, ctx: ReportUploadContext): Promise<UploadResult> {
	const { raw, json } = readUploadFile(file);
	if (isSpool(json)) {
		let spool: SpoolData;
		try {
			spool = parseSpool(json);
		} catch (err) {
			throw new UploadError((err as Error).message, 'config');
		}
		const result = await replaySpool(api, spool, batchSize);
		return marksAsSent(file, spool) ? { ...result, sent: markSentSafely(file) } : result;
	}
	if (isPlaywrightReport(json)) {
		const receipt = await api.uploadReport(gzipSync(raw), reportHeaders(raw, json, ctx));
		return { kind: 'report', receipt, results: countTests(json.suites) };
	}
	throw new UploadError('neither a spool file nor a Playwright JSON report', 'config');
}
