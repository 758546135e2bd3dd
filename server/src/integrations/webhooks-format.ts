/**
 * What a delivery says, per kind of receiver. The stored payload (see repositories/webhooks.ts) is the
 * generic kind's body; Slack, Mattermost and Teams get one short message made from it. Test titles,
 * file names and quarantine reasons are user text: escaped for each receiver's markup.
 */

export interface TestRef {
	id: string;
	file?: string;
	titlePath?: string[];
	projectName?: string;
	owners?: string[];
}

export interface EventPayload {
	event: string;
	eventId?: string;
	at?: string;
	project?: { id: string; slug: string; name: string; url?: string };
	test?: TestRef;
	fromState?: string | null;
	toState?: string | null;
	details?: Record<string, unknown>;
	// The weekly digest.
	from?: string;
	to?: string;
	newFlaky?: TestRef[];
	fixed?: TestRef[];
	ciMinutesLostPerDay?: number;
	mostCostly?: Array<TestRef & { impactMinutes: number; score: number }>;
}

/** A message as pieces: user text is kept apart from ours so each kind escapes only what needs it. */
type Piece = { text: string } | { user: string } | { strong: string };

export interface Message {
	emoji: string;
	line: Piece[];
	/** The digest's ranked tests, one line each. */
	items: Piece[][];
	link: { url: string; label: string };
}

/** Titles are clipped: a chat message stays short (and within Slack's 3,000 characters per block). */
const clip = (s: string, max = 200) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);
const testTitle = (t: TestRef | undefined) => clip(t?.titlePath?.length ? t.titlePath.join(' › ') : (t?.file ?? 'a test'));
const pct = (v: unknown) => `${Math.round(Number(v ?? 0) * 100)}%`;
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : Number(v ?? NaN));
const minutes = (v: unknown) => {
	const n = num(v);
	if (!Number.isFinite(n) || n < 0.05) return null;
	return n >= 10 ? String(Math.round(n)) : n >= 1 ? n.toFixed(0) : n.toFixed(1);
};
const day = (v: unknown) => {
	const d = typeof v === 'string' || v instanceof Date ? new Date(v) : null;
	return d && !Number.isNaN(d.getTime()) ? d.toISOString().slice(0, 16).replace('T', ' ') + ' UTC' : null;
};

export function testUrl(dashboard: string, testId: string): string {
	return `${dashboard}/tests/${encodeURIComponent(testId)}`;
}

/** The words of one event or digest. */
export function describeEvent(p: EventPayload, dashboard: string): Message {
	const d = p.details ?? {};
	const who = { strong: testTitle(p.test) } as const;
	const link = { url: p.test ? testUrl(dashboard, p.test.id) : `${dashboard}/projects/${encodeURIComponent(p.project?.slug ?? '')}`, label: 'Open' };
	const lost = minutes(d.impactMinutes);
	switch (p.event) {
		case 'flaky':
			return {
				emoji: '🔴',
				line: [who, { text: ` became flaky: fails ${pct(d.score)} of attempts (${pct(d.scoreLow).replace('%', '')}–${pct(d.scoreHigh)})${lost ? `, ~${lost} CI min/day lost` : ''}.` }],
				items: [],
				link
			};
		case 'broken': {
			const sha = typeof d.changePointSha === 'string' ? d.changePointSha.slice(0, 8) : null;
			const when = day(d.changePointAt);
			return {
				emoji: '💥',
				line: [who, { text: ` is broken: fails every run${sha ? ` since commit ${sha}` : ''}${when ? ` (${when})` : ''}.` }],
				items: [],
				link
			};
		}
		case 'fixed':
			return { emoji: '✅', line: [who, { text: ' is fixed: it passes again.' }], items: [], link };
		case 'quarantined': {
			const until = day(d.until);
			return {
				emoji: '🔇',
				line: [who, { text: ` was quarantined${d.by ? ' by ' : ''}` }, ...(d.by ? [{ user: String(d.by) }] : []), { text: until ? ` until ${until}` : '' }, ...reason(d.reason)],
				items: [],
				link
			};
		}
		case 'released':
			return { emoji: '🔈', line: [who, { text: ` was released from quarantine${d.by ? ' by ' : ''}` }, ...(d.by ? [{ user: String(d.by) }] : []), { text: '.' }], items: [], link };
		case 'quarantine_expiring': {
			const until = day(d.until);
			return { emoji: '⏳', line: [{ text: 'The quarantine of ' }, who, { text: ` ends ${until ? `on ${until}` : 'soon'}` }, ...reason(d.reason)], items: [], link };
		}
		case 'digest': {
			const weekLost = minutes(num(p.ciMinutesLostPerDay) * 7);
			const items = (p.mostCostly ?? []).map((t, i): Piece[] => [{ text: `${i + 1}. ` }, { user: testTitle(t) }, { text: ` — ~${minutes(t.impactMinutes) ?? '0'} CI min/day, fails ${pct(t.score)}` }]);
			return {
				emoji: '📊',
				line: [
					{ text: 'Weekly digest of ' },
					{ strong: p.project?.name ?? p.project?.slug ?? 'the project' },
					{ text: `: ${p.newFlaky?.length ?? 0} new flaky, ${p.fixed?.length ?? 0} fixed, ~${weekLost ?? '0'} CI min lost this week.${items.length ? ' Most costly:' : ''}` }
				],
				items,
				link: { url: p.project?.url ?? link.url, label: 'Open the project' }
			};
		}
		default:
			return { emoji: 'ℹ️', line: [who, { text: `: ${p.event}.` }], items: [], link };
	}
}

