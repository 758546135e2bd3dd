import { describe, expect, it } from 'vitest';
import { resolveOptions } from './options.js';

function resolve(options: Record<string, unknown> | undefined, env: Record<string, string | undefined> = {}) {
	const warnings: string[] = [];
	const resolved = resolveOptions(options, env, (l) => warnings.push(l));
	return { resolved, warnings };
}

describe('resolveOptions', () => {
	it('uses the defaults when nothing is given', () => {
		const { resolved, warnings } = resolve(undefined);
		expect(resolved).toEqual({
			url: undefined,
			token: undefined,
			batchSize: 100,
			flushIntervalMs: 2000,
			uploadDeadlineMs: 15_000,
			requestTimeoutMs: 10_000,
			failOnUploadError: false,
			outputFile: undefined,
			junitOutput: undefined,
			disabled: false,
			spoolDir: 'flackyness-spool',
			quarantine: 'report',
			mergeMode: 'skip',
			maxQueueSize: 10_000,
			failOn: 'all'
		});
		expect(warnings).toEqual([]);
	});

	it('takes the environment over the option, and the option over the default', () => {
		const { resolved } = resolve(
			{ url: 'https://config.example', batchSize: 50, flushIntervalMs: 500 },
			{ FLACKYNESS_URL: 'https://env.example/', FLACKYNESS_BATCH_SIZE: '200' }
		);
		expect(resolved.url).toBe('https://env.example');
		expect(resolved.batchSize).toBe(200);
		expect(resolved.flushIntervalMs).toBe(500);
	});

	it('sets every option from the environment alone (command line and merge-reports give no options)', () => {
		const { resolved, warnings } = resolve(
			{ configDir: '/x', _mode: 'merge', _commandHash: '' },
			{
				FLACKYNESS_URL: 'http://127.0.0.1:3000/base/',
				FLACKYNESS_TOKEN: 'secret',
				FLACKYNESS_BATCH_SIZE: '1000',
				FLACKYNESS_FLUSH_INTERVAL_MS: '250',
				FLACKYNESS_UPLOAD_DEADLINE_MS: '0',
				FLACKYNESS_REQUEST_TIMEOUT_MS: '1500',
				FLACKYNESS_FAIL_ON_UPLOAD_ERROR: 'true',
				FLACKYNESS_OUTPUT_FILE: 'out.json',
				FLACKYNESS_JUNIT_OUTPUT: ' reports/junit.xml ',
				FLACKYNESS_DISABLED: '0',
				FLACKYNESS_SPOOL_DIR: '/tmp/spool',
				FLACKYNESS_QUARANTINE: 'PASS',
				FLACKYNESS_MERGE_MODE: 'upload',
				FLACKYNESS_MAX_QUEUE_SIZE: '5',
				FLACKYNESS_FAIL_ON: 'New'
			}
		);
		expect(warnings).toEqual([]);
		expect(resolved).toEqual({
			url: 'http://127.0.0.1:3000/base',
			token: 'secret',
			batchSize: 1000,
			flushIntervalMs: 250,
			uploadDeadlineMs: 0,
			requestTimeoutMs: 1500,
			failOnUploadError: true,
			outputFile: 'out.json',
			junitOutput: 'reports/junit.xml',
			disabled: false,
			spoolDir: '/tmp/spool',
			quarantine: 'pass',
			mergeMode: 'upload',
			maxQueueSize: 5,
			failOn: 'new'
		});
	});

	it('treats an empty variable as unset', () => {
		expect(resolve({ batchSize: 7 }, { FLACKYNESS_BATCH_SIZE: '' }).resolved.batchSize).toBe(7);
	});

	it('warns once per invalid value and uses the default', () => {
		const { resolved, warnings } = resolve(
			{ batchSize: 5000, quarantine: 'sometimes' },
			{ FLACKYNESS_FLUSH_INTERVAL_MS: 'soon', FLACKYNESS_FAIL_ON_UPLOAD_ERROR: 'perhaps', FLACKYNESS_URL: 'ftp://x' }
		);
		expect(resolved.batchSize).toBe(100);
		expect(resolved.quarantine).toBe('report');
		expect(resolved.flushIntervalMs).toBe(2000);
		expect(resolved.failOnUploadError).toBe(false);
		expect(resolved.url).toBeUndefined();
		expect(warnings).toHaveLength(5);
		expect(warnings).toContain('invalid FLACKYNESS_FLUSH_INTERVAL_MS ("soon"): expected milliseconds from 10 to 600000; using 2000');
		expect(warnings).toContain('invalid option batchSize (5000): expected an integer from 1 to 1000; using 100');
	});

	it('never repeats a token in a warning', () => {
		const { warnings } = resolve({ token: 12345678 });
		expect(warnings).toHaveLength(1);
		expect(warnings[0]).not.toContain('12345678');
	});

	it('strips credentials from the server URL', () => {
		expect(resolve({ url: 'https://user:pass@example.com/' }).resolved.url).toBe('https://example.com');
	});

	it('warns about unknown options but not about those Playwright adds', () => {
		const { warnings } = resolve({ batchsize: 3, configDir: '/x', _mode: 'test', onlyFailures: false });
		expect(warnings).toEqual(['unknown option "batchsize" ignored']);
	});
});
