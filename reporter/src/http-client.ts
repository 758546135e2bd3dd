import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Agent } from 'undici';
import { createDebug, type Debug } from './log.js';
import { PROTOCOL_HEADER, PROTOCOL_VERSION } from './protocol.js';
import { fromHttpStatus, fromNetworkError, UploadError } from './upload-error.js';

export interface HttpClientOptions {
	/** Server base URL without trailing slash. */
	baseUrl: string;
	token?: string;
	/** Connect timeout, and the timeout for each response's headers and body. */
	requestTimeoutMs: number;
	/** Attempts per request, the first included. Default 5. */
	maxAttempts?: number;
	/** First backoff delay; doubled on each retry, with jitter. Default 500 ms. */
	baseDelayMs?: number;
	/** Longest backoff delay. Default 8 s. */
	maxDelayMs?: number;
	/** A longer `Retry-After` is not waited for. Default 60 s. */
	maxRetryAfterMs?: number;
	userAgent?: string;
	/** For tests: the jitter source. */
	random?: () => number;
	/** For tests: how to wait before a retry (rejects when `signal` aborts). */
	sleep?: (ms: number, signal: AbortSignal) => Promise<unknown>;
	debug?: Debug;
}

export interface HttpRequest {
	method: 'GET' | 'POST';
	path: string;
	json?: unknown;
	/** A raw body; its Content-Type and Content-Encoding go in `headers`. */
	body?: Buffer;
	headers?: Record<string, string>;
	/** Sent as `Idempotency-Key`, the same on every retry of this request. */
	idempotencyKey?: string;
	maxAttempts?: number;
	timeoutMs?: number;
}

export interface HttpResponse {
	status: number;
	body: unknown;
}

const defaultSleep = (ms: number, signal: AbortSignal) => sleep(ms, undefined, { signal });

const require = createRequire(import.meta.url);

/**
 * undici, loaded on first use: it costs about a tenth of a second of CPU to load, which runs that
 * send nothing (no URL, disabled, `merge-reports`) should not pay.
 */
function undici(): typeof import('undici') {
	return require('undici') as typeof import('undici');
}

/** Delay before retry number `attempt` (1-based): exponential, with "equal jitter". */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
	const exp = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
	return Math.round(exp / 2 + random() * (exp / 2));
}

/** `Retry-After` in ms: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
	const v = Array.isArray(value) ? value[0] : value;
	if (!v) return undefined;
	if (/^\s*\d+(\.\d+)?\s*$/.test(v)) return Math.round(Number(v) * 1000);
	const date = Date.parse(v);
	return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * JSON over HTTP to the Flackyness server: one keep-alive connection pool, timeouts on every
 * phase, retries with backoff on network errors, 408, 429 and 5xx, and a deadline after which
 * everything in flight is abandoned.
 */
export default class HttpClient {
	private readonly agent: Agent;
	private readonly controller = new AbortController();
	private readonly debug: Debug;
	private deadlineAt: number | undefined;
	private deadlineTimer: NodeJS.Timeout | undefined;
	/** The latest failure of any request: what to blame when the deadline strikes between requests. */
	private latestError: UploadError | undefined;
	/** Whether the latest attempt of any request failed in a way worth retrying (down, timeout, 5xx). */
	private lastAttemptFailed = false;
	/** Set by limitAttempts: a cap on attempts for every request, those already retrying included. */
	private attemptLimit = Infinity;
	private waking = new AbortController();

	constructor(private readonly options: HttpClientOptions) {
		this.debug = options.debug ?? createDebug('flackyness:http');
		this.agent = new (undici().Agent)({
			keepAliveTimeout: 10_000,
			connections: 4,
			connect: { timeout: options.requestTimeoutMs },
			headersTimeout: options.requestTimeoutMs,
			bodyTimeout: options.requestTimeoutMs
		});
	}

	/** From now on, everything must be done within `ms`; what is in flight then is aborted. */
	armDeadline(ms: number): void {
		const at = Date.now() + ms;
		if (this.deadlineAt !== undefined && this.deadlineAt <= at) return;
		this.deadlineAt = at;
		clearTimeout(this.deadlineTimer);
		this.deadlineTimer = setTimeout(() => this.controller.abort(), ms);
		this.deadlineTimer.unref();
	}

	get deadlinePassed(): boolean {
		return this.controller.signal.aborted;
	}

	/** The server did not answer, or answered with a retryable error, the last time it was asked. */
	get failing(): boolean {
		return this.lastAttemptFailed;
	}

