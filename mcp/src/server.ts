import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { FlackynessApi, type ApiConfig } from './api.js';
import { registerTools } from './tools.js';

export const NAME = 'flackyness-mcp';
export const VERSION = '0.1.0';

/** The MCP server with its read-only tools over one Flackyness server and token. */
export function createMcpServer(config: ApiConfig): McpServer {
	const server = new McpServer(
		{ name: NAME, version: VERSION },
		{
			instructions:
				'Flackyness tracks flaky Playwright tests. Start with list_projects, then list_flaky_tests or search_tests; explain_test tells why a test is judged flaky or broken and what to do; show_run tells which failures of a CI run are known flaky.'
		}
	);
	registerTools(server, new FlackynessApi(config));
	return server;
}
