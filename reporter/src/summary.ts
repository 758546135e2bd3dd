import path from 'node:path';
import type { RunStats } from './protocol.js';
import type { QuarantineVerdict } from './quarantine.js';
import type { QuarantineMode } from './options.js';

export type UploadSummary =
	| { kind: 'uploaded'; url: string }
	| { kind: 'failed'; reason: string; spoolFile?: string; spoolError?: string; failsRun: boolean }
	| { kind: 'not-configured'; reason: string };

export interface SummaryInput {
	stats: RunStats;
	upload: UploadSummary;
	outputFile?: string;
	quarantine?: QuarantineVerdict & { mode: QuarantineMode };
}

/** A path for the terminal: relative when under the working directory, quoted when it has spaces. */
export function shellPath(file: string, cwd = process.cwd()): string {
	const rel = path.relative(cwd, file);
	const shown = rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
	return /[\s'"$`\\]/.test(shown) ? `'${shown.replace(/'/g, `'\\''`)}'` : shown;
}

function plural(n: number, word: string): string {
	return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function formatCounts(stats: RunStats): string {
	const total = stats.expected + stats.unexpected + stats.flaky + stats.skipped;
	return `${plural(total, 'test')}: ${stats.expected} passed, ${stats.unexpected} failed, ${stats.flaky} flaky, ${stats.skipped} skipped`;
}

function formatUpload(upload: UploadSummary): string {
	switch (upload.kind) {
		case 'uploaded':
			return upload.url;
		case 'not-configured':
			return `not uploaded: ${upload.reason}`;
		case 'failed': {
			let text = `not uploaded: ${upload.reason}`;
			if (upload.spoolFile) {
				const file = shellPath(upload.spoolFile);
				text += `; saved to ${file}, send it with: npx flackyness-reporter upload ${file}`;
			} else if (upload.spoolError) {
				text += `; could not save it for later: ${upload.spoolError}`;
			}
			return upload.failsRun ? `${text}; failing the run (failOnUploadError)` : text;
		}
	}
}

function formatQuarantine(q: NonNullable<SummaryInput['quarantine']>): string | undefined {
	if (q.quarantined === 0) return undefined;
	if (!q.allQuarantined) return `${q.quarantined} of ${plural(q.unexpected, 'failure')} quarantined`;
	if (q.mode === 'pass') return `all ${plural(q.unexpected, 'failure')} quarantined: the run passes`;
	return `all ${plural(q.unexpected, 'failure')} quarantined (FLACKYNESS_QUARANTINE=pass would let the run pass)`;
}

/** The one line printed at the end of the run. */
export function formatSummary(input: SummaryInput): string {
	const parts = [`${formatCounts(input.stats)} · ${formatUpload(input.upload)}`];
	const quarantine = input.quarantine && formatQuarantine(input.quarantine);
	if (quarantine) parts.push(quarantine);
	if (input.outputFile) parts.push(`written to ${shellPath(input.outputFile)}`);
	return parts.join('; ');
}
