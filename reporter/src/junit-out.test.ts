import { describe, expect, it } from 'vitest';
// The server's own JUnit parser (saxes, strict about XML 1.0's characters) reads what is written.
import { parseJunitReport } from '../../server/src/ingest/junit.js';
import { failurePrefix, junitXml, retryNote, xmlAttribute, xmlText, type JunitEntry } from './junit-out.js';
import type { TestResultInput, TestVerdict } from './protocol.js';

function verdict(over: Partial<TestVerdict>): TestVerdict {
	return { file: 'cart.spec.ts', titlePath: ['x'], projectName: '', testId: null, state: 'unknown', failureChance: null, brokenSince: null, quarantine: null, ...over };
}

const ID = '7f0c4c4e-8d5a-4d43-9a3b-0a6c1f4b2d11';
const flaky = verdict({ testId: ID, state: 'flaky', failureChance: { estimate: 0.07, low: 0.031, high: 0.12 } });

function result(over: Partial<TestResultInput>): TestResultInput {
	return {
		file: 'cart.spec.ts',
		titlePath: ['cart', 'adds'],
		projectName: 'chromium',
		outcome: 'expected',
		expectedStatus: 'passed',
		status: 'passed',
		attempts: 1,
		failedAttempts: 0,
		durationMs: 1234,
		startedAt: '2026-05-01T10:00:00.000Z',
		...over
	};
}

const failed = (over: Partial<TestResultInput> = {}) =>
	result({
		outcome: 'unexpected',
		status: 'failed',
		attempts: 2,
		failedAttempts: 2,
		error: { message: 'Error: expect(received).toBe(expected)\n\nExpected: 1\n    at cart.spec.ts:3:4' },
		...over
	});

function write(entries: JunitEntry[], defaultBranch?: string): string {
	return junitXml({ entries, durationMs: 5000, startedAt: '2026-05-01T09:59:59.000Z', ...(defaultBranch ? { defaultBranch } : {}) });
}

function parse(xml: string) {
	return parseJunitReport(Buffer.from(xml, 'utf8'));
}

describe('verdict wording', () => {
	it('puts what a failure is in brackets before its message', () => {
		expect(failurePrefix(flaky)).toBe('[known flaky 7% (3–12%)] ');
		expect(failurePrefix(verdict({ testId: ID, state: 'flaky' }))).toBe('[known flaky] ');
		const broken = verdict({ testId: ID, state: 'broken', brokenSince: { commitSha: 'abc1234def5678', at: null } });
		expect(failurePrefix(broken, 'main')).toBe('[broken on main since abc1234d] ');
		expect(failurePrefix(broken)).toBe('[broken on the default branch since abc1234d] ');
		expect(failurePrefix(verdict({ testId: ID, state: 'broken' }), 'trunk')).toBe('[broken on trunk] ');
		expect(failurePrefix(verdict({ testId: ID, state: 'quarantined', quarantine: { reason: 'lockers\nare not live', until: null } }))).toBe(
			'[quarantined: lockers are not live] '
		);
		expect(failurePrefix(verdict({ testId: ID, state: 'quarantined', quarantine: { reason: '', until: null } }))).toBe('[quarantined] ');
		expect(failurePrefix(verdict({ state: 'quarantined', quarantine: { reason: 'r'.repeat(500), until: null } }))).toMatch(/^\[quarantined: r{199}…\] $/);
	});

	it('calls every other failure new, and says nothing without a verdict', () => {
		for (const state of ['unknown', 'healthy', 'suspect', 'fixed'] as const) expect(failurePrefix(verdict({ state }))).toBe('[new] ');
		expect(failurePrefix(undefined, 'main')).toBe('');
	});

	it('notes a pass on retry, with the verdict when there is one', () => {
		expect(retryNote(flaky)).toBe('Flackyness: passed on retry — known flaky 7% (3–12%)');
		expect(retryNote(verdict({ state: 'quarantined', quarantine: { reason: 'see #12', until: null } }))).toBe('Flackyness: passed on retry — quarantined: see #12');
		expect(retryNote(verdict({ state: 'suspect' }))).toBe('Flackyness: passed on retry — not known flaky');
		expect(retryNote(verdict({ state: 'broken' }))).toBe('Flackyness: passed on retry — not known flaky');
		expect(retryNote(undefined)).toBe('Flackyness: passed on retry');
	});
});

