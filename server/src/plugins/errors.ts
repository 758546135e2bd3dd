import { STATUS_CODES } from 'node:http';
import fp from 'fastify-plugin';
import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { drainUnreadBody } from '../lib/drain.js';
import { HttpError, isDatabaseUnavailable } from '../lib/http-errors.js';

/** Node's reason phrases ("Not Found", "Too Many Requests"), the `error` field of every error answer. */
const STATUS_NAMES: Readonly<Record<number, string | undefined>> = STATUS_CODES;

/** PostgreSQL gave up on a statement: statement_timeout (57014) or lock_timeout (55P03). */
const DB_TIMEOUT_CODES = new Set(['57014', '55P03']);

/**
 * True when the database did not answer in time: a statement or lock timeout fired on the server,
 * or the client stopped waiting for a server that does not answer at all (see db/database.ts).
 * Prisma wraps the driver's error; its code is then found in `cause` or the driver adapter's meta.
 */
export function isDatabaseTimeout(err: unknown): boolean {
	let e: unknown = err;
	for (let depth = 0; e && depth < 5; depth++) {
		const { code, message, meta } = e as { code?: unknown; message?: unknown; meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } } };
		if (typeof code === 'string' && DB_TIMEOUT_CODES.has(code)) return true;
		const original = meta?.driverAdapterError?.cause?.originalCode;
		if (typeof original === 'string' && DB_TIMEOUT_CODES.has(original)) return true;
		if (typeof message === 'string' && /Query read timeout|canceling statement due to (statement|lock) timeout/.test(message)) return true;
		e = (e as { cause?: unknown }).cause;
	}
	return false;
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
	let out = '';
	for (const part of path) out += typeof part === 'number' ? `[${part}]` : out ? `.${String(part)}` : String(part);
	return out;
}

/** The one error handler: precise 4xx messages, generic 5xx answers with a request id. */
export default fp(
	async function errors(app: FastifyInstance) {
		app.setErrorHandler((err: FastifyError, request, reply) => {
			if (hasZodFastifySchemaValidationErrors(err)) {
				const where = err.validationContext ?? 'request';
				const first = err.validation[0];
				const details = err.validation.slice(0, 10).map((v) => {
					const p = formatPath(
						v.instancePath
							.split('/')
							.filter(Boolean)
							.map((part: string) => (/^\d+$/.test(part) ? Number(part) : part))
					);
					return `${where}${p ? `.${p}` : ''}: ${v.message}`;
				});
				return reply.code(400).send({
					statusCode: 400,
					error: 'Bad Request',
					message: details[0] ?? `${where}: ${first?.message ?? 'invalid'}`,
					details,
					requestId: request.id
				});
			}
			if (err instanceof HttpError) {
				for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
			}
			const status = err.statusCode ?? 500;
			if (status === 401 || status === 403) {
				request.log.warn({ event: 'auth.failed', status, reason: err.message, route: request.routeOptions.url }, 'authentication failed');
			} else if (status === 429) {
				request.log.warn({ event: 'ratelimit.hit', route: request.routeOptions.url }, 'rate limit hit');
			}
			if (status >= 400 && status < 500 && !isResponseSerializationError(err)) {
				return reply.code(status).send({
					statusCode: status,
					error: STATUS_NAMES[status] ?? 'Client Error',
					message: clientMessage(err, status),
					requestId: request.id
				});
			}
			// An HttpError's message is written for the client, whatever its status (503 when busy).
			if (err instanceof HttpError && status >= 500) {
				request.log.warn({ status, reason: err.message }, 'request refused');
				return reply.code(status).send({
					statusCode: status,
					error: STATUS_NAMES[status] ?? 'Server Error',
					message: err.message,
					requestId: request.id
				});
			}
			// A unique index lost a race that the query's own check could not see.
			if ((err as { code?: string }).code === '23505') {
				return reply.code(409).send({
					statusCode: 409,
					error: 'Conflict',
					message: 'That conflicts with a record created at the same moment; retry.',
					requestId: request.id
				});
			}
			// PostgreSQL text cannot hold NUL: a parameter carrying one ("%00" in a path or query) is the
			// client's mistake, not a server failure.
			if (err.code === '22021') {
				return reply.code(400).send({
					statusCode: 400,
					error: 'Bad Request',
					message: 'The request contains a character that cannot be stored or searched for (NUL, U+0000).',
					requestId: request.id
				});
			}
			if (isDatabaseTimeout(err)) {
				request.log.warn({ event: 'db.timeout', err: { message: err.message, code: err.code } }, 'database did not answer in time');
				reply.header('Retry-After', '5');
				return reply.code(503).send({
					statusCode: 503,
					error: 'Service Unavailable',
					message: 'The database did not answer in time; retry shortly.',
					requestId: request.id
				});
			}
			if (isDatabaseUnavailable(err)) {
				request.log.warn({ err: { message: err.message, code: err.code } }, 'database unavailable');
				reply.header('Retry-After', '5');
				return reply.code(503).send({
					statusCode: 503,
					error: 'Service Unavailable',
					message: 'The database cannot be reached right now; retry shortly.',
					requestId: request.id
				});
			}
			request.log.error({ err, method: request.method, url: request.routeOptions.url ?? request.url }, 'request failed');
			const code = status >= 500 ? status : 500;
			return reply.code(code).send({
				statusCode: code,
				error: STATUS_NAMES[code] ?? 'Server Error',
				message: `Something went wrong on our side; it was logged with request id ${request.id}.`,
				requestId: request.id
			});
		});

		// Early refusals (and any answer sent before the body was read) must not leave it unread.
		app.addHook('onResponse', async (request) => drainUnreadBody(request.raw));

		app.setNotFoundHandler((request, reply) => {
			return reply.code(404).send({
				statusCode: 404,
				error: 'Not Found',
				message: `No route for ${request.method} ${request.url.split('?')[0]}`,
				requestId: request.id
			});
		});
	},
	{ name: 'errors' }
);

function clientMessage(err: FastifyError, status: number): string {
	switch (err.code) {
		case 'FST_ERR_CTP_BODY_TOO_LARGE':
			return 'The request body is larger than this server accepts (BODY_LIMIT).';
		case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
			return `Unsupported Content-Type; send application/json or multipart/form-data.`;
		case 'FST_ERR_CTP_EMPTY_JSON_BODY':
			return 'The body is empty; send a JSON document.';
		case 'FST_ERR_CTP_INVALID_JSON_BODY':
		case undefined:
			break;
	}
	if (err instanceof SyntaxError || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
		return `The body is not valid JSON: ${err.message}`;
	}
	return err.message || STATUS_NAMES[status] || 'Bad request';
}
