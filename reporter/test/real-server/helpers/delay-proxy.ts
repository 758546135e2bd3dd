/**
 * An HTTP proxy on 127.0.0.1 in front of the real server that makes it slow (each request waits
 * `delayMs` before it is passed on) or hanging (requests are read and never answered).
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type ProxyMode = { kind: 'delay'; delayMs: number } | { kind: 'hang' };

export interface DelayProxy {
	url: string;
	/** Requests received, in order. */
	requests: { method: string; url: string; at: number }[];
	close(): Promise<void>;
}

export async function startDelayProxy(target: string, mode: ProxyMode): Promise<DelayProxy> {
	const targetUrl = new URL(target);
	const sockets = new Set<Socket>();
	const timers = new Set<NodeJS.Timeout>();
	const requests: DelayProxy['requests'] = [];
	const server = http.createServer((req, res) => {
		requests.push({ method: req.method ?? '', url: req.url ?? '', at: Date.now() });
		const chunks: Buffer[] = [];
		req.on('data', (c: Buffer) => chunks.push(c));
		req.on('end', () => {
			if (mode.kind === 'hang') return;
			const timer = setTimeout(() => {
				timers.delete(timer);
				const upstream = http.request(
					{
						host: targetUrl.hostname,
						port: targetUrl.port,
						method: req.method,
						path: req.url,
						headers: { ...req.headers, host: targetUrl.host }
					},
					(answer) => {
						res.writeHead(answer.statusCode ?? 502, answer.headers);
						answer.pipe(res);
					}
				);
				upstream.on('error', () => res.destroy());
				upstream.end(Buffer.concat(chunks));
			}, mode.delayMs);
			timers.add(timer);
		});
	});
	server.on('connection', (s) => {
		sockets.add(s);
		s.on('close', () => sockets.delete(s));
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
	return {
		url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
		requests,
		async close() {
			for (const t of timers) clearTimeout(t);
			for (const s of sockets) s.destroy();
			await new Promise<void>((resolve) => server.close(() => resolve()));
		}
	};
}
