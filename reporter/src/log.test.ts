import { describe, expect, it } from 'vitest';
import { debugEnabled, displayUrl } from './log.js';

describe('debugEnabled', () => {
	it('follows the usual DEBUG patterns', () => {
		expect(debugEnabled('flackyness:http', 'flackyness*')).toBe(true);
		expect(debugEnabled('flackyness:http', 'flackyness:*')).toBe(true);
		expect(debugEnabled('flackyness:http', '*')).toBe(true);
		expect(debugEnabled('flackyness:http', 'pw:api,flackyness:stream')).toBe(false);
		expect(debugEnabled('flackyness:http', 'flackyness*,-flackyness:http')).toBe(false);
		expect(debugEnabled('flackyness:http', undefined)).toBe(false);
		expect(debugEnabled('flackyness:http', 'flackyness.http')).toBe(false);
	});
});

describe('displayUrl', () => {
	it('drops credentials, query and fragment', () => {
		expect(displayUrl('https://user:secret@example.com/base/?token=x#y')).toBe('https://example.com/base');
		expect(displayUrl('nonsense')).toBe('(invalid URL)');
	});
});
