/** Words for quarantines: who quarantined a test, until when, how it ended. Pure, unit-tested. */
import { ago, day, duration } from './format';
import type { QuarantineView } from './types';

/** The automatic quarantine policy's name in created_by and released_by. */
const POLICY = 'policy';

/** "automatic (policy)" or the person (or token) who quarantined the test. */
export function quarantinedBy(createdBy: string): string {
	return createdBy === POLICY ? 'automatic (policy)' : createdBy;
}

/** "in 5 days (12 Dec 2026)", or "until released" without an expiry. */
export function until(expiresAt: string | null, now = Date.now()): string {
	return expiresAt ? `${ago(expiresAt, now)} (${day(expiresAt)})` : 'until released';
}

/** How an ended quarantine ended, for people. */
export function endedHow(q: Pick<QuarantineView, 'ended' | 'releasedBy'>): string {
	switch (q.ended) {
		case 'fixed':
			return 'fixed — released automatically';
		case 'expired':
			return 'expired';
		case 'replaced':
			return `replaced by a new quarantine${q.releasedBy ? ` (${quarantinedBy(q.releasedBy)})` : ''}`;
		case 'released':
			return `released by ${q.releasedBy ?? 'someone'}`;
		default:
			return 'active';
	}
}

/** CI time saved: "–" when nothing failed, else the duration ("1 min 15 s"). */
export function saved(minutes: number): string {
	return minutes > 0 ? duration(minutes * 60_000) : '–';
}
