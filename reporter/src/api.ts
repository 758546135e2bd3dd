import { z } from 'zod';
import type HttpClient from './http-client.js';
import {
	batchReceiptSchema,
	runReceiptSchema,
	type BatchReceipt,
	type CompleteRunInput,
	type OpenRunInput,
	type RunReceipt,
	type TestResultInput
} from './protocol.js';
import { UploadError } from './upload-error.js';

/**
 * `GET /api/v1/quarantine`. Not in protocol.ts yet; a missing `projectName` quarantines the test
 * in every project.
 */
export const quarantineListSchema = z.object({
	tests: z.array(
		z.object({
			file: z.string(),
			titlePath: z.array(z.string()),
			projectName: z.string().nullish()
		})
	)
});
export type QuarantineList = z.infer<typeof quarantineListSchema>;

function parse<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
	const parsed = schema.safeParse(body);
	if (!parsed.success) throw new UploadError(`unexpected answer to ${what} (is the URL the Flackyness server?)`, 'protocol');
	return parsed.data;
}

/** The server's endpoints, typed with the wire protocol. */
export default class FlackynessApi {
	constructor(private readonly http: HttpClient) {}

	async openRun(input: OpenRunInput): Promise<RunReceipt> {
		const res = await this.http.request({
			method: 'POST',
			path: '/api/v1/runs',
			json: input,
			...(input.idempotencyKey ? { idempotencyKey: `${input.idempotencyKey}:open` } : {})
		});
		return parse(runReceiptSchema, res.body, 'opening the run');
	}

	async sendResults(runId: string, results: TestResultInput[], idempotencyKey?: string): Promise<BatchReceipt> {
		const res = await this.http.request({
			method: 'POST',
			path: `/api/v1/runs/${encodeURIComponent(runId)}/results`,
			json: { results },
			...(idempotencyKey ? { idempotencyKey } : {})
		});
		return parse(batchReceiptSchema, res.body, 'sending results');
	}

	async completeRun(runId: string, input: CompleteRunInput, idempotencyKey?: string): Promise<RunReceipt> {
		const res = await this.http.request({
			method: 'POST',
			path: `/api/v1/runs/${encodeURIComponent(runId)}/complete`,
			json: input,
			...(idempotencyKey ? { idempotencyKey } : {})
		});
		return parse(runReceiptSchema, res.body, 'completing the run');
	}

	/** A whole Playwright JSON report, gzipped, with the CI metadata in `X-Flackyness-*` headers. */
	async uploadReport(gzipped: Buffer, headers: Record<string, string>): Promise<RunReceipt> {
		const res = await this.http.request({
			method: 'POST',
			path: '/api/v1/reports',
			body: gzipped,
			headers: { ...headers, 'content-type': 'application/json', 'content-encoding': 'gzip' }
		});
		return parse(runReceiptSchema, res.body, 'uploading the report');
	}

	/** Null when the server has no quarantine list (404) or does not answer quickly: never worth waiting for. */
	async fetchQuarantine(timeoutMs: number): Promise<QuarantineList | null> {
		try {
			const res = await this.http.request({ method: 'GET', path: '/api/v1/quarantine', maxAttempts: 1, timeoutMs });
			const parsed = quarantineListSchema.safeParse(res.body);
			return parsed.success ? parsed.data : null;
		} catch {
			return null;
		}
	}
}