describe('junitXml', () => {
	it("writes Playwright's structure, the verdict first in a failure's message and text", () => {
		const xml = write(
			[
				{ result: result({}) },
				{ result: failed({ titlePath: ['cart', 'pays'] }), verdict: flaky },
				{ result: failed({ titlePath: ['cart', 'ships'], error: undefined, status: 'timedOut' }), verdict: verdict({}) },
				{ result: result({ titlePath: ['retries'], outcome: 'flaky', attempts: 2, failedAttempts: 1, error: { message: 'Error: once' } }), verdict: flaky },
				{ result: result({ file: 'b.spec.ts', titlePath: ['skips'], outcome: 'skipped', status: 'skipped', expectedStatus: 'skipped', annotations: [{ type: 'skip' }] }) }
			],
			'main'
		);
		expect(xml).toContain('<testsuites id="" name="" tests="5" failures="2" skipped="1" errors="0" time="5.000">');
		expect(xml).toContain('<testsuite name="cart.spec.ts" timestamp="2026-05-01T09:59:59.000Z" hostname="chromium" tests="4" failures="2" skipped="0" time="4.936" errors="0">');
		expect(xml).toContain('<testcase name="cart › adds" classname="cart.spec.ts" time="1.234"/>');
		expect(xml).toContain(
			'<failure message="[known flaky 7% (3–12%)] Error: expect(received).toBe(expected)" type="FAILURE">[known flaky 7% (3–12%)] Error: expect(received).toBe(expected)\n\nExpected: 1\n    at cart.spec.ts:3:4</failure>\n<rerunFailure type="FAILURE"/>'
		);
		expect(xml).toContain('<failure message="[new] the test timed out" type="FAILURE">[new]</failure>');
		expect(xml).toContain('<flakyFailure message="Error: once" type="FAILURE">Error: once</flakyFailure>\n<system-out>Flackyness: passed on retry — known flaky 7% (3–12%)</system-out>');
		expect(xml).toContain('<properties>\n<property name="skip" value=""/>\n</properties>\n<skipped/>');

		// Flackyness' own parser reads it as the dialect it is, with the same outcomes and attempts.
		const parsed = parse(xml);
		expect(parsed.results.map((r) => [r.file, r.titlePath, r.projectName, r.outcome, r.attempts, r.failedAttempts])).toEqual([
			['cart.spec.ts', ['cart', 'adds'], 'chromium', 'expected', 1, 0],
			['cart.spec.ts', ['cart', 'pays'], 'chromium', 'unexpected', 2, 2],
			['cart.spec.ts', ['cart', 'ships'], 'chromium', 'unexpected', 2, 2],
			['cart.spec.ts', ['retries'], 'chromium', 'flaky', 2, 1],
			['b.spec.ts', ['skips'], 'chromium', 'skipped', 1, 0]
		]);
		expect(parsed.results[1]!.error?.message).toBe('[known flaky 7% (3–12%)] Error: expect(received).toBe(expected)\n\nExpected: 1');
	});

	it('writes no prefix and no verdict without an answer', () => {
		const xml = write([{ result: failed() }, { result: result({ titlePath: ['r'], outcome: 'flaky', attempts: 2, failedAttempts: 1 }) }], 'main');
		expect(xml).toContain('<failure message="Error: expect(received).toBe(expected)" type="FAILURE">Error: expect(received).toBe(expected)\n');
		expect(xml).toContain('<system-out>Flackyness: passed on retry</system-out>');
		expect(xml).not.toMatch(/\[(new|known|broken|quarantined)/);
	});

	it('stays well-formed XML 1.0 whatever the text, and keeps what XML can carry', () => {
		const hostile = 'a]]>b <c> & "d" \'e\' \u0000\u0001\u001b[31m\u0008 \ud800x \udc00 \uFFFE\uFFFF 😀 \r\n\ttab';
		const kept = 'a]]>b <c> & "d" \'e\' \uFFFD\uFFFD\uFFFD[31m\uFFFD \uFFFDx \uFFFD \uFFFD\uFFFD 😀 \r\n\ttab';
		const xml = write([
			{
				result: failed({
					file: 'odd "file" & <dir>.spec.ts',
					projectName: 'p]]>q',
					titlePath: [hostile],
					annotations: [{ type: 'issue', description: hostile }]
				}),
				verdict: verdict({ state: 'quarantined', quarantine: { reason: hostile, until: null } })
			},
			{ result: failed({ titlePath: ['msg'], error: { message: `${hostile}\n    at x.spec.ts:1:2` } }) }
		]);
		// eslint-disable-next-line no-control-regex -- what must not be left in the file
		expect(xml).not.toMatch(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/);
		expect(xml.match(/]]>/g)).toBeNull();
		const [first, second] = parse(xml).results;
		expect(first!.file).toBe('odd "file" & <dir>.spec.ts');
		expect(first!.projectName).toBe('p]]>q');
		expect(first!.titlePath).toEqual([kept]);
		expect(first!.annotations).toEqual([{ type: 'issue', description: kept }]);
		expect(first!.error?.message.startsWith('[quarantined: a]]>b <c> & "d" \'e\'')).toBe(true);
		expect(second!.error?.message).toBe(kept);
	});

	it('escapes text and attributes', () => {
		expect(xmlText('<a href="x">&amp;</a>]]>\r')).toBe('&lt;a href="x"&gt;&amp;amp;&lt;/a&gt;]]&gt;&#13;');
		expect(xmlAttribute('"1"\n\t2 <3>')).toBe('&quot;1&quot;&#10;&#9;2 &lt;3&gt;');
	});
});
