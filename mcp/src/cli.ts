#!/usr/bin/env node
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createMcpServer, NAME, VERSION } from './server.js';

const USAGE = `${NAME} ${VERSION}: a read-only MCP server (stdio) over a Flackyness server's read API.

Environment:
  FLACKYNESS_URL    the Flackyness server, e.g. https://flackyness.example.com
  FLACKYNESS_TOKEN  a project token (reads its own project) or an admin token (reads all)
`;

function fail(message: string): never {
	// stdout is the protocol's channel: anything for people goes to stderr.
	process.stderr.write(`${NAME}: ${message}\n\n${USAGE}`);
	process.exit(2);
}

const arg = process.argv[2];
if (arg === '--help' || arg === '-h') {
	process.stdout.write(USAGE);
	process.exit(0);
}
if (arg === '--version') {
	process.stdout.write(`${VERSION}\n`);
	process.exit(0);
}
if (arg !== undefined) fail(`unknown argument ${arg}`);

const url = process.env.FLACKYNESS_URL?.trim();
const token = process.env.FLACKYNESS_TOKEN?.trim();
if (!url) fail('FLACKYNESS_URL is not set');
if (!token) fail('FLACKYNESS_TOKEN is not set');
try {
	const u = new URL(url);
	if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
} catch {
	fail(`FLACKYNESS_URL is not an http(s) address: ${url}`);
}

const server = createMcpServer({ url, token });
await server.connect(new StdioServerTransport());
