import { createHmac } from 'node:crypto';
import { errors as undiciErrors, request } from 'undici';
import type pg from 'pg';
import type { SecretBox } from '../lib/secrets.js';
import { failDelivery, finishDelivery, type ClaimedDelivery } from '../repositories/webhooks.js';
import { retryAfterMs } from './gitlab-client.js';
import { backoffMs } from './gitlab-reports.js';
import { payloadFor, type EventPayload } from './webhooks-format.js';

/**
 * Sends one delivery: the receiver's URL and secret are opened only here, only for the request; the
 * errors kept in the delivery log name the host, never the URL (a Slack or Teams URL is the secret).
 * Redirects are not followed (undici's request never does), the answer is read up to a few KB, and
 * the whole call has a hard timeout: a slow receiver delays only its own deliveries.
 */

export const SIGNATURE_HEADER = 'x-flackyness-signature';
const MAX_ANSWER_BYTES = 8 * 1024;

export const urlContext = (webhookId: string) => `webhooks:${webhookId}:url`;
export const secretContext = (webhookId: string) => `webhooks:${webhookId}:secret`;

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, the generic kind's signature (see README). */
export function signature(secret: string, body: string, at = Date.now()): string {
	const t = Math.floor(at / 1000);
	return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

export interface DeliveryDeps {
	pool: pg.Pool;
	secrets: () => Promise<SecretBox>;
	dashboard: string;
	timeoutMs: number;
	retryBaseMs: number;
}

export interface DeliveryOutcome {
	outcome: 'done' | 'retry' | 'failed';
	status: number | null;
	message: string;
}

class SendError extends Error {
	constructor(
		message: string,
		readonly status: number | null,
		readonly retryable: boolean,
		readonly retryAfter?: number
	) {
		super(message);
	}
}

async function readCapped(body: AsyncIterable<Buffer>): Promise<string> {
	const chunks: Buffer[] = [];
	let size = 0;
	for await (const chunk of body) {
		if (size < MAX_ANSWER_BYTES) chunks.push(chunk);
		size += chunk.length;
		// Past the cap the rest is drained unread, so the connection can be reused.
	}
	return Buffer.concat(chunks).toString('utf8').slice(0, MAX_ANSWER_BYTES);
}

/** Words from the receiver, without anything secret it may echo back. */
function scrub(text: string, secrets: string[]): string {
	let out = text.replace(/\s+/g, ' ').trim().slice(0, 300);
	for (const s of secrets) if (s) out = out.split(s).join('[secret]');
	return out;
}

async function send(d: ClaimedDelivery, url: string, secret: string | null, deps: DeliveryDeps): Promise<number> {
	const body = JSON.stringify(payloadFor(d.kind, d.payload as unknown as EventPayload, deps.dashboard, d.id));
	const headers: Record<string, string> = {
		'content-type': 'application/json',
		'user-agent': 'flackyness-webhooks',
		'x-flackyness-event': d.event,
		'x-flackyness-delivery': d.id
	};
	if (d.kind === 'generic' && secret) headers[SIGNATURE_HEADER] = signature(secret, body);
	const where = `${d.urlHost}`;
	let res: Awaited<ReturnType<typeof request>>;
	let answer: string;
	try {
		res = await request(url, {
			method: 'POST',
			headers,
			body,
			headersTimeout: deps.timeoutMs,
			bodyTimeout: deps.timeoutMs,
			signal: AbortSignal.timeout(deps.timeoutMs)
		});
		answer = await readCapped(res.body);
	} catch (err) {
		const e = err as { name?: string; code?: string; cause?: { code?: string } };
		const timedOut =
			err instanceof undiciErrors.HeadersTimeoutError ||
			err instanceof undiciErrors.BodyTimeoutError ||
			e.name === 'TimeoutError' ||
			e.name === 'AbortError' ||
			e.code === 'UND_ERR_CONNECT_TIMEOUT';
		if (timedOut) throw new SendError(`${where} did not answer within ${Math.round(deps.timeoutMs / 100) / 10} s`, null, true);
		const code = e.code ?? e.cause?.code ?? 'network error';
		throw new SendError(`cannot reach ${where}: ${code === 'ECONNREFUSED' ? 'connection refused' : code === 'ENOTFOUND' ? 'host name does not resolve' : code}`, null, true);
	}
	const status = res.statusCode;
	if (status >= 200 && status < 300) return status;
	const words = scrub(answer, [url, secret ?? '', new URL(url).pathname.length > 1 ? new URL(url).pathname : '']);
	const message = `${where} answered ${status}${words ? `: ${words}` : ''}`;
	if (status === 429 || status === 408 || status >= 500) throw new SendError(message, status, true, retryAfterMs(res.headers['retry-after']));
	// 3xx (redirects are not followed: the URL would travel elsewhere) and other 4xx: fixing needs a person.
	throw new SendError(status >= 300 && status < 400 ? `${message} (a redirect; give the final URL)` : message, status, false);
}

export async function processDelivery(deps: DeliveryDeps, d: ClaimedDelivery): Promise<DeliveryOutcome> {
	try {
		const box = await deps.secrets();
		let url: string;
		let secret: string | null;
		try {
			url = box.open(d.urlSealed, urlContext(d.webhookId));
			secret = d.secretSealed ? box.open(d.secretSealed, secretContext(d.webhookId)) : null;
		} catch (err) {
			throw new SendError(`the stored URL or secret cannot be read: ${(err as Error).message}`, null, false);
		}
		const status = await send(d, url, secret, deps);
		await finishDelivery(deps.pool, d.id, status);
		return { outcome: 'done', status, message: `${d.urlHost} answered ${status}` };
	} catch (err) {
		const e = err instanceof SendError ? err : new SendError((err as Error).message, null, true);
		const outcome = await failDelivery(deps.pool, d, {
			status: e.status,
			message: e.message,
			delayMs: backoffMs(d.attempts, deps.retryBaseMs, e.retryAfter),
			final: !e.retryable
		});
		return { outcome, status: e.status, message: e.message };
	}
}
