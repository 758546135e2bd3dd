import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/** The built MCP server spawned over stdio by the SDK's client, as Claude Code or another client starts it. */
export async function connect(url: string, token: string): Promise<Client> {
	const transport = new StdioClientTransport({
		command: process.execPath,
		args: [CLI],
		env: { FLACKYNESS_URL: url, FLACKYNESS_TOKEN: token },
		stderr: 'pipe'
	});
	const client = new Client({ name: 'flackyness-mcp-test', version: '1.0.0' });
	await client.connect(transport);
	return client;
}

/** Calls a tool; `text` joins its text content. */
export async function call(client: Client, name: string, args: Record<string, unknown>) {
	const res = (await client.callTool({ name, arguments: args })) as CallToolResult;
	const text = res.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
	return { ...res, text };
}
