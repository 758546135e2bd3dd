/**
 * Since Playwright 1.62 an exception from any reporter hook fails the whole run: whatever the
 * reporter is given, its hooks must not throw.
 */
import type { FullConfig, FullResult, Suite, TestCase, TestResult } from '@playwright/test/reporter';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import FlackynessReporter from './reporter.js';

let written: string[];
beforeEach(() => {
	written = [];
	vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
		written.push(String(chunk));
		return true;
	});
	for (const name of Object.keys(process.env)) if (name.startsWith('FLACKYNESS_') || name === 'DEBUG') vi.stubEnv(name, undefined);
});
afterEach(() => {
	vi.restoreAllMocks();
	vi.unstubAllEnvs();
});

const result: FullResult = { status: 'passed', startTime: new Date(), duration: 10 };

const explosive = <T extends object>(): T =>
	new Proxy({} as T, {
		get() {
			throw new Error('boom');
		}
	});

describe('FlackynessReporter never throws', () => {
	it('survives a config and suite that explode on every access', async () => {
		const reporter = new FlackynessReporter({});
		expect(() => reporter.onBegin(explosive<FullConfig>(), explosive<Suite>())).not.toThrow();
		expect(() => reporter.onTestEnd(explosive<TestCase>(), explosive<TestResult>())).not.toThrow();
		expect(() => reporter.onError()).not.toThrow();
		await expect(reporter.onEnd(result)).resolves.toBeUndefined();
		expect(written).toEqual(['[flackyness] internal error in onBegin, nothing sent: boom\n']);
	});

	it('survives a suite that explodes only at the end, and says so in one line', async () => {
		const reporter = new FlackynessReporter({ outputFile: '/dev/null' });
		const config = { rootDir: '/repo', configFile: '/repo/playwright.config.ts', version: '1.65.1', shard: null } as unknown as FullConfig;
		const suite = {
			allTests() {
				throw new Error('kaboom');
			}
		} as unknown as Suite;
		reporter.onBegin(config, suite);
		await expect(reporter.onEnd(result)).resolves.toBeUndefined();
		expect(written).toEqual(['[flackyness] internal error, nothing more sent: kaboom\n']);
	});

	it('takes any options object, warning about what it cannot use', () => {
		expect(() => new FlackynessReporter(null as unknown as object)).not.toThrow();
		expect(() => new FlackynessReporter({ batchSize: 'lots' as unknown as number })).not.toThrow();
		expect(written).toEqual(['[flackyness] invalid option batchSize ("lots"): expected an integer from 1 to 1000; using 100\n']);
	});

	it('does not add a terminal reporter of its own', () => {
		expect(new FlackynessReporter().printsToStdio()).toBe(false);
	});
});
