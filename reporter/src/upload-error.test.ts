import { describe, expect, it } from 'vitest';
import { fromHttpStatus } from './upload-error.js';

describe('fromHttpStatus', () => {
	it('puts the server’s reason for a refused old report on the log line, and does not retry it', () => {
		const message =
			'This run started at 2026-05-01T10:00:00.000Z, more than RETENTION_DAYS=180 days ago (before 2026-06-03T01:00:00.000Z): its results would be deleted by the next retention pass, so nothing was stored.';
		const err = fromHttpStatus(422, { statusCode: 422, error: 'Unprocessable Entity', message });
		expect(err.message).toMatch(/^report refused \(HTTP 422: This run started at 2026-05-01T10:00:00.000Z, more than RETENTION_DAYS=180 days ago/);
		expect(err.fatal).toBe(true);
		expect(err.retryable).toBe(false);
	});
});