function reason(r: unknown): Piece[] {
	return typeof r === 'string' && r ? [{ text: ': ' }, { user: clip(r, 300) }, { text: '.' }] : [{ text: '.' }];
}

/** Slack mrkdwn: only &, < and > are control characters (https://api.slack.com/reference/surfaces/formatting#escaping). */
export const escapeSlack = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
/**
 * Markdown as Mattermost and Teams render it (neither renders HTML): the characters that make emphasis,
 * links, code, headings and tables are backslash-escaped, so a title cannot make a link of its own.
 */
export const escapeMarkdown = (s: string) => s.replace(/[\\`*_[\]()~<>#|]/g, (c) => `\\${c}`);

function render(m: Message, esc: (s: string) => string, strong: (s: string) => string): string {
	const line = (pieces: Piece[]) => pieces.map((p) => ('text' in p ? p.text : 'user' in p ? esc(p.user) : strong(esc(p.strong)))).join('');
	return [`${m.emoji} ${line(m.line)}`, ...m.items.map(line)].join('\n');
}

export function slackPayload(m: Message) {
	const text = `${render(m, escapeSlack, (s) => `*${s}*`)} <${m.link.url}|${m.link.label}>`;
	return {
		text,
		blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }]
	};
}

export function mattermostPayload(m: Message) {
	return { text: `${render(m, escapeMarkdown, (s) => `**${s}**`)} [${m.link.label}](${m.link.url})` };
}

export function teamsPayload(m: Message) {
	const [first, ...rest] = render(m, escapeMarkdown, (s) => `**${s}**`).split('\n');
	return {
		type: 'message',
		attachments: [
			{
				contentType: 'application/vnd.microsoft.card.adaptive',
				contentUrl: null,
				content: {
					$schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
					type: 'AdaptiveCard',
					version: '1.4',
					body: [
						{ type: 'TextBlock', text: first, wrap: true, weight: 'Bolder' },
						...rest.map((text) => ({ type: 'TextBlock', text, wrap: true, spacing: 'Small' }))
					],
					actions: [{ type: 'Action.OpenUrl', title: m.link.label, url: m.link.url }]
				}
			}
		]
	};
}

/** The generic kind's body: the stored event, with links to the dashboard. */
export function genericPayload(p: EventPayload, dashboard: string, deliveryId: string) {
	const link = (t: TestRef) => ({ ...t, url: testUrl(dashboard, t.id) });
	return {
		...p,
		deliveryId,
		...(p.test ? { test: link(p.test) } : {}),
		...(p.newFlaky ? { newFlaky: p.newFlaky.map(link) } : {}),
		...(p.fixed ? { fixed: p.fixed.map(link) } : {}),
		...(p.mostCostly ? { mostCostly: p.mostCostly.map(link) } : {})
	};
}

export function payloadFor(kind: string, p: EventPayload, dashboard: string, deliveryId: string): unknown {
	if (kind === 'generic') return genericPayload(p, dashboard, deliveryId);
	const m = describeEvent(p, dashboard);
	if (kind === 'teams') return teamsPayload(m);
	if (kind === 'mattermost') return mattermostPayload(m);
	return slackPayload(m);
}
