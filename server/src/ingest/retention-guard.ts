import { HttpError } from '../lib/http-errors.js';

const DAY_MS = 86_400_000;

/**
 * Refuses a report whose run (or any of its results) started more than RETENTION_DAYS ago: the
 * retention pass would delete its results at the next start, so accepting it would answer 201 for
 * data that silently vanishes. Dates that are missing or do not parse are left to the schema.
 */
export function refuseExpired(retentionDays: number, startedAt: Iterable<string | undefined>, what: string, now = new Date()): void {
	const cutoff = now.getTime() - retentionDays * DAY_MS;
	let oldest = Infinity;
	for (const s of startedAt) {
		if (s === undefined) continue;
		const t = Date.parse(s);
		if (Number.isFinite(t) && t < oldest) oldest = t;
	}
	if (oldest >= cutoff) return;
	throw new HttpError(
		422,
		`${what} started at ${new Date(oldest).toISOString()}, more than RETENTION_DAYS=${retentionDays} days ago (before ${new Date(cutoff).toISOString()}): ` +
			`its results would be deleted by the next retention pass, so nothing was stored. Send reports of recent runs, or raise RETENTION_DAYS on the server.`
	);
}
