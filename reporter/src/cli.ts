#!/usr/bin/env node
/**
 * `flackyness-reporter upload <file>…`: sends spool files and Playwright JSON reports to a
 * Flackyness server. Exit code 0 when every file was sent, 1 when one failed, 2 on bad usage.
 * `flackyness-reporter junit <report.json> -o <file>`: the reporter's JUnit file with verdicts,
 * from a Playwright JSON report. Exit code 0 when written, 1 when not, 2 on bad usage.
 * `flackyness-reporter burn-in [-- <playwright args>]`: repeats the tests the default branch has
 * never run (see burn-in.ts). Exit code 1 when one failed in any repetition, 0 otherwise (also when
 * the server can't say which tests are new), 2 on bad usage.
 */
import { parseArgs } from 'node:util';
import type { JSONReport } from '@playwright/test/reporter';
import FlackynessApi from './api.js';
import { burnIn, DEFAULT_MAX_TESTS, DEFAULT_REPEAT_EACH, MAX_MAX_TESTS, MAX_REPEAT_EACH } from './burn-in.js';
import { detectCi } from './ci.js';
import { requestVerdicts } from './fail-on.js';
import HttpClient from './http-client.js';
import { resultsFromJsonReport, toAsk, verdictsOf, writeJunitFile } from './junit-out.js';
import { displayUrl, printLine } from './log.js';
import { optionEnvVars, resolveOptions, type ResolvedOptions } from './options.js';
import { readJsonFile, isSpool, sentCopyOf } from './spool.js';
import { isPlaywrightReport, readUploadFile, uploadFile, type UploadResult } from './upload.js';
import { fromNetworkError } from './upload-error.js';

const USAGE = `Usage: flackyness-reporter upload [--url <server>] <file>...
       flackyness-reporter junit [--url <server>] <report.json> [-o <junit.xml>]
       flackyness-reporter burn-in [--repeat-each N] [--max-tests M] [--url <server>] [-- <playwright test args>]

Sends files to a Flackyness server:
  - spool files, written by the reporter when the server could not be reached: the run is
    opened (or found again), its results sent and the run completed;
  - Playwright JSON reports (--reporter=json): sent whole, gzipped, with the CI metadata of
    this environment (GitLab, GitHub Actions, FLACKYNESS_BRANCH, ...) in X-Flackyness-* headers.

A spool file the server stored is renamed <file>.sent, so that uploading the spool directory
again skips it (a file written by the outputFile option is left as it is).

junit writes, from a Playwright JSON report, the JUnit XML file of the reporter's junitOutput
option: each failure starts with the server's verdict ("[known flaky 7% (3–12%)] ...", "[new] ...");
without a server that answers within 5 s, it is written without them.

burn-in lists the local tests (playwright test --list), asks the server which ones have never
run on the default branch, and runs just those N times without retries (--repeat-each N
--retries 0), with the reporter of playwright.config.ts sending the results. Exit code 1 when a
new test failed in any run; 0 when all passed, when there is no new test, and when the server
can't be asked (nothing is run then: Flackyness being down never blocks a pipeline).

Options:
  --url <server>   server base URL; else $${optionEnvVars.url}; else the one the spool file recorded
  -o, --output     junit: the file to write (default: $${optionEnvVars.junitOutput}, else junit.xml)
  --repeat-each N  burn-in: runs of each new test, 1 to ${MAX_REPEAT_EACH} (default ${DEFAULT_REPEAT_EACH})
  --max-tests M    burn-in: new tests run at most, 1 to ${MAX_MAX_TESTS} (default ${DEFAULT_MAX_TESTS})
  -h, --help       show this help

Environment:
  ${optionEnvVars.token}          project token (required)
  ${optionEnvVars.uploadDeadlineMs}  time allowed per file, in ms (default 120000)
  ${optionEnvVars.batchSize}     results per request (default 100)
  ${optionEnvVars.requestTimeoutMs}  timeout of each request phase, in ms (default 10000)
  DEBUG=flackyness*          diagnostics
`;

const DEFAULT_DEADLINE_MS = 120_000;
/** As the reporter at the end of a run: a CI job should not wait long for verdicts. */
const VERDICT_TIMEOUT_MS = 5000;

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

