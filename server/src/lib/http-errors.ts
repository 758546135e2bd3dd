/** An error whose message is meant for the client, with the HTTP status to answer. */
export class HttpError extends Error {
	constructor(
		readonly statusCode: number,
		message: string,
		readonly headers: Record<string, string> = {}
	) {
		super(message);
		this.name = 'HttpError';
	}
}

const DB_UNAVAILABLE_CODES = new Set([
	'ECONNREFUSED',
	'ECONNRESET',
	'ETIMEDOUT',
	'EPIPE',
	'57P01', // admin_shutdown
	'57P02', // crash_shutdown
	'57P03', // cannot_connect_now
	'53300', // too_many_connections
	'08000',
	'08001',
	'08003',
	'08006'
]);

/** True when the error means the database cannot be reached right now (answer 503, not 500). */
export function isDatabaseUnavailable(err: unknown): boolean {
	let e: unknown = err;
	for (let depth = 0; e && depth < 5; depth++) {
		const code = (e as { code?: unknown }).code;
		if (typeof code === 'string' && DB_UNAVAILABLE_CODES.has(code)) return true;
		const msg = (e as { message?: unknown }).message;
		if (
			typeof msg === 'string' &&
			/Connection terminated|connection timeout|timeout exceeded when trying to connect|Can't reach database|the database system is (starting up|shutting down)|has encountered a connection error and is not queryable/i.test(
				msg
			)
		)
			return true;
		e = (e as { cause?: unknown }).cause;
	}
	return false;
}
