#!/usr/bin/env node
/**
 * `flackyness-reporter upload <file>…`: sends spool files and Playwright JSON reports to a
 * Flackyness server. Exit code 0 when every file was sent, 1 when one failed, 2 on bad usage.
 */
import { parseArgs } from 'node:util';
import FlackynessApi from './api.js';
import HttpClient from './http-client.js';
import { displayUrl, printLine } from './log.js';
import { optionEnvVars, resolveOptions } from './options.js';
import { readJsonFile, isSpool } from './spool.js';
import { uploadFile } from './upload.js';
import { fromNetworkError } from './upload-error.js';

const USAGE = `Usage: flackyness-reporter upload [--url <server>] <file>...

Sends files to a Flackyness server:
  - spool files, written by the reporter when the server could not be reached: the run is
    opened (or found again), its results sent and the run completed;
  - Playwright JSON reports (--reporter=json): sent whole, gzipped, with the CI metadata of
    this environment (GitLab, GitHub Actions, FLACKYNESS_BRANCH, ...) in X-Flackyness-* headers.

Options:
  --url <server>   server base URL (default: $${optionEnvVars.url}, else the spool file's)
  -h, --help       show this help

Environment:
  ${optionEnvVars.token}          project token (required)
  ${optionEnvVars.uploadDeadlineMs}  time allowed per file, in ms (default 120000)
  ${optionEnvVars.batchSize}     results per request (default 100)
  ${optionEnvVars.requestTimeoutMs}  timeout of each request phase, in ms (default 10000)
  DEBUG=flackyness*          diagnostics
`;

const DEFAULT_DEADLINE_MS = 120_000;

function spoolUrl(file: string): string | undefined {
	try {
		const json = readJsonFile(file);
		return isSpool(json) ? ((json as { url?: string }).url ?? undefined) : undefined;
	} catch {
		return undefined;
	}
}

async function main(argv: string[], env: Record<string, string | undefined>): Promise<number> {
	let parsed;
	try {
		parsed = parseArgs({
			args: argv,
			allowPositionals: true,
			options: { url: { type: 'string' }, help: { type: 'boolean', short: 'h' } }
		});
	} catch (err) {
		process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
		return 2;
	}
	const [command, ...files] = parsed.positionals;
	if (parsed.values.help || command === 'help') {
		process.stdout.write(USAGE);
		return 0;
	}
	if (command !== 'upload' || files.length === 0) {
		process.stderr.write(command && command !== 'upload' ? `unknown command ${JSON.stringify(command)}\n\n${USAGE}` : USAGE);
		return 2;
	}
	// The flag wins over the environment here: it is typed for this one command.
	const flagUrl = parsed.values.url;
	const options = resolveOptions(flagUrl ? { url: flagUrl } : {}, flagUrl ? { ...env, [optionEnvVars.url]: undefined } : env, printLine);
	if (!options.token) {
		printLine(`${optionEnvVars.token} is not set`);
		return 2;
	}
	const deadlineMs = env[optionEnvVars.uploadDeadlineMs] ? options.uploadDeadlineMs : DEFAULT_DEADLINE_MS;
	let failed = 0;
	for (const file of files) {
		const url = options.url ?? spoolUrl(file);
		if (!url) {
			printLine(`${file}: no server URL: set ${optionEnvVars.url} or pass --url`);
			failed++;
			continue;
		}
		const http = new HttpClient({ baseUrl: url.replace(/\/+$/, ''), token: options.token, requestTimeoutMs: options.requestTimeoutMs });
		http.armDeadline(deadlineMs);
		try {
			const result = await uploadFile(new FlackynessApi(http), file, options.batchSize, { env, cwd: process.cwd() });
			const what = result.kind === 'spool' ? `${result.results} results replayed` : `report with ${result.results} tests uploaded`;
			printLine(`${file}: ${what} · ${new URL(result.receipt.url, `${url}/`).toString()}`);
		} catch (err) {
			const message = (err as { code?: string }).code === 'ENOENT' ? 'file not found' : fromNetworkError(err).message;
			printLine(`${file}: not uploaded to ${displayUrl(url)}: ${message}`);
			failed++;
		} finally {
			await http.close();
		}
	}
	return failed ? 1 : 0;
}

main(process.argv.slice(2), process.env).then(
	(code) => {
		process.exitCode = code;
	},
	(err: unknown) => {
		printLine(`internal error: ${err instanceof Error ? err.message : String(err)}`);
		process.exitCode = 1;
	}
);
