/**
 * A small Flackyness server for tests, on 127.0.0.1: implements the protocol in memory, records
 * every request, and can be told to misbehave (500, hang, 429, 401, …) per request.
 */
import { randomUUID } from 'node:crypto';
import http, { type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface RecordedRequest {
	method: string;
	url: string;
	headers: IncomingHttpHeaders;
	raw: Buffer;
	body: unknown;
	at: number;
}

export interface StoredRun {
	runId: string;
	open: Record<string, unknown>;
	results: Map<string, Record<string, unknown>>;
	duplicates: number;
	complete?: Record<string, unknown>;
}

/**
 * Decides the answer to one request. Return `undefined` to let the protocol implementation
 * answer, `'hang'` to never answer, or a status (with optional headers and body).
 */
export type Fault = (req: RecordedRequest, index: number) => undefined | 'hang' | 'destroy' | { status: number; headers?: Record<string, string>; body?: unknown };

export interface FakeServer {
	url: string;
	port: number;
	requests: RecordedRequest[];
	runs: Map<string, StoredRun>;
	reports: RecordedRequest[];
	quarantine: { file: string; titlePath: string[]; projectName?: string }[] | null;
	fault: Fault | undefined;
	close(): Promise<void>;
}

export function resultKey(r: Record<string, unknown>): string {
	return JSON.stringify([r.file, r.titlePath, r.projectName ?? '']);
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
	res.writeHead(status, { 'content-type': 'application/json', ...headers });
	res.end(body === undefined ? '' : JSON.stringify(body));
}

function receipt(server: FakeServer, run: StoredRun, created: boolean) {
	const counts = { total: run.results.size, expected: 0, unexpected: 0, flaky: 0, skipped: 0 };
	for (const r of run.results.values()) counts[r.outcome as 'expected']++;
	return { runId: run.runId, created, status: run.complete ? String(run.complete.status) : 'running', counts, url: `/runs/${run.runId}` };
}

function handle(server: FakeServer, req: RecordedRequest, res: ServerResponse): void {
	if (req.headers.authorization !== 'Bearer test-token') {
		return json(res, 401, { statusCode: 401, error: 'Unauthorized', message: 'invalid token' });
	}
	const body = req.body as Record<string, unknown>;
	if (req.method === 'GET' && req.url === '/api/v1/quarantine') {
		if (!server.quarantine) return json(res, 404, { statusCode: 404, error: 'Not Found', message: 'no route' });
		return json(res, 200, { tests: server.quarantine });
	}
	if (req.method === 'POST' && req.url === '/api/v1/runs') {
		const existing = [...server.runs.values()].find((r) => body.idempotencyKey && r.open.idempotencyKey === body.idempotencyKey);
		if (existing) return json(res, 200, receipt(server, existing, false));
		const run: StoredRun = { runId: randomUUID(), open: body, results: new Map(), duplicates: 0 };
		server.runs.set(run.runId, run);
		return json(res, 201, receipt(server, run, true));
	}
	if (req.method === 'POST' && req.url === '/api/v1/reports') {
		server.reports.push(req);
		const run: StoredRun = { runId: randomUUID(), open: { headers: req.headers }, results: new Map(), duplicates: 0, complete: { status: 'passed' } };
		server.runs.set(run.runId, run);
		return json(res, 201, receipt(server, run, true));
	}
	const m = req.url.match(/^\/api\/v1\/runs\/([^/]+)\/(results|complete)$/);
	const run = m ? server.runs.get(m[1]!) : undefined;
	if (!m || !run) return json(res, 404, { statusCode: 404, error: 'Not Found', message: `no ${req.url}` });
	if (m[2] === 'results') {
		const results = body.results as Record<string, unknown>[];
		let accepted = 0;
		for (const r of results) {
			if (run.results.has(resultKey(r))) run.duplicates++;
			else accepted++;
			run.results.set(resultKey(r), r);
		}
		return json(res, 200, { accepted, duplicates: results.length - accepted });
	}
	run.complete = body;
	return json(res, 200, receipt(server, run, false));
}

export async function startFakeServer(fault?: Fault): Promise<FakeServer> {
	const sockets = new Set<import('node:net').Socket>();
	const server: FakeServer = {
		url: '',
		port: 0,
		requests: [],
		runs: new Map(),
		reports: [],
		quarantine: null,
		fault,
		close: async () => {
			for (const s of sockets) s.destroy();
			await new Promise<void>((resolve) => httpServer.close(() => resolve()));
		}
	};
	const httpServer = http.createServer((req, res) => {
		const chunks: Buffer[] = [];
		req.on('data', (c: Buffer) => chunks.push(c));
		req.on('end', () => {
			let raw = Buffer.concat(chunks);
			if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
			let body: unknown;
			try {
				body = raw.length ? JSON.parse(raw.toString('utf8')) : undefined;
			} catch {
				body = raw.toString('utf8');
			}
			const recorded: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, raw, body, at: Date.now() };
			const index = server.requests.push(recorded) - 1;
			const answer = server.fault?.(recorded, index);
			if (answer === 'hang') return;
			if (answer === 'destroy') return req.socket.destroy();
			if (answer) return json(res, answer.status, answer.body ?? { statusCode: answer.status, error: 'Fault', message: 'injected' }, answer.headers);
			handle(server, recorded, res);
		});
	});
	httpServer.on('connection', (s) => {
		sockets.add(s);
		s.on('close', () => sockets.delete(s));
	});
	await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', () => resolve()));
	server.port = (httpServer.address() as AddressInfo).port;
	server.url = `http://127.0.0.1:${server.port}`;
	return server;
}

/** A URL where nothing listens. */
export async function closedPortUrl(): Promise<string> {
	const s = http.createServer();
	await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
	const port = (s.address() as AddressInfo).port;
	await new Promise<void>((resolve) => s.close(() => resolve()));
	return `http://127.0.0.1:${port}`;
}

/** All results the server stored, across runs. */
export function storedResults(server: FakeServer): Record<string, unknown>[] {
	return [...server.runs.values()].flatMap((r) => [...r.results.values()]);
}
