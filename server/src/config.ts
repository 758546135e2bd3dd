import { z } from 'zod';
import { parseSecretsKey, SECRETS_KEY_HELP } from './lib/secrets.js';

const bool = z
	.enum(['true', 'false', '1', '0', 'yes', 'no'])
	.transform((v) => v === 'true' || v === '1' || v === 'yes');

const postgresUrl = z
	.string()
	.refine((s) => {
		try {
			const u = new URL(s);
			return u.protocol === 'postgres:' || u.protocol === 'postgresql:';
		} catch {
			return false;
		}
	}, 'must be a postgres:// or postgresql:// URL, e.g. postgresql://user:pass@host:5432/db');

const port = z.coerce
	.number({ error: 'must be a number' })
	.int('must be a whole number')
	.min(0, 'must be between 0 and 65535')
	.max(65535, 'must be between 0 and 65535');

const positiveInt = z.coerce.number({ error: 'must be a number' }).int('must be a whole number').positive('must be positive');

const milliseconds = z.coerce.number({ error: 'must be a number of milliseconds' }).int('must be a whole number').min(0, 'must be 0 or more');

const byteSize = z
	.string()
	.regex(/^\d+(\.\d+)?\s*(b|kb|mb|gb)?$/i, 'must be a size such as 10mb, 512kb or 1048576')
	.transform((s) => {
		const m = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i.exec(s)!;
		const unit = (m[2] ?? 'b').toLowerCase();
		const mult = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[unit as 'b' | 'kb' | 'mb' | 'gb'];
		return Math.floor(Number(m[1]) * mult);
	});

/** Every environment variable the server reads; the README's configuration table mirrors this. */
export const envSchema = z.object({
	HOST: z.string().min(1).default('127.0.0.1'),
	PORT: port.default(3000),
	/** Public URL of this server, used in links it answers with. */
	PUBLIC_URL: z.url().optional(),
	DATABASE_URL: postgresUrl.optional(),
	DATA_DIR: z.string().min(1).default('./.flackyness'),
	EMBEDDED_DB_PORT: port.default(54329),
	DB_POOL_SIZE: positiveInt.max(100).default(10),
	/** A database statement running longer is cancelled and the request answers 503 with Retry-After; 0: no limit. */
	DB_STATEMENT_TIMEOUT_MS: milliseconds.default(30_000),
	/** A statement waiting longer than this for a lock is cancelled (503 with Retry-After); 0: no limit. */
	DB_LOCK_TIMEOUT_MS: milliseconds.default(10_000),
	/** Longest wait for a pooled database connection (or a new one to open) before answering 503. */
	DB_CONNECT_TIMEOUT_MS: positiveInt.default(5_000),
	/** /health answers 503 "database unreachable" when the database does not answer its probe within this. */
	HEALTH_TIMEOUT_MS: positiveInt.default(2_000),
	/** Shared rate-limit counters for several instances; in memory when unset. */
	REDIS_URL: z
		.string()
		.refine((s) => /^rediss?:\/\//.test(s), 'must be a redis:// or rediss:// URL')
		.optional(),
	LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
	ADMIN_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
	/** When set, /metrics requires "Authorization: Bearer <METRICS_TOKEN>"; unset: /metrics is open. */
	METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
	/** First dashboard admin, created when there is no user yet. */
	ADMIN_EMAIL: z.email('must be an e-mail address').optional(),
	ADMIN_PASSWORD: z.string().min(10, 'must be at least 10 characters').max(200).optional(),
	/** Signs dashboard sessions (JWT, HS256); unset: generated once and kept in DATA_DIR. */
	JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
	/** Encrypts stored GitLab tokens (AES-256-GCM; 32 bytes, base64 or hex); unset: generated once into DATA_DIR. */
	SECRETS_KEY: z
		.string()
		.refine((s) => parseSecretsKey(s) !== null, SECRETS_KEY_HELP)
		.optional(),
	/** Lifetime of a session token; the dashboard renews it while it is in use. */
	SESSION_MINUTES: positiveInt.max(7 * 24 * 60).default(60),
	CORS_ORIGINS: z
		.string()
		.optional()
		.transform((s) =>
			s
				? s
						.split(',')
						.map((o) => o.trim())
						.filter(Boolean)
				: []
		),
	DEMO: bool.default(true),
	BODY_LIMIT: byteSize.default(10 * 1024 * 1024),
	DECOMPRESSED_LIMIT: byteSize.default(100 * 1024 * 1024),
	RUN_TIMEOUT_MINUTES: positiveInt.default(120),
	RATE_LIMIT_RUNS: positiveInt.default(60),
	RATE_LIMIT_BATCHES: positiveInt.default(3000),
	RATE_LIMIT_READS: positiveInt.default(100),
	RATE_LIMIT_ADMIN: positiveInt.default(20),
	RATE_LIMIT_LOGIN: positiveInt.default(10),
	RETENTION_DAYS: positiveInt.max(36500).default(180),
	ANALYSIS_WORKER: bool.default(true),
	ANALYSIS_POLL_MS: positiveInt.default(500),
	/** How often an idle worker looks for GitLab reports (MR notes, commit statuses) that are due. */
	GITLAB_POLL_MS: positiveInt.default(2_000),
	/** Longest wait for one GitLab call before it counts as a timeout and is retried. */
	GITLAB_TIMEOUT_MS: positiveInt.default(10_000),
	/** First wait before a failed GitLab report is tried again; doubles per attempt, up to an hour. */
	GITLAB_RETRY_BASE_MS: positiveInt.default(30_000),
	/** Longest wait for one notification webhook call before it counts as a timeout and is retried. */
	WEBHOOK_TIMEOUT_MS: positiveInt.default(10_000),
	/** First wait before a failed notification is sent again; doubles per attempt, up to an hour. */
	WEBHOOK_RETRY_BASE_MS: positiveInt.default(30_000),
	SHUTDOWN_TIMEOUT_MS: positiveInt.default(10_000),
	DASHBOARD_DIR: z.string().optional(),
	MIGRATIONS_DIR: z.string().optional(),
	TRUST_PROXY: bool.default(false),
	NODE_ENV: z.string().default('production')
});

export type Config = z.output<typeof envSchema>;

/** The database bounds of the configuration, as createDatabase takes them. */
export function databaseTimeouts(config: Config) {
	return { statementMs: config.DB_STATEMENT_TIMEOUT_MS, lockMs: config.DB_LOCK_TIMEOUT_MS, connectMs: config.DB_CONNECT_TIMEOUT_MS };
}

export class ConfigError extends Error {
	constructor(readonly problems: string[]) {
		super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
		this.name = 'ConfigError';
	}
}

const SECRETS = new Set(['ADMIN_TOKEN', 'METRICS_TOKEN', 'DATABASE_URL', 'ADMIN_PASSWORD', 'JWT_SECRET', 'SECRETS_KEY']);

/** Reads and validates the environment; throws one ConfigError listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
	const input: Record<string, string> = {};
	for (const key of Object.keys(envSchema.shape)) {
		const value = env[key];
		if (value !== undefined && value !== '') input[key] = value;
	}
	const parsed = envSchema.safeParse(input);
	if (!parsed.success) {
		throw new ConfigError(
			parsed.error.issues.map((issue) => {
				const key = issue.path.join('.');
				// Never echo secrets back.
				const shown = SECRETS.has(key) ? '' : ` (got "${input[key] ?? ''}")`;
				return `${key}: ${issue.message}${shown}`;
			})
		);
	}
	return parsed.data;
}
