import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatSummary, shellPath } from './summary.js';

const stats = { expected: 9, unexpected: 2, flaky: 1, skipped: 1 };

describe('formatSummary', () => {
	it('gives counts and the dashboard URL', () => {
		expect(formatSummary({ stats, upload: { kind: 'uploaded', url: 'https://f.example/runs/1' } })).toBe(
			'13 tests: 9 passed, 2 failed, 1 flaky, 1 skipped · https://f.example/runs/1'
		);
	});

	it('says why nothing was uploaded and how to send the spool file', () => {
		const spoolFile = path.join(process.cwd(), 'flackyness-spool', 'run.json');
		expect(formatSummary({ stats, upload: { kind: 'failed', reason: 'connection refused', spoolFile, failsRun: false } })).toBe(
			'13 tests: 9 passed, 2 failed, 1 flaky, 1 skipped · not uploaded: connection refused; saved to flackyness-spool/run.json, send it with: npx flackyness-reporter upload flackyness-spool/run.json'
		);
	});

	it('says when the upload failure fails the run, and when the spool could not be written', () => {
		const line = formatSummary({ stats, upload: { kind: 'failed', reason: 'token rejected (HTTP 401)', spoolError: 'EACCES', failsRun: true } });
		expect(line).toContain('could not save it for later: EACCES; failing the run (failOnUploadError)');
	});

	it('reports quarantine', () => {
		const upload = { kind: 'not-configured', reason: 'FLACKYNESS_URL is not set' } as const;
		expect(formatSummary({ stats, upload, quarantine: { unexpected: 2, quarantined: 2, allQuarantined: true, mode: 'pass' } })).toContain(
			'; all 2 failures quarantined: the run passes'
		);
		expect(formatSummary({ stats, upload, quarantine: { unexpected: 2, quarantined: 1, allQuarantined: false, mode: 'report' } })).toContain(
			'; 1 of 2 failures quarantined'
		);
		expect(formatSummary({ stats, upload, quarantine: { unexpected: 2, quarantined: 0, allQuarantined: false, mode: 'report' } })).not.toContain('quarantined');
	});
});

describe('shellPath', () => {
	it('quotes paths a shell would split', () => {
		expect(shellPath('/tmp/my dir/x.json', '/work')).toBe(`'/tmp/my dir/x.json'`);
		expect(shellPath('/work/a/b.json', '/work')).toBe('a/b.json');
	});
});
