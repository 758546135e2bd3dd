import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { decideFailOn, displayTitle, failOnSkip, fetchVerdicts, percent } from './fail-on.js';
import HttpClient from './http-client.js';
import type { TestVerdict } from './protocol.js';

const test = (title: string, projectName = 'chromium') => ({ file: 'cart.spec.ts', titlePath: ['cart', title], projectName });

function verdict(over: Partial<TestVerdict>): TestVerdict {
	return { file: 'cart.spec.ts', titlePath: ['cart', 'x'], projectName: 'chromium', testId: null, state: 'unknown', failureChance: null, brokenSince: null, quarantine: null, ...over };
}

const flaky = verdict({ testId: '7f0c4c4e-8d5a-4d43-9a3b-0a6c1f4b2d11', state: 'flaky', failureChance: { estimate: 0.07, low: 0.031, high: 0.12 } });
const quarantined = verdict({ testId: '7f0c4c4e-8d5a-4d43-9a3b-0a6c1f4b2d12', state: 'quarantined', quarantine: { reason: 'tracked in #12', until: '2026-12-24T00:00:00.000Z' } });

describe('decideFailOn', () => {
	it('passes when every failure is known flaky or quarantined, saying why for each', () => {
		const d = decideFailOn([test('adds'), test('removes')], { verdicts: [flaky, quarantined] });
		expect(d).toEqual({
			pass: true,
			lines: [
				'forgiven: [chromium] › cart.spec.ts › cart › adds — known flaky 7% (3–12%)',
				'forgiven: [chromium] › cart.spec.ts › cart › removes — quarantined until 2026-12-24: tracked in #12',
				'failOn new: all 2 failures are known flaky or quarantined: the run passes'
			]
		});
	});

	it('keeps the run failed when one failure is new, broken or unknown, and names it', () => {
		const broken = verdict({ testId: '7f0c4c4e-8d5a-4d43-9a3b-0a6c1f4b2d13', state: 'broken', brokenSince: { commitSha: 'abc1234def5678', at: null } });
		const healthy = verdict({ testId: '7f0c4c4e-8d5a-4d43-9a3b-0a6c1f4b2d14', state: 'healthy' });
		const d = decideFailOn([test('adds'), test('pays'), test('ships'), test('brand new')], {
			verdicts: [flaky, broken, healthy, verdict({})]
		});
		const streamed = decideFailOn([test('ships')], { verdicts: [verdict({ testId: '7f0c4c4e-8d5a-4d43-9a3b-0a6c1f4b2d15' })] });
		expect(streamed.lines[0]).toBe('failing: [chromium] › cart.spec.ts › cart › ships — new: no verdict yet');
		expect(d.pass).toBe(false);
		expect(d.lines).toEqual([
			'forgiven: [chromium] › cart.spec.ts › cart › adds — known flaky 7% (3–12%)',
			'failing: [chromium] › cart.spec.ts › cart › pays — broken on the default branch since abc1234d',
			'failing: [chromium] › cart.spec.ts › cart › ships — new: healthy until now',
			'failing: [chromium] › cart.spec.ts › cart › brand new — new: never seen before',
			'failOn new: 3 of 4 failures are not known flaky or quarantined: the run fails'
		]);
	});

	it("lets Playwright's result stand when the server gave no verdicts", () => {
		expect(decideFailOn([test('adds')], { error: 'connection refused' })).toEqual({
			pass: false,
			lines: ["failOn new: no verdicts from the server (connection refused); Playwright's result stands"]
		});
	});

	it('sums up long lists in one line', () => {
		const many = Array.from({ length: 130 }, (_, i) => test(`case ${i}`));
		const d = decideFailOn(many, { verdicts: many.map(() => flaky) });
		expect(d.pass).toBe(true);
		expect(d.lines).toHaveLength(102);
		expect(d.lines[100]).toBe('… and 30 more');
	});
});

describe('failOnSkip', () => {
	it('asks only about runs that failed because of their tests alone', () => {
		expect(failOnSkip('failed', 2, 0, true)).toBeUndefined();
		expect(failOnSkip('passed', 0, 0, true)).toBe('');
		expect(failOnSkip('timedout', 2, 0, true)).toBe("failOn new: the run ended by the global timeout; Playwright's result stands");
		expect(failOnSkip('interrupted', 2, 0, true)).toBe("failOn new: the run ended interrupted; Playwright's result stands");
		expect(failOnSkip('failed', 2, 1, true)).toBe("failOn new: the run failed outside its tests; Playwright's result stands");
		expect(failOnSkip('failed', 0, 0, true)).toBe("failOn new: the run failed outside its tests; Playwright's result stands");
		expect(failOnSkip('failed', 2, 0, false)).toContain('no server to ask');
		expect(failOnSkip('failed', 5001, 0, true)).toContain('5001 failures');
	});
});

describe('formatting', () => {
	it('shows rates as whole percents, below 1% with one decimal', () => {
		expect([0, 0.004, 0.07, 0.125, 1].map(percent)).toEqual(['0%', '0.4%', '7%', '13%', '100%']);
	});
	it('shows a test as Playwright lists it, without a project when unnamed', () => {
		expect(displayTitle(test('adds', ''))).toBe('cart.spec.ts › cart › adds');
	});
});

describe('fetchVerdicts', () => {
	it('answers an error, never throws, when the server is down or answers nonsense', async () => {
		const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"verdicts":[]}'));
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
		const http = new HttpClient({ baseUrl: url, requestTimeoutMs: 1000, baseDelayMs: 1 });
		expect(await fetchVerdicts(http, [test('adds')])).toEqual({ error: 'unexpected answer (is the URL the Flackyness server?)' });
		await new Promise((resolve) => server.close(resolve));
		const answer = await fetchVerdicts(http, [test('adds')]);
		expect('error' in answer && answer.error).toBeTruthy();
		await http.close();
	});
});
