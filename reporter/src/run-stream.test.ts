import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { closedPortUrl, startFakeServer, storedResults, type Fault, type FakeServer } from '../test/helpers/fake-server.js';
import FlackynessApi from './api.js';
import HttpClient from './http-client.js';
import type { TestResultInput } from './protocol.js';
import RunStream, { type RunStreamOptions } from './run-stream.js';

let server: FakeServer | undefined;
afterEach(async () => {
	await server?.close();
	server = undefined;
});

function results(n: number): TestResultInput[] {
	return Array.from({ length: n }, (_, i) => ({
		file: 'a.spec.ts',
		titlePath: [`test ${i}`],
		projectName: '',
		outcome: 'expected',
		expectedStatus: 'passed',
		status: 'passed',
		attempts: 1,
		failedAttempts: 0,
		durationMs: 1,
		startedAt: '2026-01-01T00:00:00.000Z'
	}));
}

function stream(url: string, extra: Partial<RunStreamOptions> = {}) {
	const http = new HttpClient({ baseUrl: url, token: 'test-token', requestTimeoutMs: 1000, maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 20 });
	const dir = mkdtempSync(path.join(os.tmpdir(), 'flackyness-stream-'));
	return new RunStream({
		api: new FlackynessApi(http),
		http,
		open: { idempotencyKey: 'run-key-0001', ci: { provider: 'local' } },
		batchSize: 10,
		flushIntervalMs: 60_000,
		uploadDeadlineMs: 5000,
		maxQueueSize: 1000,
		overflowFile: path.join(dir, 'queue.jsonl'),
		pauseAfterFailureMs: 0,
		...extra
	});
}

const complete = { status: 'passed' as const, durationMs: 5, stats: { expected: 25, unexpected: 0, flaky: 0, skipped: 0 } };
const posts = (s: FakeServer, suffix: string) => s.requests.filter((r) => r.url.endsWith(suffix));

async function until(check: () => boolean): Promise<void> {
	for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
}

describe('RunStream', () => {
	it('opens the run at once, sends full batches during the run and the rest at the end', async () => {
		server = await startFakeServer();
		const s = stream(server.url);
		s.start();
		for (const r of results(25)) s.add(r);
		await until(() => posts(server!, '/results').length >= 2);
		expect(posts(server, '/results').map((r) => (r.body as { results: unknown[] }).results.length)).toEqual([10, 10]);
		const outcome = await s.finish(complete);
		expect(outcome.error).toBeUndefined();
		expect(outcome.sent).toBe(25);
		expect(outcome.unsent).toEqual([]);
		expect(outcome.receipt?.url).toMatch(/^\/runs\//);
		expect(posts(server, '/runs')).toHaveLength(1);
		expect(storedResults(server)).toHaveLength(25);
		expect([...server.runs.values()][0]!.complete).toEqual(complete);
	});

	it('sends partial batches at the flush interval', async () => {
		server = await startFakeServer();
		const s = stream(server.url, { flushIntervalMs: 20 });
		s.start();
		for (const r of results(3)) s.add(r);
		await until(() => posts(server!, '/results').length >= 1);
		expect(storedResults(server)).toHaveLength(3);
		await s.finish(complete);
	});

	it('opens the run again when the first attempt failed, and loses nothing', async () => {
		server = await startFakeServer((req, i) => (req.url === '/api/v1/runs' && i < 2 ? { status: 503 } : undefined));
		const s = stream(server.url);
		s.start();
		for (const r of results(15)) s.add(r);
		const outcome = await s.finish(complete);
		expect(outcome.error).toBeUndefined();
		expect(server.runs.size).toBe(1);
		expect(storedResults(server)).toHaveLength(15);
	});

	it('halves batches the server finds too large', async () => {
		server = await startFakeServer((req) => (req.url.endsWith('/results') && (req.body as { results: unknown[] }).results.length > 3 ? { status: 413 } : undefined));
		const s = stream(server.url);
		s.start();
		for (const r of results(10)) s.add(r);
		const outcome = await s.finish(complete);
		expect(outcome.error).toBeUndefined();
		expect(storedResults(server)).toHaveLength(10);
	});

	it('returns everything unsent when the server is down', async () => {
		const s = stream(await closedPortUrl());
		s.start();
		for (const r of results(12)) s.add(r);
		const outcome = await s.finish(complete);
		expect(outcome.error?.message).toBe('connection refused');
		expect(outcome.unsent).toHaveLength(12);
		expect(outcome.sent).toBe(0);
	});

	it('stops at a rejected token and keeps the results for the spool', async () => {
		server = await startFakeServer();
		const http = new HttpClient({ baseUrl: server.url, token: 'wrong', requestTimeoutMs: 1000 });
		const s = new RunStream({
			api: new FlackynessApi(http),
			http,
			open: { idempotencyKey: 'run-key-0002', ci: {} },
			batchSize: 5,
			flushIntervalMs: 60_000,
			uploadDeadlineMs: 5000,
			maxQueueSize: 1000,
			overflowFile: path.join(os.tmpdir(), 'unused.jsonl')
		});
		s.start();
		for (const r of results(7)) s.add(r);
		const outcome = await s.finish(complete);
		expect(outcome.error?.status).toBe(401);
		expect(outcome.unsent).toHaveLength(7);
		expect(server.requests).toHaveLength(1);
	});

	it('keeps results beyond the queue capacity in a file, and sends them at the end', async () => {
		server = await startFakeServer();
		const overflowFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'flackyness-overflow-')), 'queue.jsonl');
		const s = stream(server.url, { maxQueueSize: 4, batchSize: 100, overflowFile });
		s.start();
		for (const r of results(10)) s.add(r);
		expect(existsSync(overflowFile)).toBe(true);
		const outcome = await s.finish(complete);
		expect(outcome.error).toBeUndefined();
		expect(storedResults(server)).toHaveLength(10);
		expect(existsSync(overflowFile)).toBe(false);
	});

	it('gives up on a hanging server at the deadline', async () => {
		const hang: Fault = () => 'hang';
		server = await startFakeServer(hang);
		const s = stream(server.url, { uploadDeadlineMs: 800 });
		s.start();
		for (const r of results(3)) s.add(r);
		const started = Date.now();
		const outcome = await s.finish(complete);
		expect(outcome.error?.kind).toBe('deadline');
		expect(outcome.unsent).toHaveLength(3);
		expect(Date.now() - started).toBeLessThan(10_000);
	});
});
