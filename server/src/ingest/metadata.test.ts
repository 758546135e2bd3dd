import { describe, expect, it } from 'vitest';
import { HttpError } from '../lib/http-errors.js';
import { collectMetadata } from './metadata.js';

describe('collectMetadata', () => {
	it('reads headers, query parameters and form fields under any spelling, later sources winning', () => {
		const m = collectMetadata({
			headers: { 'x-flackyness-commit-sha': 'ABCDEF1', 'x-flackyness-branch': 'from-header', host: 'x' },
			query: { branch: 'from-query', job_name: 'e2e 1/2', shardIndex: '1', shard_total: '2' },
			fields: { 'mr-iid': '7', idempotencyKey: 'key-12345678' }
		});
		expect(m).toEqual({
			ci: { commitSha: 'abcdef1', branch: 'from-query', jobName: 'e2e 1/2', shardIndex: 1, shardTotal: 2, mrIid: 7 },
			idempotencyKey: 'key-12345678'
		});
	});

	it('decodes percent-encoded and raw UTF-8 header values, and keeps other values as they are', () => {
		const raw = Buffer.from('Fix “quotes” — ü', 'utf8').toString('latin1');
		const m = collectMetadata({
			headers: {
				'x-flackyness-commit-title': encodeURIComponent('Ünïcode 100% ✓'),
				'x-flackyness-commit-author': raw,
				'x-flackyness-branch': '50%-off'
			}
		});
		expect(m.ci).toEqual({ commitTitle: 'Ünïcode 100% ✓', commitAuthor: 'Fix “quotes” — ü', branch: '50%-off' });
	});

	it('refuses unknown names, repeated values and malformed numbers with a message naming them', () => {
		const fail = (f: () => unknown) => {
			try {
				f();
			} catch (e) {
				expect(e).toBeInstanceOf(HttpError);
				return (e as HttpError).message;
			}
			throw new Error('no error');
		};
		expect(fail(() => collectMetadata({ query: { colour: 'red' } }))).toMatch(/Unknown metadata "colour" in the query string/);
		expect(fail(() => collectMetadata({ query: { branch: ['a', 'b'] } }))).toMatch(/given once/);
		expect(fail(() => collectMetadata({ fields: { mrIid: '1e3' } }))).toMatch(/metadata.mrIid: must be a whole number/);
		expect(fail(() => collectMetadata({ fields: { shardIndex: '3', shardTotal: '2' } }))).toMatch(/metadata.shardIndex/);
	});
});
