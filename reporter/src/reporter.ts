import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { FullConfig, FullResult, Reporter, Suite, TestCase, TestResult } from '@playwright/test/reporter';
import FlackynessApi, { type QuarantineList } from './api.js';
import { detectCi } from './ci.js';
import { FileOwners, loadCodeowners, repositoryRoot } from './codeowners.js';
import { decideFailOn, failOnSkip, requestVerdicts, type FailOnDecision, type VerdictAnswer } from './fail-on.js';
import HttpClient from './http-client.js';
import { toAsk, verdictsOf, writeJunitFile } from './junit-out.js';
import { createDebug, displayUrl, printLine } from './log.js';
import { resolveOptions, type FlackynessOptions, type ResolvedOptions } from './options.js';
import { defaultProjectDir, type CompleteRunInput, type OpenRunInput, type RunStats, type TestResultInput } from './protocol.js';
import { judgeQuarantine, type QuarantineVerdict, type TestIdentity } from './quarantine.js';
import { RepeatGroups } from './repeats.js';
import RunStream from './run-stream.js';
import { inSerialGroup, isFinalAttempt, projectNameOf, relativeFile, serializeTest, titlePathOf, validateResult } from './serialize.js';
import { OUTPUT_FILE_REASON, SPOOL_FORMAT, spoolFileName, writeJsonFile, type SpoolData } from './spool.js';
import { formatSummary, type UploadSummary } from './summary.js';

/** What Playwright adds to every reporter's options. */
interface PlaywrightAddedOptions {
	configDir?: string;
	/** `test`, `list` (`--list`) or `merge` (`merge-reports`). */
	_mode?: string;
}

const QUARANTINE_TIMEOUT_MS = 3000;
/** Verdicts (failOn 'new', the JUnit file) are asked at the very end of the run: a CI job should not wait long for a second opinion. */
const VERDICT_TIMEOUT_MS = 5000;

function packageVersion(): string {
	try {
		return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
	} catch {
		return 'unknown';
	}
}

function countOutcomes(tests: TestCase[]): RunStats {
	const stats: RunStats = { expected: 0, unexpected: 0, flaky: 0, skipped: 0 };
	for (const test of tests) stats[test.outcome()]++;
	return stats;
}

function describe(err: unknown): string {
	return (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 300);
}

/**
 * Playwright reporter that streams results, with the CI metadata of the job, to a Flackyness
 * server. It never changes the run's result unless asked to (`failOnUploadError`, `failOn: 'new'`,
 * quarantine `pass`): every hook catches everything, and a server that is down, slow or refusing
 * costs one line on the terminal and a spool file to send later.
 */
export default class FlackynessReporter implements Reporter {
	private readonly options: ResolvedOptions;
	private readonly mode: string | undefined;
	private readonly configDirOption: string | undefined;
	private readonly debug = createDebug('flackyness:reporter');
	private active = false;
	private config: FullConfig | undefined;
	private suite: Suite | undefined;
	private startedAt = new Date();
	private configDir = process.cwd();
	/** What attachment paths are relative to: GitLab's CI_PROJECT_DIR, where its artifact paths start. */
	private projectDir: string | undefined;
	/** Owners of test files from the repository's CODEOWNERS, read once at the start; undefined without one. */
	private fileOwners: FileOwners | undefined;
	private open: (OpenRunInput & { idempotencyKey: string }) | undefined;
	private stream: RunStream | undefined;
	private quarantineList: Promise<QuarantineList | null> | undefined;
	/** Every result, when it must all be written at the end (outputFile, or no token to send it with). */
	private recorded: TestResultInput[] | undefined;
	/** Each test's result, for the JUnit file (junitOutput). */
	private junitResults: Map<TestCase, TestResultInput> | undefined;
	private readonly done = new Set<TestCase>();
	/** `--repeat-each`: the repetitions of a test are sent as one result (see repeats.ts). */
	private readonly repeats = new RepeatGroups<TestCase>();
	private otherErrors = 0;
	private hookErrors = 0;

