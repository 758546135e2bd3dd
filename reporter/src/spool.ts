/**
 * Spool files: what a run could not send, to be sent later with `flackyness-reporter upload`.
 * One JSON document: the open-run payload (with its idempotency key, so a replay finds the run if
 * it was opened), the results, and the completion.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { completeRunSchema, openRunSchema, testResultInputSchema, type CompleteRunInput, type OpenRunInput, type TestResultInput } from './protocol.js';

export const SPOOL_FORMAT = 'flackyness-spool';
/** The reason of the file that the `outputFile` option asks for: a record the user keeps, not a spool to empty. */
export const OUTPUT_FILE_REASON = 'outputFile';
/**
 * Appended to a spool file once the server stored it: `upload flackyness-spool/*.json` then skips
 * it, and it stays at hand until the CI artifact expires.
 */
export const SENT_SUFFIX = '.sent';

export interface SpoolData {
	format: typeof SPOOL_FORMAT;
	version: 1;
	createdAt: string;
	/** Why it was spooled, or `outputFile`. */
	reason: string;
	/** The server it was meant for, without credentials. */
	url?: string;
	open: OpenRunInput;
	results: TestResultInput[];
	/** Null when the run never ended (the process was killed). */
	complete: CompleteRunInput | null;
}

const spoolSchema = z.object({
	format: z.literal(SPOOL_FORMAT),
	version: z.literal(1),
	createdAt: z.string(),
	reason: z.string().optional(),
	url: z.string().optional(),
	open: openRunSchema,
	results: z.array(testResultInputSchema),
	complete: completeRunSchema.nullable()
});

export function isSpool(json: unknown): boolean {
	return !!json && typeof json === 'object' && (json as { format?: unknown }).format === SPOOL_FORMAT;
}

/** Validates a parsed spool file; throws with the first problems. */
export function parseSpool(json: unknown): SpoolData {
	const parsed = spoolSchema.safeParse(json);
	if (!parsed.success) {
		const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
		throw new Error(`not a valid spool file: ${issues.join('; ')}`);
	}
	return json as SpoolData;
}

/** Writes atomically (temporary file, then rename), creating the directory. Returns the path. */
export function writeJsonFile(file: string, data: unknown): string {
	mkdirSync(path.dirname(file), { recursive: true });
	const tmp = `${file}.${process.pid}.tmp`;
	writeFileSync(tmp, JSON.stringify(data));
	renameSync(tmp, file);
	return file;
}

export function spoolFileName(runKey: string, now = new Date()): string {
	const stamp = now.toISOString().replace(/[:.]/g, '-');
	return `flackyness-${stamp}-${runKey.slice(0, 8)}.json`;
}

export function readJsonFile(file: string): unknown {
	return JSON.parse(readFileSync(file, 'utf8'));
}

/** Whether a spool file is renamed once stored: one written because sending failed, not yet marked. */
export function marksAsSent(file: string, spool: Pick<SpoolData, 'reason'>): boolean {
	return spool.reason !== OUTPUT_FILE_REASON && !file.endsWith(SENT_SUFFIX);
}

/** Renames a stored spool file to `<file>.sent`; returns the new path. */
export function markSent(file: string): string {
	const sent = `${file}${SENT_SUFFIX}`;
	renameSync(file, sent);
	return sent;
}

/** The `.sent` file a missing spool file became, if that is what happened to it. */
export function sentCopyOf(file: string): string | undefined {
	const sent = `${file}${SENT_SUFFIX}`;
	return !existsSync(file) && existsSync(sent) ? sent : undefined;
}
