/**
 * Answers that are not the read API's: a server that rate-limits the token, a proxy in front of a
 * server that is down, and a misconfigured server. Each comes back as a tool error with a clear
 * message, and the MCP server goes on answering.
 */
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRealServer, type Project, type RealServer } from '../../reporter/test/real-server/helpers/server.js';
import { CLI, call, connect } from './helpers/client.js';

describe('flackyness-mcp: errors', () => {
	let server: RealServer;
	let project: Project;
	let proxy: http.Server;
	let proxyUrl: string;

	beforeAll(async () => {
		server = await startRealServer({ RATE_LIMIT_READS: '2' });
		project = await server.createProject('limited');
		// What a reverse proxy answers when the server behind it is down.
		proxy = http.createServer((_req, res) => {
			res.writeHead(502, { 'content-type': 'text/html' });
			res.end('<html><body><h1>502 Bad Gateway</h1></body></html>');
		});
		await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
		proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
	});

	afterAll(async () => {
		await server?.destroy();
		await new Promise((resolve) => proxy?.close(resolve));
	});

	it('passes a rate limit on as a tool error that says when to retry', async () => {
		const client = await connect(server.url, project.token);
		try {
			const answers = [];
			for (let i = 0; i < 3; i++) answers.push(await call(client, 'list_projects', {}));
			expect(answers.slice(0, 2).map((a) => a.isError ?? false)).toEqual([false, false]);
			expect(answers[2]!.isError).toBe(true);
			expect(answers[2]!.text).toMatch(/^Flackyness is rate limiting this token \(429\): retry in \d+ s\.$/);
		} finally {
			await client.close();
		}
	});

	it('turns a 5xx from a proxy into a tool error', async () => {
		const client = await connect(proxyUrl, project.token);
		try {
			const res = await call(client, 'show_run', { runId: '00000000-0000-4000-8000-000000000000' });
			expect(res.isError).toBe(true);
			expect(res.text).toBe('The Flackyness server failed (502); try again later or look at its logs.');
			// Still answering.
			expect((await call(client, 'list_projects', {})).isError).toBe(true);
		} finally {
			await client.close();
		}
	});

	it('refuses to start without its configuration, saying what is missing', () => {
		const run = (env: Record<string, string>) =>
			spawnSync(process.execPath, [CLI], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', input: '' });
		const noUrl = run({ FLACKYNESS_TOKEN: 'x' });
		expect(noUrl.status).toBe(2);
		expect(noUrl.stdout).toBe('');
		expect(noUrl.stderr).toMatch(/^flackyness-mcp: FLACKYNESS_URL is not set\n/);
		const noToken = run({ FLACKYNESS_URL: server.url });
		expect(noToken.status).toBe(2);
		expect(noToken.stderr).toMatch(/^flackyness-mcp: FLACKYNESS_TOKEN is not set\n/);
		const badUrl = run({ FLACKYNESS_URL: 'ftp://example.com', FLACKYNESS_TOKEN: 'x' });
		expect(badUrl.stderr).toMatch(/^flackyness-mcp: FLACKYNESS_URL is not an http\(s\) address: ftp:\/\/example\.com\n/);
	});
});
