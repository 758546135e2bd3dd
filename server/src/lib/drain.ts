import type { IncomingMessage } from 'node:http';

/** How long a refused upload may keep sending before its connection is cut. */
const LINGER_MS = 10_000;

/**
 * Reads and discards what is left of a request body once its answer is sent. A request refused
 * before its body was read (401, 413, 415 from a hook) may have its body piped into a stream that
 * nobody reads any more: Node then neither reads nor drops the rest, and a client that sends its
 * whole body before reading the answer (undici with a Blob) waits until the socket times out.
 * Closing at once would not do either: unread bytes make the kernel reset the connection, which
 * can destroy the answer before the client reads it. So the rest is drained, for a while.
 */
export function drainUnreadBody(raw: IncomingMessage): void {
	if (raw.complete || raw.readableEnded || raw.destroyed) return;
	raw.unpipe();
	const timer = setTimeout(() => raw.destroy(), LINGER_MS);
	timer.unref();
	const stop = () => clearTimeout(timer);
	raw.once('end', stop);
	raw.once('close', stop);
	raw.resume();
}
