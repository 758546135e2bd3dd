/**
 * The reporter's options. Each one can be given in `playwright.config.ts` or by an environment
 * variable; the variable wins, because options given on the command line (`--reporter`) or to
 * `merge-reports` reach the reporter empty, and CI settings are easier to change than the config.
 */

export type QuarantineMode = 'off' | 'report' | 'pass';
export type MergeMode = 'skip' | 'upload';
export type FailOn = 'all' | 'new';

export interface FlackynessOptions {
	/**
	 * Base URL of the Flackyness server, e.g. `https://flackyness.example.com`.
	 * Env `FLACKYNESS_URL`. Default: none — nothing is uploaded.
	 */
	url?: string;
	/**
	 * Project token, sent as `Authorization: Bearer …`. Prefer the environment variable: the config
	 * file is committed. Env `FLACKYNESS_TOKEN`. Default: none.
	 */
	token?: string;
	/** Results per request, 1 to 1000. Env `FLACKYNESS_BATCH_SIZE`. Default 100. */
	batchSize?: number;
	/** Queued results are sent at least this often, in ms. Env `FLACKYNESS_FLUSH_INTERVAL_MS`. Default 2000. */
	flushIntervalMs?: number;
	/**
	 * Time allowed for all uploading after the last test ended, in ms; what is not sent by then goes
	 * to the spool file. Env `FLACKYNESS_UPLOAD_DEADLINE_MS`. Default 15000.
	 */
	uploadDeadlineMs?: number;
	/** Time allowed to connect, and then for each response's headers and body, in ms. Env `FLACKYNESS_REQUEST_TIMEOUT_MS`. Default 10000. */
	requestTimeoutMs?: number;
	/** Fail the run (exit code 1) when the upload fails. Env `FLACKYNESS_FAIL_ON_UPLOAD_ERROR`. Default false. */
	failOnUploadError?: boolean;
	/**
	 * Also write everything that is (or would be) sent to this file, in the spool format that
	 * `flackyness-reporter upload` accepts. Relative to the config directory.
	 * Env `FLACKYNESS_OUTPUT_FILE`. Default: none.
	 */
	outputFile?: string;
	/**
	 * Also write a JUnit XML file here, for GitLab's `artifacts:reports:junit`, whose failures start
	 * with the server's verdict ("[known flaky 7% (3–12%)] …", "[new] …"); without an answer from
	 * the server within 5 s, it is written without them. Relative to the config directory.
	 * Env `FLACKYNESS_JUNIT_OUTPUT`. Default: none.
	 */
	junitOutput?: string;
	/** Do nothing at all. Env `FLACKYNESS_DISABLED`. Default false. */
	disabled?: boolean;
	/**
	 * Where data that could not be sent is saved, relative to the config directory.
	 * Env `FLACKYNESS_SPOOL_DIR`. Default `flackyness-spool`.
	 */
	spoolDir?: string;
	/**
	 * What to do with the server's list of quarantined tests: `off` (don't fetch it), `report` (say
	 * when every failure is quarantined), `pass` (and then let the run pass).
	 * Env `FLACKYNESS_QUARANTINE`. Default `report`.
	 */
	quarantine?: QuarantineMode;
	/**
	 * Under `playwright merge-reports`: `skip` (the shards already streamed their results) or
	 * `upload` (send the merged run, for pipelines whose shards only wrote blob reports).
	 * Env `FLACKYNESS_MERGE_MODE`. Default `skip`.
	 */
	mergeMode?: MergeMode;
	/**
	 * Results held in memory while waiting to be sent; beyond that they wait in a file in the spool
	 * directory. Env `FLACKYNESS_MAX_QUEUE_SIZE`. Default 10000.
	 */
	maxQueueSize?: number;
	/**
	 * Which failures fail the run: `all` (Playwright decides), or `new` (at the end of the run the
	 * server is asked, within 5 s, for the verdicts of the failed tests; when every failure is known
	 * flaky or quarantined the run passes, one line per forgiven failure says why; a new, broken or
	 * unknown failure, an error outside the tests, or a server that can't answer leaves the run failed).
	 * Env `FLACKYNESS_FAIL_ON`. Default `all`.
	 */
	failOn?: FailOn;
}

type Unset = 'url' | 'token' | 'outputFile' | 'junitOutput';
export type ResolvedOptions = Required<Omit<FlackynessOptions, Unset>> & Pick<FlackynessOptions, Unset>;

interface OptionSpec<T> {
	env: string;
	default: T;
	/** Returns undefined for an invalid value. */
	parse: (raw: unknown) => T | undefined;
	/** Said in the warning: what a valid value looks like. */
	expected: string;
	/** Never echo the value (tokens). */
	secret?: boolean;
}

const integer =
	(min: number, max: number) =>
	(raw: unknown): number | undefined => {
		const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
		return typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max ? n : undefined;
	};

function boolean(raw: unknown): boolean | undefined {
	if (typeof raw === 'boolean') return raw;
	if (typeof raw !== 'string') return undefined;
	const s = raw.trim().toLowerCase();
	if (['1', 'true', 'yes', 'on'].includes(s)) return true;
	if (['0', 'false', 'no', 'off'].includes(s)) return false;
	return undefined;
}

const oneOf =
	<T extends string>(...values: T[]) =>
	(raw: unknown): T | undefined =>
		typeof raw === 'string' && (values as string[]).includes(raw.trim().toLowerCase())
			? (raw.trim().toLowerCase() as T)
			: undefined;