	constructor(options: FlackynessOptions = {}) {
		const given = (options ?? {}) as FlackynessOptions & PlaywrightAddedOptions;
		this.mode = typeof given._mode === 'string' ? given._mode : undefined;
		this.configDirOption = typeof given.configDir === 'string' ? given.configDir : undefined;
		let resolved: ResolvedOptions;
		try {
			resolved = resolveOptions(given as Record<string, unknown>, process.env, printLine);
		} catch (err) {
			printLine(`disabled: ${describe(err)}`);
			resolved = { ...resolveOptions({}, {}, () => {}), disabled: true };
		}
		this.options = resolved;
	}

	printsToStdio(): boolean {
		return false;
	}

	onBegin(config: FullConfig, suite: Suite): void {
		this.guard('onBegin', () => this.begin(config, suite));
	}

	onTestEnd(test: TestCase, result: TestResult): void {
		this.guard('onTestEnd', () => {
			// merge-reports replays finished runs quickly, and its suites do not say which are serial:
			// everything is sent at the end there.
			if (!this.active || this.mode === 'merge' || this.done.has(test)) return;
			if (isFinalAttempt(test, result) && !inSerialGroup(test)) this.record(test);
		});
	}

	onError(): void {
		this.otherErrors++;
	}

	async onEnd(result: FullResult): Promise<{ status?: FullResult['status'] } | undefined> {
		try {
			return await this.end(result);
		} catch (err) {
			printLine(`internal error, nothing more sent: ${describe(err)}`);
			this.debug(err instanceof Error && err.stack ? err.stack : String(err));
			return undefined;
		}
	}

	/** A failed onBegin stops the reporter; a failed onTestEnd costs that one result (said once). */
	private guard(hook: 'onBegin' | 'onTestEnd', fn: () => void): void {
		try {
			fn();
		} catch (err) {
			this.debug(err instanceof Error && err.stack ? err.stack : String(err));
			if (hook === 'onBegin') {
				this.active = false;
				printLine(`internal error in onBegin, nothing sent: ${describe(err)}`);
			} else if (this.hookErrors++ === 0) {
				printLine(`internal error in ${hook}, a result is missing: ${describe(err)}`);
			}
		}
	}

	private begin(config: FullConfig, suite: Suite): void {
		this.config = config;
		this.suite = suite;
		this.startedAt = new Date();
		this.configDir = this.configDirOption ?? (config.configFile ? path.dirname(config.configFile) : config.rootDir);
		const ciProjectDir = process.env.CI_PROJECT_DIR;
		this.projectDir = ciProjectDir && path.isAbsolute(ciProjectDir) ? ciProjectDir : defaultProjectDir(config.configFile, config.rootDir);
		const { options } = this;
		if (options.disabled || this.mode === 'list' || (this.mode === 'merge' && options.mergeMode === 'skip')) return;
		this.active = true;
		const ci = detectCi({ env: process.env, shard: config.shard, cwd: config.rootDir });
		this.open = { idempotencyKey: randomUUID(), ci, playwrightVersion: config.version, startedAt: this.startedAt.toISOString() };
		this.debug(`run ${this.open.idempotencyKey}: ${JSON.stringify(ci)}`);
		if (options.outputFile || (options.url && !options.token)) this.recorded = [];
		if (options.junitOutput) this.junitResults = new Map();
		this.readCodeowners();
		if (!options.url || !options.token) return;
		const http = new HttpClient({
			baseUrl: options.url,
			token: options.token,
			requestTimeoutMs: options.requestTimeoutMs,
			userAgent: this.userAgent()
		});
		const api = new FlackynessApi(http);
		this.stream = new RunStream({
			api,
			http,
			open: this.open,
			batchSize: options.batchSize,
			flushIntervalMs: options.flushIntervalMs,
			uploadDeadlineMs: options.uploadDeadlineMs,
			maxQueueSize: options.maxQueueSize,
			overflowFile: path.resolve(this.configDir, options.spoolDir, `.queue-${this.open.idempotencyKey}.jsonl`)
		});
		this.stream.start();
		if (options.quarantine !== 'off') this.quarantineList = api.fetchQuarantine(QUARANTINE_TIMEOUT_MS);
	}

	/** A CODEOWNERS that can't be found or read costs the owners, nothing else. */
	private readCodeowners(): void {
		const root = repositoryRoot(this.configDir, process.env);
		const loaded = root ? loadCodeowners(root) : undefined;
		this.debug(loaded ? `owners from ${loaded.file}` : `no CODEOWNERS under ${root ?? '(no repository root)'}`);
		this.fileOwners = loaded ? new FileOwners(loaded) : undefined;
	}

