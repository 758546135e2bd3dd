import { mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isSpool, markSent, marksAsSent, OUTPUT_FILE_REASON, parseSpool, readJsonFile, sentCopyOf, SPOOL_FORMAT, spoolFileName, writeJsonFile, type SpoolData } from './spool.js';

const spool: SpoolData = {
	format: SPOOL_FORMAT,
	version: 1,
	createdAt: '2026-01-01T00:00:00.000Z',
	reason: 'connection refused',
	url: 'http://127.0.0.1:1',
	open: { idempotencyKey: 'abcdefgh-1234', ci: { provider: 'local' } },
	results: [
		{
			file: 'a.spec.ts',
			titlePath: ['a'],
			outcome: 'expected',
			expectedStatus: 'passed',
			status: 'passed',
			attempts: 1,
			failedAttempts: 0,
			durationMs: 3,
			startedAt: '2026-01-01T00:00:00.000Z'
		}
	],
	complete: { status: 'passed' }
};

describe('spool files', () => {
	it('round-trips through an atomic write in a new directory', () => {
		const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'flackyness-spool-')), 'nested');
		const file = writeJsonFile(path.join(dir, spoolFileName('abcdefgh-1234', new Date(0))), spool);
		expect(path.basename(file)).toBe('flackyness-1970-01-01T00-00-00-000Z-abcdefgh.json');
		expect(readdirSync(dir)).toEqual([path.basename(file)]);
		const read = readJsonFile(file);
		expect(isSpool(read)).toBe(true);
		expect(parseSpool(read)).toEqual(spool);
	});

	it('rejects a damaged file with the reason', () => {
		expect(() => parseSpool({ ...spool, results: [{ file: '' }] })).toThrow(/not a valid spool file: results\.0\./);
		expect(isSpool({ suites: [] })).toBe(false);
	});

	it('marks a stored spool file .sent, once, and never the outputFile record', () => {
		const dir = mkdtempSync(path.join(os.tmpdir(), 'flackyness-spool-'));
		const file = writeJsonFile(path.join(dir, 'run.json'), spool);
		expect(marksAsSent(file, spool)).toBe(true);
		expect(marksAsSent(file, { reason: OUTPUT_FILE_REASON })).toBe(false);
		expect(sentCopyOf(file)).toBeUndefined();
		expect(markSent(file)).toBe(`${file}.sent`);
		expect(readdirSync(dir)).toEqual(['run.json.sent']);
		expect(sentCopyOf(file)).toBe(`${file}.sent`);
		expect(marksAsSent(`${file}.sent`, spool)).toBe(false);
		expect(sentCopyOf(path.join(dir, 'other.json'))).toBeUndefined();
	});
});
