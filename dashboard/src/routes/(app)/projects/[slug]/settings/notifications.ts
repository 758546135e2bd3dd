/** The notification webhook form: kinds and events as the API names them, with their labels. */
export const WEBHOOK_KINDS = [
	{ value: 'slack', label: 'Slack' },
	{ value: 'mattermost', label: 'Mattermost' },
	{ value: 'teams', label: 'Microsoft Teams (workflow)' },
	{ value: 'generic', label: 'Generic (signed JSON)' }
] as const;

export const WEBHOOK_EVENTS = [
	{ value: 'flaky', label: 'Became flaky' },
	{ value: 'broken', label: 'Broke' },
	{ value: 'fixed', label: 'Fixed' },
	{ value: 'quarantined', label: 'Quarantined' },
	{ value: 'released', label: 'Released' },
	{ value: 'quarantine_expiring', label: 'Quarantine ends soon' },
	{ value: 'digest', label: 'Weekly digest' }
] as const;

const LABELS: Record<string, string> = { kind: 'Kind', url: 'Webhook URL', events: 'Events', owners: 'Owners', secret: 'Signing secret' };

/** The form's fields as POST …/webhooks takes them: owners comma- or space-separated, the secret only when typed. */
export function webhookBody(form: FormData): Record<string, unknown> {
	const text = (k: string) => String(form.get(k) ?? '').trim();
	const body: Record<string, unknown> = { kind: text('kind'), url: text('url'), events: form.getAll('events').map(String) };
	const owners = text('owners')
		.split(/[\s,]+/)
		.filter(Boolean);
	if (owners.length) body.owners = owners;
	if (text('secret')) body.secret = text('secret');
	return body;
}

/** "body.url: must be…" → "Webhook URL: must be…". */
export function webhookMessage(message: string): string {
	const m = /^body\.(\w+)(?:\.\d+)?: (.*)$/.exec(message);
	return m && LABELS[m[1]!] ? `${LABELS[m[1]!]}: ${m[2]}` : message;
}

export const eventLabel = (e: string) => WEBHOOK_EVENTS.find((x) => x.value === e)?.label ?? e;
export const kindLabel = (k: string) => WEBHOOK_KINDS.find((x) => x.value === k)?.label ?? k;
