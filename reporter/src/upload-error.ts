/** Why a request to the server failed, in words fit for one terminal line. Never holds the token. */

export type UploadErrorKind = 'network' | 'timeout' | 'http' | 'deadline' | 'protocol' | 'config';

export class UploadError extends Error {
	constructor(
		message: string,
		readonly kind: UploadErrorKind,
		readonly options: { status?: number; retryable?: boolean; retryAfterMs?: number } = {}
	) {
		super(message);
		this.name = 'UploadError';
	}

	get status(): number | undefined {
		return this.options.status;
	}

	get retryable(): boolean {
		return this.options.retryable ?? false;
	}

	/** Not worth trying again with the same request and token: auth, validation, size. */
	get fatal(): boolean {
		return this.kind === 'config' || this.kind === 'protocol' || (this.kind === 'http' && !this.retryable);
	}
}

const NETWORK_CODES: Record<string, string> = {
	ECONNREFUSED: 'connection refused',
	ECONNRESET: 'connection reset',
	EPIPE: 'connection closed',
	ENOTFOUND: 'host not found (DNS)',
	EAI_AGAIN: 'host not found (DNS, temporary)',
	EHOSTUNREACH: 'host unreachable',
	ENETUNREACH: 'network unreachable',
	ETIMEDOUT: 'connection timed out',
	UND_ERR_SOCKET: 'connection closed by the server',
	UND_ERR_CLOSED: 'connection closed',
	CERT_HAS_EXPIRED: 'TLS certificate expired',
	DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed TLS certificate',
	UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS certificate not trusted'
};

const TIMEOUT_CODES: Record<string, string> = {
	UND_ERR_CONNECT_TIMEOUT: 'connect timeout',
	UND_ERR_HEADERS_TIMEOUT: 'no response in time',
	UND_ERR_BODY_TIMEOUT: 'response body stalled'
};

function codeOf(err: unknown): string | undefined {
	for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
		const code = (e as { code?: unknown }).code;
		if (typeof code === 'string') return code;
	}
	return undefined;
}

/** An exception from undici → UploadError (network errors and timeouts are retryable). */
export function fromNetworkError(err: unknown): UploadError {
	if (err instanceof UploadError) return err;
	const code = codeOf(err);
	if (code && TIMEOUT_CODES[code]) return new UploadError(TIMEOUT_CODES[code], 'timeout', { retryable: true });
	const known = code ? NETWORK_CODES[code] : undefined;
	const message = known ?? (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 200);
	return new UploadError(code && !known ? `${message} (${code})` : message, 'network', { retryable: true });
}

/** A 4xx/5xx answer → UploadError; 408, 429 and 5xx are retryable. */
export function fromHttpStatus(status: number, body: unknown, retryAfterMs?: number): UploadError {
	const message = body && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string' ? (body as { message: string }).message : '';
	const what: Record<number, string> = {
		400: 'request rejected',
		401: 'token rejected',
		403: 'token not allowed for this project',
		404: 'not found (is the URL the Flackyness server?)',
		413: 'too large for the server',
		422: 'report refused',
		429: 'rate limited'
	};
	const text = `${what[status] ?? (status >= 500 ? 'server error' : 'request failed')} (HTTP ${status}${message ? `: ${message.slice(0, 200)}` : ''})`;
	const retryable = status === 408 || status === 429 || status >= 500;
	return new UploadError(text, 'http', retryAfterMs === undefined ? { status, retryable } : { status, retryable, retryAfterMs });
}
