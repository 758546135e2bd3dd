import { describe, expect, it } from 'vitest';
import { endedHow, quarantinedBy, saved, until } from './quarantine';

describe('quarantine words', () => {
	it('names the automatic policy and keeps people as they are', () => {
		expect(quarantinedBy('policy')).toBe('automatic (policy)');
		expect(quarantinedBy('jane@example.com')).toBe('jane@example.com');
	});

	it('says until when, relative and as a date', () => {
		const now = Date.parse('2026-11-20T12:00:00Z');
		expect(until('2026-11-25T12:00:00Z', now)).toBe('in 5 days (25 Nov 2026)');
		expect(until(null, now)).toBe('until released');
	});

	it('says how a quarantine ended', () => {
		expect(endedHow({ ended: 'fixed', releasedBy: 'policy' })).toBe('fixed — released automatically');
		expect(endedHow({ ended: 'expired', releasedBy: 'expiry' })).toBe('expired');
		expect(endedHow({ ended: 'released', releasedBy: 'jane@example.com' })).toBe('released by jane@example.com');
		expect(endedHow({ ended: 'replaced', releasedBy: 'policy' })).toBe('replaced by a new quarantine (automatic (policy))');
		expect(endedHow({ ended: null, releasedBy: null })).toBe('active');
	});

	it('shows CI time saved as a duration, and a dash for none', () => {
		expect(saved(1.25)).toBe('1 min 15 s');
		expect(saved(0.5)).toBe('30 s');
		expect(saved(0)).toBe('–');
	});
});
