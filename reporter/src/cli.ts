#!/usr/bin/env node
/**
 * `flackyness-reporter upload <file>…`: sends spool files and Playwright JSON reports to a
 * Flackyness server. Exit code 0 when every file was sent, 1 when one failed, 2 on bad usage.
 */
import { parseArgs } from 'node:util';
import FlackynessApi from './api.js';
import HttpClient from './http-client.js';
import { displayUrl, printLine } from './log.js';
import { optionEnvVars, resolveOptions, type ResolvedOptions } from './options.js';
import { readJsonFile, isSpool, sentCopyOf } from './spool.js';
import { uploadFile, type UploadResult } from './upload.js';
import { fromNetworkError } from './upload-error.js';

const USAGE = `Usage: flackyness-reporter upload [--url <server>] <file>...

Sends files to a Flackyness server:
  - spool files, written by the reporter when the server could not be reached: the run is
    opened (or found again), its results sent and the run completed;
  - Playwright JSON reports (--reporter=json): sent whole, gzipped, with the CI metadata of
    this environment (GitLab, GitHub Actions, FLACKYNESS_BRANCH, ...) in X-Flackyness-* headers.

A spool file the server stored is renamed <file>.sent, so that uploading the spool directory
again skips it (a file written by the outputFile option is left as it is).

Options:
  --url <server>   server base URL; else $${optionEnvVars.url}; else the one the spool file recorded
  -h, --help       show this help

Environment:
  ${optionEnvVars.token}          project token (required)
  ${optionEnvVars.uploadDeadlineMs}  time allowed per file, in ms (default 120000)
  ${optionEnvVars.batchSize}     results per request (default 100)
  ${optionEnvVars.requestTimeoutMs}  timeout of each request phase, in ms (default 10000)
  DEBUG=flackyness*          diagnostics
`;

const DEFAULT_DEADLINE_MS = 120_000;

interface Target {
	url: string;
	/** Said when the upload fails: where a URL that nobody typed came from. */
	note?: string;
}

/** A server URL as the reporter takes it (http or https, credentials dropped), or undefined. */
function serverUrl(raw: string | undefined): string | undefined {
	return raw ? resolveOptions({}, { [optionEnvVars.url]: raw }, () => {}).url : undefined;
}

/** The URL a spool file recorded: where the run was meant to go. */
function spoolTarget(file: string): Target | undefined {
	try {
		const json = readJsonFile(file);
		const url = isSpool(json) ? serverUrl((json as { url?: string }).url) : undefined;
		return url ? { url, note: ` (recorded in the spool file; set ${optionEnvVars.url} or pass --url to send it elsewhere)` } : undefined;
	} catch {
		return undefined;
	}
}

function describeUpload(file: string, result: UploadResult, url: string): string {
	const what = result.kind === 'spool' ? `${result.results} results replayed` : `report with ${result.results} tests uploaded`;
	const line = `${file}: ${what} · ${new URL(result.receipt.url, `${url}/`).toString()}`;
	if (!result.sent) return line;
	return 'file' in result.sent ? `${line}; renamed to ${result.sent.file}` : `${line}; could not rename it to mark it as sent (${result.sent.error})`;
}

/** Sends one file to `target`; says how it went. Returns whether it was stored. */
async function uploadOne(file: string, target: Target, options: ResolvedOptions, deadlineMs: number, env: Record<string, string | undefined>): Promise<boolean> {
	const http = new HttpClient({ baseUrl: target.url, token: options.token, requestTimeoutMs: options.requestTimeoutMs });
	http.armDeadline(deadlineMs);
	try {
		const result = await uploadFile(new FlackynessApi(http), file, options.batchSize, { env, cwd: process.cwd() });
		printLine(describeUpload(file, result, target.url));
		return true;
	} catch (err) {
		const message = (err as { code?: string }).code === 'ENOENT' ? 'file not found' : fromNetworkError(err).message;
		printLine(`${file}: not uploaded to ${displayUrl(target.url)}${target.note ?? ''}: ${message}`);
		return false;
	} finally {
		await http.close();
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
	// The flag, typed for this one command, wins over the environment, which wins over the spool
	// file's URL: that server may be gone. A URL given but not valid is an error, never a fallback.
	const flagUrl = parsed.values.url;
	const envUrl = env[optionEnvVars.url]?.trim() || undefined;
	const [raw, from] = flagUrl !== undefined ? [flagUrl, '--url'] : [envUrl, optionEnvVars.url];
	const given = serverUrl(raw);
	if (raw !== undefined && !given) {
		printLine(`invalid ${from} (${JSON.stringify(raw)}): expected an http(s) URL`);
		return 2;
	}
	const options = resolveOptions({}, { ...env, [optionEnvVars.url]: undefined }, printLine);
	if (!options.token) {
		printLine(`${optionEnvVars.token} is not set`);
		return 2;
	}
	const deadlineMs = env[optionEnvVars.uploadDeadlineMs] ? options.uploadDeadlineMs : DEFAULT_DEADLINE_MS;
	let failed = 0;
	for (const file of files) {
		const sent = sentCopyOf(file);
		if (sent) {
			printLine(`${file}: already sent (renamed to ${sent}); upload that file to send it again`);
			continue;
		}
		const target = given ? { url: given } : spoolTarget(file);
		if (!target) {
			printLine(`${file}: no server URL: set ${optionEnvVars.url} or pass --url`);
			failed++;
			continue;
		}
		if (!(await uploadOne(file, target, options, deadlineMs, env))) failed++;
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
