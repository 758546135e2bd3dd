import type { RunReceipt } from 'flackyness-reporter/protocol';
import type { RunSummary } from './store.js';

export function receiptOf(run: RunSummary, created: boolean, baseUrl: string): RunReceipt {
	return {
		runId: run.id,
		created,
		status: run.status,
		counts: { total: run.total, expected: run.expected, unexpected: run.unexpected, flaky: run.flaky, skipped: run.skipped },
		url: `${baseUrl}/runs/${run.id}`
	};
}
