import type FlackynessApi from './api.js';
import type HttpClient from './http-client.js';
import { createDebug, type Debug } from './log.js';
import OverflowFile from './overflow-file.js';
import type { CompleteRunInput, OpenRunInput, RunReceipt, TestResultInput } from './protocol.js';
import { fromNetworkError, UploadError } from './upload-error.js';

const FINAL_ATTEMPTS_WHEN_FAILING = 2;

export interface RunStreamOptions {
	api: FlackynessApi;
	http: HttpClient;
	/** With its idempotency key: every retry, and a later replay of the spool, opens the same run. */
	open: OpenRunInput & { idempotencyKey: string };
	batchSize: number;
	flushIntervalMs: number;
	uploadDeadlineMs: number;
	/** Results held in memory; more wait in `overflowFile`. */
	maxQueueSize: number;
	overflowFile: string;
	/** After a failed send, how long to wait before trying again during the run. Default 10 s. */
	pauseAfterFailureMs?: number;
	debug?: Debug;
}

export interface StreamOutcome {
	/** The completed run, with its dashboard URL. */
	receipt?: RunReceipt;
	/** Results the server acknowledged. */
	sent: number;
	/** Why the upload did not complete. */
	error?: UploadError;
	/** Results not acknowledged: they belong in the spool file. */
	unsent: TestResultInput[];
}

/**
 * Streams one run to the server: opens it without blocking the caller, sends results in batches
 * as they come and at an interval, and at `finish` sends the rest and completes the run within
 * the upload deadline. Failures during the run only pause sending; `finish` tries once more.
 */
export default class RunStream {
	private readonly queue: TestResultInput[] = [];
	private readonly overflow: OverflowFile;
	private readonly debug: Debug;
	private runId: string | undefined;
	private opening: Promise<string> | undefined;
	private sending: Promise<void> | undefined;
	private timer: NodeJS.Timeout | undefined;
	private failure: UploadError | undefined;
	private pausedUntil = 0;
	private acknowledged = 0;
	private batchSize: number;
	private batchSeq = 0;

	constructor(private readonly options: RunStreamOptions) {
		this.overflow = new OverflowFile(options.overflowFile);
		this.debug = options.debug ?? createDebug('flackyness:stream');
		this.batchSize = options.batchSize;
	}

	start(): void {
		this.ensureOpen().catch((err: unknown) => this.noteFailure(err));
		this.timer = setInterval(() => this.kick(1), this.options.flushIntervalMs);
		this.timer.unref();
	}

	add(result: TestResultInput): void {
		if (this.queue.length < this.options.maxQueueSize || !this.appendToOverflow(result)) this.queue.push(result);
		if (this.queue.length >= this.batchSize) this.kick(this.batchSize);
	}

	async finish(complete: CompleteRunInput): Promise<StreamOutcome> {
		clearInterval(this.timer);
		const { http } = this.options;
		http.armDeadline(this.options.uploadDeadlineMs);
		// A server that has been failing gets two attempts per request, not the whole backoff
		// schedule: when it is down, the run must not wait for it.
		if (this.failure || http.failing) http.limitAttempts(FINAL_ATTEMPTS_WHEN_FAILING);
		let receipt: RunReceipt | undefined;
		let error: UploadError | undefined;
		try {
			await this.sending;
			if (this.failure?.fatal) throw this.failure;
			this.queue.push(...this.overflow.drain());
			const runId = await this.drain(1);
			receipt = await this.options.api.completeRun(runId, complete, `${this.options.open.idempotencyKey}:complete`);
		} catch (err) {
			error = fromNetworkError(err);
			this.debug(`finish failed: ${error.message}`);
		} finally {
			await this.options.http.close();
		}
		const unsent = [...this.queue, ...this.overflow.drain()];
		return error ? { sent: this.acknowledged, error, unsent } : { receipt, sent: this.acknowledged, unsent };
	}

	/** False when the file cannot be written (disk full, read-only): memory is then the lesser evil. */
	private appendToOverflow(result: TestResultInput): boolean {
		try {
			this.overflow.append(result);
			return true;
		} catch (err) {
			this.debug(`cannot write ${this.overflow.file}: ${err instanceof Error ? err.message : String(err)}`);
			return false;
		}
	}

	private ensureOpen(): Promise<string> {
		if (this.runId) return Promise.resolve(this.runId);
		this.opening ??= this.options.api.openRun(this.options.open).then(
			(receipt) => {
				this.runId = receipt.runId;
				this.failure = undefined;
				this.debug(`run ${receipt.runId} open (${receipt.created ? 'created' : 'existing'})`);
				return receipt.runId;
			},
			(err: unknown) => {
				this.opening = undefined;
				throw err;
			}
		);
		return this.opening;
	}

	/** Starts sending if nothing is being sent, sending is not paused, and at least `min` results wait. */
	private kick(min: number): void {
		if (this.sending || this.failure?.fatal || Date.now() < this.pausedUntil || this.queue.length < min) return;
		this.sending = this.drain(min)
			.then(() => undefined)
			.catch((err: unknown) => this.noteFailure(err))
			.finally(() => {
				this.sending = undefined;
			});
	}

	/** Sends batches while at least `min` results wait. A failed batch goes back to the queue. */
	private async drain(min: number): Promise<string> {
		const runId = await this.ensureOpen();
		while (this.queue.length > 0 && this.queue.length >= min) {
			const batch = this.queue.splice(0, this.batchSize);
			const key = `${this.options.open.idempotencyKey}:results:${++this.batchSeq}`;
			try {
				const receipt = await this.options.api.sendResults(runId, batch, key);
				this.acknowledged += batch.length;
				this.failure = undefined;
				this.debug(`sent ${batch.length} results (${receipt.accepted} accepted, ${receipt.duplicates} duplicates)`);
			} catch (err) {
				this.queue.unshift(...batch);
				if (err instanceof UploadError && err.status === 413 && batch.length > 1) {
					this.batchSize = Math.ceil(batch.length / 2);
					this.debug(`batch too large, now ${this.batchSize} per batch`);
					continue;
				}
				throw err;
			}
		}
		return runId;
	}

	private noteFailure(err: unknown): void {
		this.failure = fromNetworkError(err);
		this.pausedUntil = Date.now() + (this.options.pauseAfterFailureMs ?? 10_000);
		this.debug(`sending paused: ${this.failure.message}${this.failure.fatal ? ' (not retrying)' : ''}`);
	}
}
