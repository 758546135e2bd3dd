import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import app from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { generateSecretsKey } from '../../src/lib/secrets.js';
import { createMigratedDatabase } from '../helpers/db.js';
import { ADMIN } from '../helpers/ingest.js';
import { apiClient, streamJob, until, type JobSpec, type Outcome } from '../helpers/ci-history.js';
import { freePort } from '../helpers/server-process.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const DASHBOARD = 'https://flackyness.example.com';
const FLAKY = 'checks <out> & *pays*';

interface Received {
	headers: IncomingHttpHeaders;
	raw: string;
	// eslint-disable-next-line @typescript-eslint/no-explicit-any
	body: any;
}

/**
 * A receiver on loopback. `answer` decides per request (by its index): a status, or 'hang' (never
 * answers; the sender's timeout must end the call).
 */
async function receiver(answer: (n: number) => number | 'hang' = () => 200) {
	const got: Received[] = [];
	const hung: Array<() => void> = [];
	const server: Server = createServer((req, res) => {
		const chunks: Buffer[] = [];
		req.on('data', (c: Buffer) => chunks.push(c));
		req.on('end', () => {
			const raw = Buffer.concat(chunks).toString('utf8');
			const n = got.length;
			got.push({ headers: req.headers, raw, body: JSON.parse(raw) });
			const a = answer(n);
			if (a === 'hang') {
				hung.push(() => res.destroy());
				return;
			}
			res.writeHead(a, { 'content-type': 'text/plain' }).end(a === 200 ? 'ok' : 'receiver trouble');
		});
	});
	await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
	const port = (server.address() as AddressInfo).port;
	return {
		got,
		/** The secret part of the address, as chat services issue it. */
		url: `http://127.0.0.1:${port}/services/T0/B0/${randomBytes(12).toString('hex')}`,
		events: (kind: string) => got.filter((g) => g.headers['x-flackyness-event'] === kind),
		close: async () => {
			for (const h of hung) h();
			server.closeAllConnections();
			await new Promise((r) => server.close(r));
		}
	};
}

/** The verifier the README documents for the generic kind. */
function verify(secret: string, header: string | undefined, body: string, now = Date.now()): boolean {
	const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? '');
	if (!m) return false;
	if (Math.abs(now / 1000 - Number(m[1])) > 300) return false;
	const expected = createHmac('sha256', secret).update(`${m[1]}.${body}`).digest();
	return timingSafeEqual(expected, Buffer.from(m[2]!, 'hex'));
}