	private record(test: TestCase): void {
		this.done.add(test);
		const result = serializeTest(test, this.config!.rootDir, this.startedAt, this.projectDir, this.fileOwners?.of(test.location.file));
		const problem = validateResult(result);
		if (problem) {
			this.debug(`not sending ${result.file} ${result.titlePath.join(' > ')}: ${problem}`);
			return;
		}
		const repeatEach = test.parent.project()?.repeatEach ?? 1;
		if (repeatEach <= 1) this.send(test, result);
		else {
			const merged = this.repeats.add(test, result, repeatEach);
			if (merged) this.send(merged.item, merged.result);
		}
	}

	private send(test: TestCase, result: TestResultInput): void {
		this.recorded?.push(result);
		this.junitResults?.set(test, result);
		this.stream?.add(result);
	}

	private identity(test: TestCase): TestIdentity {
		return { file: relativeFile(this.config!.rootDir, test.location.file), titlePath: titlePathOf(test), projectName: projectNameOf(test) };
	}

	private async end(result: FullResult): Promise<{ status?: FullResult['status'] } | undefined> {
		if (!this.active) {
			if (this.mode === 'merge' && !this.options.disabled && this.options.mergeMode === 'skip') {
				printLine('merge-reports: nothing sent, the shards streamed their own results (FLACKYNESS_MERGE_MODE=upload sends the merged run instead)');
			}
			return undefined;
		}
		const tests = this.suite!.allTests();
		// Tests whose last attempt was not recognisable as such (interrupted) or that never ran.
		for (const test of tests) if (!this.done.has(test)) this.record(test);
		for (const { item, result: merged } of this.repeats.drain()) this.send(item, merged);
		const stats = countOutcomes(tests);
		const complete: CompleteRunInput = { status: result.status, durationMs: Math.max(0, Math.round(result.duration)), stats };
		// Asked while the run uploads, so that the answer adds no waiting of its own.
		const unexpected = tests.filter((t) => t.outcome() === 'unexpected');
		const skip = this.options.failOn === 'new' ? failOnSkip(result.status, unexpected.length, this.otherErrors, this.canAsk()) : '';
		// One request for both: the JUnit file wants the failures and the tests that passed on retry.
		const asked = this.junitResults
			? toAsk(tests, (t) => t.outcome())
			: skip === undefined
				? unexpected
				: [];
		const verdicts = this.askVerdicts(asked);
		const quarantine = await this.judgeQuarantine(tests);
		const upload = await this.upload(complete);
		this.writeOutputFile(complete);
		printLine(
			formatSummary({
				stats,
				upload,
				...(this.options.outputFile ? { outputFile: this.outputPath() } : {}),
				...(quarantine ? { quarantine: { ...quarantine, mode: this.options.quarantine } } : {})
			})
		);
		const answer = await verdicts;
		this.writeJunit(tests, complete, asked, answer);
		const decision = this.failOnDecision(skip, unexpected, answer);
		for (const line of decision?.lines ?? []) printLine(line);
		if (upload.kind === 'failed' && upload.failsRun) return { status: 'failed' };
		if (decision?.pass) return { status: 'passed' };
		if (quarantine?.allQuarantined && this.options.quarantine === 'pass' && result.status === 'failed') return { status: 'passed' };
		return undefined;
	}

	/** `failOn: 'new'`: undefined when there is nothing to decide or say. */
	private failOnDecision(skip: string | undefined, unexpected: TestCase[], answer: VerdictAnswer | undefined): FailOnDecision | undefined {
		if (skip !== undefined) return skip ? { pass: false, lines: [skip] } : undefined;
		// failOnSkip lets through no more failures than one request holds, and they were asked first.
		const own: VerdictAnswer = !answer ? { error: 'not asked' } : 'error' in answer ? answer : { verdicts: answer.verdicts.slice(0, unexpected.length) };
		return decideFailOn(unexpected.map((t) => this.identity(t)), own);
	}

	private canAsk(): boolean {
		return Boolean(this.options.url && this.options.token);
	}