/** `junit`: the file is written whatever the server says; exit code 1 only when it is not. */
async function junit(report: string, output: string, url: string | undefined, env: Record<string, string | undefined>): Promise<number> {
	let json: unknown;
	try {
		json = readUploadFile(report).json;
	} catch (err) {
		printLine(`${report}: ${(err as { code?: string }).code === 'ENOENT' ? 'file not found' : (err as Error).message}`);
		return 1;
	}
	if (!isPlaywrightReport(json)) {
		printLine(`${report}: not a Playwright JSON report`);
		return 1;
	}
	const full = json as unknown as JSONReport;
	const results = resultsFromJsonReport(full);
	const { token } = resolveOptions({}, env, printLine);
	const asked = url && token ? toAsk(results, (r) => r.outcome) : [];
	const identities = asked.map((r) => ({ file: r.file, titlePath: r.titlePath, projectName: r.projectName ?? '' }));
	const answer = asked.length ? await requestVerdicts({ url: url!, token: token!, timeoutMs: VERDICT_TIMEOUT_MS }, identities) : undefined;
	const verdictOf = verdictsOf(asked, answer);
	const { defaultBranch } = detectCi({ env, shard: null, cwd: process.cwd() });
	try {
		const file = writeJunitFile(output, {
			entries: results.map((result) => {
				const verdict = verdictOf.get(result);
				return verdict ? { result, verdict } : { result };
			}),
			durationMs: Math.round(full.stats.duration),
			startedAt: full.stats.startTime,
			...(defaultBranch ? { defaultBranch } : {})
		});
		const why = answer && 'error' in answer ? `no verdicts (${answer.error})` : !asked.length ? 'no verdicts asked' : `${verdictOf.size} verdicts`;
		printLine(`${file}: ${results.length} tests, ${why}`);
		return 0;
	} catch (err) {
		printLine(`could not write ${output}: ${(err as Error).message}`);
		return 1;
	}
}

/** A whole number from `min` to `max`, or undefined. */
function intIn(raw: string | undefined, fallback: number, min: number, max: number): number | undefined {
	if (raw === undefined) return fallback;
	const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
	return n >= min && n <= max ? n : undefined;
}

/** `burn-in`: its options come before `--`, Playwright's after. */
async function burnInCommand(argv: string[], env: Record<string, string | undefined>): Promise<number> {
	const dashes = argv.indexOf('--');
	const own = dashes === -1 ? argv : argv.slice(0, dashes);
	let parsed;
	try {
		parsed = parseArgs({
			args: own,
			options: { 'repeat-each': { type: 'string' }, 'max-tests': { type: 'string' }, url: { type: 'string' }, help: { type: 'boolean', short: 'h' } }
		});
	} catch (err) {
		process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
		return 2;
	}
	if (parsed.values.help) {
		process.stdout.write(USAGE);
		return 0;
	}
	const repeatEach = intIn(parsed.values['repeat-each'], DEFAULT_REPEAT_EACH, 1, MAX_REPEAT_EACH);
	const maxTests = intIn(parsed.values['max-tests'], DEFAULT_MAX_TESTS, 1, MAX_MAX_TESTS);
	if (repeatEach === undefined || maxTests === undefined) {
		const [flag, max] = repeatEach === undefined ? ['--repeat-each', MAX_REPEAT_EACH] : ['--max-tests', MAX_MAX_TESTS];
		printLine(`invalid ${flag}: expected a whole number from 1 to ${max}`);
		return 2;
	}
	const url = parsed.values.url;
	const given = serverUrl(url);
	if (url !== undefined && !given) {
		printLine(`invalid --url (${JSON.stringify(url)}): expected an http(s) URL`);
		return 2;
	}
	const playwrightArgs = dashes === -1 ? [] : argv.slice(dashes + 1);
	return burnIn({ repeatEach, maxTests, playwrightArgs, ...(given ? { url: given } : {}) }, { env, cwd: process.cwd(), print: printLine });
}

async function main(argv: string[], env: Record<string, string | undefined>): Promise<number> {
	if (argv[0] === 'burn-in') return burnInCommand(argv.slice(1), env);
	let parsed;
	try {
		parsed = parseArgs({
			args: argv,
			allowPositionals: true,
			options: { url: { type: 'string' }, output: { type: 'string', short: 'o' }, help: { type: 'boolean', short: 'h' } }
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
	const known = command === 'upload' || command === 'junit';
	if (!known || files.length === 0 || (command === 'junit' && files.length > 1)) {
		process.stderr.write(command && !known ? `unknown command ${JSON.stringify(command)}\n\n${USAGE}` : USAGE);
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
	if (command === 'junit') return junit(files[0]!, parsed.values.output ?? env[optionEnvVars.junitOutput]?.trim() ?? 'junit.xml', given, env);
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