describe('notification webhooks (real receivers on loopback, a real server over HTTP on PostgreSQL)', () => {
	let server: FastifyInstance;
	let closeDb: () => Promise<void>;
	let pool: import('pg').Pool;
	let url: string;
	let ingest: string;
	const logs: string[] = [];
	const api = apiClient(() => url, ADMIN);
	const job = (p: JobSpec) => streamJob(api, ingest, p);
	const started = Date.now() - 6 * DAY;
	let pipeline = 100;
	const secret = randomBytes(24).toString('hex');
	const receivers: Array<Awaited<ReturnType<typeof receiver>>> = [];
	let slack: Awaited<ReturnType<typeof receiver>>;
	let mattermost: Awaited<ReturnType<typeof receiver>>;
	let teams: Awaited<ReturnType<typeof receiver>>;
	let generic: Awaited<ReturnType<typeof receiver>>;
	let flaky500: Awaited<ReturnType<typeof receiver>>;
	let hangs: Awaited<ReturnType<typeof receiver>>;
	let owned: Awaited<ReturnType<typeof receiver>>;
	const hooks: Record<string, string> = {};

	const onMain = (results: Array<[string, Outcome]>) => {
		const n = pipeline++;
		return job({ pipeline: n, commit: `c${n}`, branch: 'main', at: new Date(started + (n - 100) * HOUR), results });
	};
	const analysed = () => until('the analysis queue to empty', async () => (await pool.query(`SELECT 1 FROM analysis_jobs`)).rowCount === 0, 30_000);
	const deliveries = async (hook: string) => {
		const r = await api('GET', `/api/v1/projects/shop/webhooks/${hooks[hook]}/deliveries`);
		expect(r.status).toBe(200);
		return r.body.deliveries as Array<{ id: string; event: string; eventId: string | null; state: string; attempts: number; lastError: string | null; lastStatus: number | null }>;
	};
	const create = (body: Record<string, unknown>, project = 'shop') => api('POST', `/api/v1/projects/${project}/webhooks`, body);

	beforeAll(async () => {
		const { db, close } = await createMigratedDatabase('postgres');
		closeDb = close;
		pool = db.pool;
		const config = loadConfig({
			LOG_LEVEL: 'debug',
			DEMO: 'false',
			ADMIN_TOKEN: ADMIN,
			SECRETS_KEY: generateSecretsKey(),
			PUBLIC_URL: DASHBOARD,
			ANALYSIS_POLL_MS: '50',
			WEBHOOK_TIMEOUT_MS: '800',
			WEBHOOK_RETRY_BASE_MS: '200',
			RATE_LIMIT_RUNS: '10000',
			RATE_LIMIT_BATCHES: '100000',
			RATE_LIMIT_ADMIN: '1000',
			RATE_LIMIT_READS: '10000'
		});
		// Every log line the server writes, to prove that no URL or secret is in them.
		server = Fastify({ logger: { level: 'debug', stream: { write: (line: string) => void logs.push(line) } } });
		await server.register(app, { config, db, version: 'test' });
		await server.ready();
		url = await server.listen({ port: 0, host: '127.0.0.1' });
		ingest = (await api('POST', '/api/v1/admin/projects', { slug: 'shop' })).body.token;
		await api('POST', '/api/v1/admin/projects', { slug: 'other' });

		slack = await receiver();
		mattermost = await receiver();
		teams = await receiver();
		generic = await receiver();
		flaky500 = await receiver((n) => (n === 0 ? 500 : 200));
		hangs = await receiver((n) => (n === 0 ? 'hang' : 200));
		owned = await receiver();
		receivers.push(slack, mattermost, teams, generic, flaky500, hangs, owned);
	}, 60_000);
	afterAll(async () => {
		await server?.close();
		await closeDb?.();
		for (const r of receivers) await r.close();
	});

	it('refuses bad input with 4xx, in words', async () => {
		const events = ['flaky'];
		const bad = async (body: Record<string, unknown>, status: number, message: RegExp) => {
			const r = await create(body);
			expect(r.status).toBe(status);
			expect(r.body.message).toMatch(message);
		};
		await bad({ kind: 'slack', url: 'ftp://hooks.example.com/x', events }, 400, /body\.url/);
		await bad({ kind: 'slack', url: 'not a url', events }, 400, /body\.url/);
		await bad({ kind: 'discord', url: 'https://hooks.example.com/x', events }, 400, /body\.kind/);
		await bad({ kind: 'slack', url: 'https://hooks.example.com/x', events: ['flaky', 'exploded'] }, 400, /body\.events/);
		await bad({ kind: 'slack', url: 'https://hooks.example.com/x', events: [] }, 400, /body\.events/);
		await bad({ kind: 'slack', url: 'https://hooks.example.com/x', events, secret: 'a-long-enough-secret' }, 400, /body\.secret: only the generic kind/);
		await bad({ kind: 'generic', url: 'https://hooks.example.com/x', events, secret: 'short' }, 400, /body\.secret/);
		await bad({ kind: 'nope' }, 400, /body/);
		expect((await api('GET', '/api/v1/projects/shop/webhooks/not-a-uuid/deliveries')).status).toBe(400);
		expect((await api('GET', '/api/v1/projects/nope/webhooks')).status).toBe(404);
		// Admins only: a project's ingestion token cannot read or add webhooks.
		expect((await api('GET', '/api/v1/projects/shop/webhooks', undefined, ingest)).status).toBe(403);

		for (let i = 0; i < 20; i++) expect((await create({ kind: 'slack', url: `https://hooks.example.com/${i}`, events }, 'other')).status).toBe(201);
		const r = await create({ kind: 'slack', url: 'https://hooks.example.com/21', events }, 'other');
		expect(r.status).toBe(409);
		expect(r.body.message).toMatch(/has 20 webhooks, the most it can have/);
	});

	it('tells every receiver of each event exactly once, signed, retried on 500 and on timeouts', async () => {
		const all = ['flaky', 'broken', 'fixed', 'quarantined', 'released', 'quarantine_expiring'];
		for (const [name, kind, r, extra] of [
			['slack', 'slack', slack, {}],
			['mattermost', 'mattermost', mattermost, {}],
			['teams', 'teams', teams, {}],
			['generic', 'generic', generic, { secret, events: [...all, 'digest'] }],
			['flaky500', 'slack', flaky500, {}],
			['hangs', 'generic', hangs, { secret }],
			['nobody', 'generic', generic, { owners: ['@team-nobody'] }],
			['owned', 'generic', owned, { owners: ['@team-nobody', '@team-checkout'] }]
		] as const) {
			const res = await create({ kind, url: r.url, events: all, ...extra });
			expect(res.status).toBe(201);
			expect(res.body).toMatchObject({ kind, host: new URL(r.url).host, secretSet: 'secret' in extra });
			hooks[name] = res.body.id;
		}

		for (let i = 0; i < 6; i++) await onMain([['lists products', 'pass'], [FLAKY, 'pass']]);
		// One of the two tests is owned by a team one webhook filters on (as CODEOWNERS would set it).
		expect((await pool.query(`UPDATE tests SET owners = ARRAY['@team-checkout'] WHERE title = $1`, [FLAKY])).rowCount).toBe(1);
		for (let i = 0; i < 14; i++) await onMain([['lists products', 'pass'], [FLAKY, i % 3 === 1 ? 'retry' : 'pass']]);
		await analysed();
		await until('every receiver to be told of the flaky test', () => [slack, mattermost, teams, generic, flaky500].every((r) => r.events('flaky').length >= 1) && hangs.events('flaky').length >= 2, 20_000);

		const testId = (await pool.query<{ id: string }>(`SELECT id FROM tests WHERE title = $1`, [FLAKY])).rows[0]!.id;
		const link = `${DASHBOARD}/tests/${testId}`;

		// Slack: text and blocks, the title escaped for mrkdwn.
		const s = slack.events('flaky')[0]!.body;
		expect(s.text).toMatch(/^🔴 \*shop › checks &lt;out&gt; &amp; \*pays\*\* became flaky: fails \d+% of attempts \(\d+–\d+%\)(, ~[\d.]+ CI min\/day lost)?\. <https:\/\/flackyness\.example\.com\/tests\/[0-9a-f-]{36}\|Open>$/);
		expect(s.text).toContain(`<${link}|Open>`);
		expect(s.blocks).toEqual([{ type: 'section', text: { type: 'mrkdwn', text: s.text } }]);
		// Mattermost: Slack-compatible text, in Markdown.
		expect(mattermost.events('flaky')[0]!.body.text).toMatch(/^🔴 \*\*shop › checks \\<out\\> & \\\*pays\\\*\*\* became flaky: .*\[Open\]\(https:\/\/flackyness\.example\.com\/tests\//);
		// Teams: an Adaptive Card.
		const card = teams.events('flaky')[0]!.body;
		expect(card).toMatchObject({ type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: { type: 'AdaptiveCard', version: '1.4' } }] });
		expect(card.attachments[0].content.body[0]).toMatchObject({ type: 'TextBlock', text: expect.stringContaining('**shop › checks \\<out\\> & \\*pays\\*** became flaky') });
		expect(card.attachments[0].content.actions).toEqual([{ type: 'Action.OpenUrl', title: 'Open', url: link }]);
		// Generic: the event as JSON, signed as the README says, with its delivery id.
		const g = generic.events('flaky')[0]!;
		expect(g.body).toMatchObject({
			event: 'flaky',
			project: { slug: 'shop' },
			test: { id: testId, titlePath: ['shop', FLAKY], file: 'shop.spec.ts', url: link },
			fromState: 'healthy',
			toState: 'flaky',
			details: { score: expect.any(Number), scoreLow: expect.any(Number), scoreHigh: expect.any(Number) },
			deliveryId: g.headers['x-flackyness-delivery']
		});
		expect(verify(secret, g.headers['x-flackyness-signature'] as string, g.raw)).toBe(true);
		expect(verify(secret, g.headers['x-flackyness-signature'] as string, g.raw.replace('flaky', 'fixed'))).toBe(false);
		expect(verify('another-secret-entirely', g.headers['x-flackyness-signature'] as string, g.raw)).toBe(false);
		// A replay later than five minutes is refused by the verifier.
		expect(verify(secret, g.headers['x-flackyness-signature'] as string, g.raw, Date.now() + 6 * 60_000)).toBe(false);

		// 500 then 200: told on the second attempt; a hung receiver: timed out, then told.
		await until('the retried deliveries to be done', async () => (await deliveries('flaky500'))[0]?.state === 'done' && (await deliveries('hangs'))[0]?.state === 'done', 20_000);
		expect(await deliveries('flaky500')).toMatchObject([{ event: 'flaky', state: 'done', attempts: 2, lastStatus: 200, lastError: null }]);
		expect(await deliveries('hangs')).toMatchObject([{ event: 'flaky', state: 'done', attempts: 2 }]);
		expect(flaky500.events('flaky')).toHaveLength(2);
		const [first, second] = hangs.events('flaky');
		expect(second!.headers['x-flackyness-delivery']).toBe(first!.headers['x-flackyness-delivery']);
		expect(verify(secret, second!.headers['x-flackyness-signature'] as string, second!.raw)).toBe(true);
		// The retries were logged, by host.
		expect(logs.some((l) => l.includes('"webhook.delivery"') && l.includes('"outcome":"retry"') && l.includes('answered 500'))).toBe(true);
		expect(logs.some((l) => l.includes('"webhook.delivery"') && l.includes('"outcome":"retry"') && l.includes('did not answer within'))).toBe(true);

		// Quarantined, released, broken: each once more.
		expect((await api('POST', `/api/v1/tests/${testId}/quarantine`, { reason: 'known <b>outage</b>', expiresAt: new Date(Date.now() + DAY).toISOString() })).status).toBe(201);
		await server.sweepStaleRuns();
		expect((await api('DELETE', `/api/v1/tests/${testId}/quarantine`)).status).toBeLessThan(300);
		for (let i = 0; i < 6; i++) await onMain([['lists products', i >= 2 ? 'fail' : 'pass'], [FLAKY, 'pass']]);
		await analysed();
		const told = ['flaky', 'quarantined', 'quarantine_expiring', 'released', 'broken'];
		await until('every receiver to be told of every event', () => [slack, mattermost, teams, generic].every((r) => told.every((k) => r.events(k).length >= 1)), 20_000);
		// Several more rounds of the worker: nothing is told twice.
		await new Promise((r) => setTimeout(r, 1500));
		// Several more rounds of the worker: nothing is told twice. Each event is one delivery, sent once.
		await new Promise((r) => setTimeout(r, 1500));
		const recorded = (await pool.query<{ id: string; kind: string }>(`SELECT id::text, kind FROM test_events ORDER BY id`)).rows;
		expect(new Set(recorded.map((e) => e.kind))).toEqual(new Set(told));
		for (const [name, r] of [['slack', slack], ['mattermost', mattermost], ['teams', teams], ['generic', generic]] as const) {
			const log = await deliveries(name);
			expect(log.map((d) => d.eventId).sort()).toEqual(recorded.map((e) => e.id).sort());
			expect(log.every((d) => d.state === 'done' && d.attempts === 1)).toBe(true);
			const sent = r.got.map((g) => g.headers['x-flackyness-delivery']);
			expect([...sent].sort()).toEqual(log.map((d) => d.id).sort());
			expect(r.got.map((g) => g.headers['x-flackyness-event']).sort()).toEqual(recorded.map((e) => e.kind).sort());
		}
		// The generic body names the event it tells; the owners-filtered webhook got nothing.
		expect(generic.got.map((g) => g.body.eventId).sort()).toEqual(recorded.map((e) => e.id).sort());
		expect(await deliveries('nobody')).toEqual([]);
		// The owners filter: every event of the owned test, none of the other's.
		const ownedEvents = (await pool.query<{ id: string }>(`SELECT e.id::text FROM test_events e JOIN tests t ON t.id = e.test_id WHERE t.title = $1`, [FLAKY])).rows;
		expect(ownedEvents.length).toBeGreaterThan(0);
		expect(ownedEvents.length).toBeLessThan(recorded.length);
		expect(owned.got.map((g) => g.body.eventId).sort()).toEqual(ownedEvents.map((e) => e.id).sort());
		const broken = generic.events('broken')[0]!.body;
		expect(broken).toMatchObject({ test: { titlePath: ['shop', 'lists products'] }, toState: 'broken', details: { changePointSha: expect.stringMatching(/^[0-9a-f]{40}$/) } });
		expect(slack.events('broken')[0]!.body.text).toContain(`since commit ${broken.details.changePointSha.slice(0, 8)}`);
		expect(slack.events('quarantined')[0]!.body.text).toContain('known &lt;b&gt;outage&lt;/b&gt;');
		for (const d of generic.got) expect(verify(secret, d.headers['x-flackyness-signature'] as string, d.raw)).toBe(true);

		// Re-send: the same delivery, with the same id, once more.
		const delivered = (await deliveries('slack')).find((d) => d.event === 'fixed' || d.event === 'broken')!;
		const resent = await api('POST', `/api/v1/projects/shop/webhooks/${hooks.slack}/deliveries/${delivered.id}/resend`);
		expect(resent.status).toBe(200);
		expect(resent.body).toMatchObject({ id: delivered.id, state: 'pending', attempts: 0 });
		await until('the re-sent delivery', () => slack.events(delivered.event).length === 2);
		expect(slack.events(delivered.event).map((x) => x.headers['x-flackyness-delivery'])).toEqual([delivered.id, delivered.id]);

		const metrics = await fetch(`${url}/metrics`).then((r) => r.text());
		expect(metrics).toMatch(/flackyness_webhook_deliveries_total\{kind="slack",outcome="retry"\} 1/);
		expect(metrics).toMatch(new RegExp(`flackyness_webhook_deliveries_total\\{kind="teams",outcome="done"\\} ${recorded.length}\\n`));
		expect(metrics).toMatch(/flackyness_webhook_delivery_queue\{state="done"\} \d+/);
	}, 180_000);

	it('sends a weekly digest with the week’s flaky and fixed tests and the most costly ones', async () => {
		await pool.query(`UPDATE webhooks SET last_digest_at = now() - interval '8 days' WHERE id = $1`, [hooks.generic]);
		await until('the digest', () => generic.events('digest').length >= 1);
		const d = generic.events('digest')[0]!;
		expect(verify(secret, d.headers['x-flackyness-signature'] as string, d.raw)).toBe(true);
		expect(d.body).toMatchObject({ event: 'digest', project: { slug: 'shop', url: `${DASHBOARD}/projects/shop` }, newFlaky: [{ titlePath: ['shop', FLAKY] }] });
		// The costs as the analysis stored them (test_health.impact_minutes of flaky and quarantined tests).
		const costly = (
			await pool.query<{ title_path: string[]; impact: number }>(
				`SELECT t.title_path, h.impact_minutes AS impact FROM test_health h JOIN tests t ON t.id = h.test_id
				 WHERE h.state IN ('flaky', 'quarantined') AND h.impact_minutes > 0 ORDER BY h.impact_minutes DESC LIMIT 5`
			)
		).rows;
		expect(costly.length).toBeGreaterThan(0);
		expect(d.body.mostCostly.map((x: { titlePath: string[]; impactMinutes: number }) => [x.titlePath, x.impactMinutes])).toEqual(costly.map((c) => [c.title_path, c.impact]));
		expect(d.body.ciMinutesLostPerDay).toBeCloseTo(costly.reduce((a, c) => a + c.impact, 0), 6);
		await new Promise((r) => setTimeout(r, 500));
		expect(generic.events('digest')).toHaveLength(1);
	});

	it('a dead receiver never slows ingestion, and shows as failing in the delivery log', async () => {
		const deadPort = await freePort();
		const dead = await create({ kind: 'generic', url: `http://127.0.0.1:${deadPort}/hook/${randomBytes(8).toString('hex')}`, events: ['quarantined', 'released'] });
		expect(dead.status).toBe(201);
		hooks.dead = dead.body.id;
		// And one that accepts the connection and never answers.
		const silent = await receiver(() => 'hang');
		receivers.push(silent);
		hooks.silent = (await create({ kind: 'slack', url: silent.url, events: ['quarantined', 'released'] })).body.id;

		const testId = (await pool.query<{ id: string }>(`SELECT id FROM tests WHERE title = 'lists products'`)).rows[0]!.id;
		for (let i = 0; i < 4; i++) {
			expect((await api('POST', `/api/v1/tests/${testId}/quarantine`, { reason: `round ${i}` })).status).toBe(201);
			expect((await api('DELETE', `/api/v1/tests/${testId}/quarantine`)).status).toBeLessThan(300);
			await onMain([['lists products', 'fail'], [FLAKY, 'pass']]);
		}
		// Every CI job was stored while the silent receiver still held deliveries unanswered: ingestion
		// never waits for a receiver (the deliveries' own timeouts and retries happen in the worker).
		await until('a delivery to reach the silent receiver', () => silent.got.length > 0, 10_000);
		expect((await deliveries('silent')).every((d) => d.state !== 'done')).toBe(true);
		// Four quarantines and four releases: eight deliveries, tried and failing.
		await until('the dead receiver to be tried and fail', async () => {
			const log = await deliveries('dead');
			return log.length === 8 && log.some((d) => d.attempts >= 1 && d.lastError);
		}, 10_000);
		const log = await deliveries('dead');
		expect(log.length).toBe(8);
		expect(log.every((d) => d.state === 'pending')).toBe(true);
		expect(log.find((d) => d.lastError)).toMatchObject({ lastStatus: null, lastError: expect.stringMatching(/^cannot reach 127\.0\.0\.1:\d+: connection refused$/) });
		await until('the silent receiver to time out', async () => (await deliveries('silent')).some((d) => d.lastError?.includes('did not answer')), 10_000);
		// The working receivers were told meanwhile.
		await until('slack to be told of the new quarantines', () => slack.events('quarantined').length === 5);
	}, 60_000);

	it('never answers, logs or stores a URL or secret in clear', async () => {
		const list = await api('GET', '/api/v1/projects/shop/webhooks');
		expect(list.status).toBe(200);
		const text = JSON.stringify(list.body);
		const secretParts = [...receivers.map((r) => new URL(r.url).pathname), secret];
		for (const p of secretParts) expect(text).not.toContain(p);
		expect(list.body.webhooks.find((w: { id: string }) => w.id === hooks.generic)).toMatchObject({ kind: 'generic', host: new URL(generic.url).host, secretSet: true });
		const allLogs = logs.join('\n');
		expect(allLogs).toContain('notification delivered');
		for (const p of secretParts) expect(allLogs).not.toContain(p);
		const rows = JSON.stringify((await pool.query(`SELECT * FROM webhooks`)).rows);
		for (const p of secretParts) expect(rows).not.toContain(p);
		expect(rows).toContain('fks1.');
		const log = JSON.stringify((await pool.query(`SELECT last_error FROM webhook_deliveries`)).rows);
		for (const p of secretParts) expect(log).not.toContain(p);

		expect((await api('DELETE', `/api/v1/projects/shop/webhooks/${hooks.dead}`)).status).toBe(204);
		expect((await api('DELETE', `/api/v1/projects/shop/webhooks/${hooks.dead}`)).status).toBe(404);
		expect((await pool.query(`SELECT 1 FROM webhook_deliveries WHERE webhook_id = $1`, [hooks.dead])).rowCount).toBe(0);
	});
});