function nonEmpty(raw: unknown): string | undefined {
	return typeof raw === 'string' && raw.trim() !== '' ? raw.trim() : undefined;
}

function serverUrl(raw: unknown): string | undefined {
	if (typeof raw !== 'string') return undefined;
	try {
		const u = new URL(raw.trim());
		if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
		// Credentials never go in a URL that ends up in terminal lines and spool files.
		u.username = '';
		u.password = '';
		return u.toString().replace(/\/+$/, '');
	} catch {
		return undefined;
	}
}

const specs: { [K in keyof ResolvedOptions]-?: OptionSpec<ResolvedOptions[K]> } = {
	url: { env: 'FLACKYNESS_URL', default: undefined, parse: serverUrl, expected: 'an http(s) URL' },
	token: { env: 'FLACKYNESS_TOKEN', default: undefined, parse: nonEmpty, expected: 'a non-empty string', secret: true },
	batchSize: { env: 'FLACKYNESS_BATCH_SIZE', default: 100, parse: integer(1, 1000), expected: 'an integer from 1 to 1000' },
	flushIntervalMs: {
		env: 'FLACKYNESS_FLUSH_INTERVAL_MS',
		default: 2000,
		parse: integer(10, 600_000),
		expected: 'milliseconds from 10 to 600000'
	},
	uploadDeadlineMs: {
		env: 'FLACKYNESS_UPLOAD_DEADLINE_MS',
		default: 15_000,
		parse: integer(0, 3_600_000),
		expected: 'milliseconds from 0 to 3600000'
	},
	requestTimeoutMs: {
		env: 'FLACKYNESS_REQUEST_TIMEOUT_MS',
		default: 10_000,
		parse: integer(100, 600_000),
		expected: 'milliseconds from 100 to 600000'
	},
	failOnUploadError: {
		env: 'FLACKYNESS_FAIL_ON_UPLOAD_ERROR',
		default: false,
		parse: boolean,
		expected: 'true or false'
	},
	outputFile: { env: 'FLACKYNESS_OUTPUT_FILE', default: undefined, parse: nonEmpty, expected: 'a file path' },
	junitOutput: { env: 'FLACKYNESS_JUNIT_OUTPUT', default: undefined, parse: nonEmpty, expected: 'a file path' },
	disabled: { env: 'FLACKYNESS_DISABLED', default: false, parse: boolean, expected: 'true or false' },
	spoolDir: { env: 'FLACKYNESS_SPOOL_DIR', default: 'flackyness-spool', parse: nonEmpty, expected: 'a directory path' },
	quarantine: {
		env: 'FLACKYNESS_QUARANTINE',
		default: 'report',
		parse: oneOf('off', 'report', 'pass'),
		expected: 'off, report or pass'
	},
	mergeMode: { env: 'FLACKYNESS_MERGE_MODE', default: 'skip', parse: oneOf('skip', 'upload'), expected: 'skip or upload' },
	failOn: { env: 'FLACKYNESS_FAIL_ON', default: 'all', parse: oneOf('all', 'new'), expected: 'all or new' },
	maxQueueSize: {
		env: 'FLACKYNESS_MAX_QUEUE_SIZE',
		default: 10_000,
		parse: integer(1, 10_000_000),
		expected: 'an integer from 1 to 10000000'
	}
};

/** Keys Playwright itself adds to every reporter's options. */
const playwrightKeys = new Set(['configDir', 'onlyFailures']);

type Env = Record<string, string | undefined>;

/**
 * Resolves one option: environment variable, then option, then default. An invalid value gives
 * one warning and the default; it never throws.
 */
export function resolveOption<T>(
	name: string,
	spec: OptionSpec<T>,
	option: unknown,
	env: Env,
	warn: (line: string) => void
): T {
	const fromEnv = env[spec.env];
	const [raw, source] =
		fromEnv !== undefined && fromEnv !== '' ? [fromEnv, spec.env] : option !== undefined && option !== null ? [option, `option ${name}`] : [undefined, ''];
	if (raw === undefined) return spec.default;
	const value = spec.parse(raw);
	if (value !== undefined) return value;
	const shown = spec.secret ? '' : ` (${JSON.stringify(raw)})`;
	const fallback = spec.default === undefined ? 'ignoring it' : `using ${JSON.stringify(spec.default)}`;
	warn(`invalid ${source}${shown}: expected ${spec.expected}; ${fallback}`);
	return spec.default;
}

export function resolveOptions(
	options: Record<string, unknown> | undefined,
	env: Env,
	warn: (line: string) => void
): ResolvedOptions {
	const given = options && typeof options === 'object' ? options : {};
	for (const key of Object.keys(given)) {
		if (!(key in specs) && !key.startsWith('_') && !playwrightKeys.has(key)) warn(`unknown option ${JSON.stringify(key)} ignored`);
	}
	const resolved: Record<string, unknown> = {};
	for (const [name, spec] of Object.entries(specs) as [string, OptionSpec<unknown>][]) {
		resolved[name] = resolveOption(name, spec, given[name], env, warn);
	}
	return resolved as ResolvedOptions;
}

/** The environment variable of each option, for documentation and the CLI's help. */
export const optionEnvVars: Readonly<Record<keyof ResolvedOptions, string>> = Object.fromEntries(
	Object.entries(specs).map(([name, spec]) => [name, spec.env])
) as Record<keyof ResolvedOptions, string>;