	/**
	 * Caps the attempts of every request from now on, and ends the waits of requests already
	 * retrying: at the end of a run, a server that has been failing gets a short last chance
	 * rather than the whole backoff schedule.
	 */
	limitAttempts(max: number): void {
		this.attemptLimit = max;
		this.waking.abort();
		this.waking = new AbortController();
	}

	async close(): Promise<void> {
		clearTimeout(this.deadlineTimer);
		try {
			await this.agent.destroy();
		} catch {
			// Already closed.
		}
	}

	async request(req: HttpRequest): Promise<HttpResponse> {
		const requested = req.maxAttempts ?? this.options.maxAttempts ?? 5;
		let lastError: UploadError | undefined;
		for (let attempt = 1; ; attempt++) {
			if (this.controller.signal.aborted) throw this.deadlineError(lastError);
			try {
				const response = await this.attempt(req);
				this.lastAttemptFailed = response.status >= 500 || response.status === 408 || response.status === 429;
				if (response.status < 400) return response;
				throw fromHttpStatus(response.status, response.body, response.retryAfterMs);
			} catch (err) {
				if (this.controller.signal.aborted) throw this.deadlineError(lastError);
				lastError = fromNetworkError(err);
				this.latestError = lastError;
				if (lastError.kind !== 'http') this.lastAttemptFailed = true;
			}
			const maxAttempts = Math.min(requested, this.attemptLimit);
			this.debug(`${req.method} ${req.path} attempt ${attempt}/${maxAttempts}: ${lastError.message}`);
			if (!lastError.retryable || attempt >= maxAttempts) throw lastError;
			const delay = this.retryDelay(attempt, lastError);
			if (delay === undefined) throw lastError;
			const waking = this.waking.signal;
			try {
				await (this.options.sleep ?? defaultSleep)(delay, AbortSignal.any([this.controller.signal, waking]));
			} catch {
				if (this.controller.signal.aborted) throw this.deadlineError(lastError);
				// Woken by limitAttempts: go on only if the new limit allows another attempt.
				if (attempt >= this.attemptLimit) throw lastError;
			}
		}
	}

	/** Undefined when waiting would pass the deadline or exceed the longest acceptable Retry-After. */
	private retryDelay(attempt: number, error: UploadError): number | undefined {
		const { baseDelayMs = 500, maxDelayMs = 8000, maxRetryAfterMs = 60_000, random } = this.options;
		const retryAfter = error.options.retryAfterMs;
		if (retryAfter !== undefined && retryAfter > maxRetryAfterMs) return undefined;
		const delay = retryAfter ?? backoffDelay(attempt, baseDelayMs, maxDelayMs, random);
		if (this.deadlineAt !== undefined && Date.now() + delay >= this.deadlineAt) return undefined;
		return delay;
	}

	private deadlineError(lastOfRequest: UploadError | undefined): UploadError {
		const last = lastOfRequest ?? this.latestError;
		return new UploadError(last ? `${last.message}; gave up at the upload deadline` : 'no answer before the upload deadline', 'deadline');
	}

	private async attempt(req: HttpRequest): Promise<HttpResponse & { retryAfterMs?: number }> {
		const headers: Record<string, string> = {
			accept: 'application/json',
			'user-agent': this.options.userAgent ?? 'flackyness-reporter',
			[PROTOCOL_HEADER]: String(PROTOCOL_VERSION),
			...req.headers
		};
		if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
		if (req.idempotencyKey) headers['idempotency-key'] = req.idempotencyKey;
		let body: Buffer | string | undefined = req.body;
		if (req.json !== undefined) {
			body = JSON.stringify(req.json);
			headers['content-type'] = 'application/json';
		}
		const timeout = req.timeoutMs ?? this.options.requestTimeoutMs;
		const res = await undici().request(`${this.options.baseUrl}${req.path}`, {
			method: req.method,
			headers,
			body,
			dispatcher: this.agent,
			signal: this.controller.signal,
			headersTimeout: timeout,
			bodyTimeout: timeout
		});
		const text = await res.body.text();
		let parsed: unknown = text;
		try {
			parsed = text ? JSON.parse(text) : undefined;
		} catch {
			// Not JSON: a proxy's error page, say. Kept as text for the message.
		}
		const retryAfterMs = res.statusCode >= 400 ? parseRetryAfter(res.headers['retry-after']) : undefined;
		return retryAfterMs === undefined ? { status: res.statusCode, body: parsed } : { status: res.statusCode, body: parsed, retryAfterMs };
	}
}