	/** The verdicts of `tests`, in their order; undefined when nothing is asked. Never throws. */
	private async askVerdicts(tests: TestCase[]): Promise<VerdictAnswer | undefined> {
		const { url, token } = this.options;
		if (!tests.length || !url || !token) return undefined;
		const server = { url, token, timeoutMs: VERDICT_TIMEOUT_MS, userAgent: this.userAgent() };
		return requestVerdicts(server, tests.map((t) => this.identity(t)));
	}

	/**
	 * junitOutput: every recorded result, in the suite's order, each with its verdict when the
	 * server gave one. A file that can't be written costs a line, never the run.
	 */
	private writeJunit(tests: TestCase[], complete: CompleteRunInput, asked: TestCase[], answer: VerdictAnswer | undefined): void {
		const results = this.junitResults;
		if (!results || !this.options.junitOutput) return;
		const file = path.resolve(this.configDir, this.options.junitOutput);
		try {
			if (answer && 'error' in answer) this.debug(`JUnit file without verdicts: ${answer.error}`);
			const verdictOf = verdictsOf(asked, answer);
			const entries = tests.flatMap((t) => {
				const result = results.get(t);
				const verdict = verdictOf.get(t);
				return result ? [verdict ? { result, verdict } : { result }] : [];
			});
			const defaultBranch = this.open?.ci?.defaultBranch;
			writeJunitFile(file, {
				entries,
				durationMs: complete.durationMs ?? 0,
				startedAt: this.startedAt.toISOString(),
				...(defaultBranch ? { defaultBranch } : {})
			});
		} catch (err) {
			printLine(`could not write ${file}: ${describe(err)}`);
		}
	}

	private userAgent(): string {
		return `flackyness-reporter/${packageVersion()} playwright/${this.config!.version}`;
	}

	private async judgeQuarantine(tests: TestCase[]): Promise<QuarantineVerdict | undefined> {
		if (!this.quarantineList) return undefined;
		let timer: NodeJS.Timeout | undefined;
		const timeout = new Promise<null>((resolve) => {
			timer = setTimeout(() => resolve(null), QUARANTINE_TIMEOUT_MS);
		});
		const list = await Promise.race([this.quarantineList, timeout]);
		clearTimeout(timer);
		const unexpected = tests.filter((t) => t.outcome() === 'unexpected').map((t) => this.identity(t));
		return judgeQuarantine(unexpected, list, this.otherErrors);
	}

	private async upload(complete: CompleteRunInput): Promise<UploadSummary> {
		if (!this.options.url) return { kind: 'not-configured', reason: 'FLACKYNESS_URL is not set' };
		if (!this.stream) return this.spool('FLACKYNESS_TOKEN is not set', this.recorded ?? [], complete);
		const outcome = await this.stream.finish(complete);
		if (!outcome.error && outcome.receipt) return { kind: 'uploaded', url: this.dashboardUrl(outcome.receipt.url) };
		return this.spool(outcome.error?.message ?? 'no receipt', outcome.unsent, complete);
	}

	private spool(reason: string, results: TestResultInput[], complete: CompleteRunInput): UploadSummary {
		const failsRun = this.options.failOnUploadError;
		const file = path.resolve(this.configDir, this.options.spoolDir, spoolFileName(this.open!.idempotencyKey));
		try {
			writeJsonFile(file, this.spoolData(reason, results, complete));
			return { kind: 'failed', reason, spoolFile: file, failsRun };
		} catch (err) {
			return { kind: 'failed', reason, spoolError: describe(err), failsRun };
		}
	}

	private spoolData(reason: string, results: TestResultInput[], complete: CompleteRunInput): SpoolData {
		const data: SpoolData = { format: SPOOL_FORMAT, version: 1, createdAt: new Date().toISOString(), reason, open: this.open!, results, complete };
		if (this.options.url) data.url = displayUrl(this.options.url);
		return data;
	}

	private outputPath(): string {
		return path.resolve(this.configDir, this.options.outputFile!);
	}

	private writeOutputFile(complete: CompleteRunInput): void {
		if (!this.options.outputFile) return;
		try {
			writeJsonFile(this.outputPath(), this.spoolData(OUTPUT_FILE_REASON, this.recorded ?? [], complete));
		} catch (err) {
			printLine(`could not write ${this.outputPath()}: ${describe(err)}`);
		}
	}

	private dashboardUrl(url: string): string {
		try {
			return new URL(url, `${this.options.url}/`).toString();
		} catch {
			return url;
		}
	}
}
