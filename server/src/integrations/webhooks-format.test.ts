import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { describeEvent, escapeMarkdown, escapeSlack, mattermostPayload, slackPayload, teamsPayload, type EventPayload } from './webhooks-format.js';
import { signature } from './webhooks.js';

const DASH = 'https://flackyness.example.com';
const test = { id: '6f1c2f0e-0000-4000-8000-000000000001', file: 'checkout.spec.ts', titlePath: ['checkout', 'pays'] };

describe('notification texts', () => {
	it('says what became flaky, how often it fails and what it costs, with a link', () => {
		const m = describeEvent({ event: 'flaky', test, details: { score: 0.07, scoreLow: 0.03, scoreHigh: 0.12, impactMinutes: 4.2 } }, DASH);
		expect(slackPayload(m).text).toBe(`🔴 *checkout › pays* became flaky: fails 7% of attempts (3–12%), ~4 CI min/day lost. <${DASH}/tests/${test.id}|Open>`);
		expect(mattermostPayload(m).text).toBe(`🔴 **checkout › pays** became flaky: fails 7% of attempts (3–12%), ~4 CI min/day lost. [Open](${DASH}/tests/${test.id})`);
	});

	it('names the commit a break began at, and a quarantine’s end and reason', () => {
		const broken = describeEvent({ event: 'broken', test, details: { changePointSha: 'abcdef0123456789', changePointAt: '2026-11-20T10:00:00Z' } }, DASH);
		expect(slackPayload(broken).text).toContain('*checkout › pays* is broken: fails every run since commit abcdef01 (2026-11-20 10:00 UTC).');
		const expiring = describeEvent({ event: 'quarantine_expiring', test, details: { until: '2026-12-01T00:00:00Z', reason: 'vendor <outage>' } }, DASH);
		expect(slackPayload(expiring).text).toMatch(/^⏳ The quarantine of \*checkout › pays\* ends on 2026-12-01 00:00 UTC: vendor &lt;outage&gt;\. </);
	});

	it('escapes user text for each receiver: a title cannot make a link or a mention', () => {
		expect(escapeSlack('a <!channel> & <http://evil|x>')).toBe('a &lt;!channel&gt; &amp; &lt;http://evil|x&gt;');
		expect(escapeMarkdown('[x](http://evil) *b* _i_ `c`')).toBe('\\[x\\]\\(http://evil\\) \\*b\\* \\_i\\_ \\`c\\`');
		const m = describeEvent({ event: 'fixed', test: { ...test, titlePath: ['[pay](http://evil)'] } }, DASH);
		const card = teamsPayload(m).attachments[0]!.content;
		expect(card.body[0]!.text).toBe('✅ **\\[pay\\]\\(http://evil\\)** is fixed: it passes again.');
		expect(card.actions).toEqual([{ type: 'Action.OpenUrl', title: 'Open', url: `${DASH}/tests/${test.id}` }]);
	});

	it('lists the digest’s most costly tests one per line', () => {
		const digest: EventPayload = {
			event: 'digest',
			project: { id: 'p', slug: 'shop', name: 'Web shop', url: `${DASH}/projects/shop` },
			newFlaky: [test],
			fixed: [],
			ciMinutesLostPerDay: 3,
			mostCostly: [{ ...test, impactMinutes: 2, score: 0.1 }]
		};
		expect(slackPayload(describeEvent(digest, DASH)).text).toBe(
			`📊 Weekly digest of *Web shop*: 1 new flaky, 0 fixed, ~21 CI min lost this week. Most costly:\n1. checkout › pays — ~2 CI min/day, fails 10% <${DASH}/projects/shop|Open the project>`
		);
	});
});

describe('the generic kind’s signature', () => {
	it('is t=<seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">', () => {
		const at = Date.UTC(2026, 10, 29, 12, 0, 0);
		const body = '{"event":"flaky"}';
		const t = at / 1000;
		expect(signature('s3cret-s3cret-s3cret', body, at)).toBe(`t=${t},v1=${createHmac('sha256', 's3cret-s3cret-s3cret').update(`${t}.${body}`).digest('hex')}`);
	});
});
