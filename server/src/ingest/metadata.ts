import { ciMetadataSchema, storableText, type CiMetadata } from 'flackyness-reporter/protocol';
import { HttpError } from '../lib/http-errors.js';

/** Metadata keys besides the CI ones that an upload may carry. */
const EXTRA_KEYS = ['idempotencyKey', 'project', 'projectDir'] as const;
const CI_KEYS = Object.keys(ciMetadataSchema.shape) as Array<keyof CiMetadata>;
/** Every metadata key an upload may carry (headers, query string, multipart fields). */
export const METADATA_KEYS: ReadonlyArray<keyof CiMetadata | (typeof EXTRA_KEYS)[number]> = [...CI_KEYS, ...EXTRA_KEYS];
const KNOWN = new Set<string>([...CI_KEYS, ...EXTRA_KEYS]);
const NUMERIC = new Set<string>(['mrIid', 'shardIndex', 'shardTotal']);

export interface UploadMetadata {
	ci: CiMetadata;
	idempotencyKey?: string;
	/** Project slug or id named by the request; must match the token's project. */
	project?: string;
	/** GitLab's CI_PROJECT_DIR: attachment paths are made relative to it. Used, never stored. */
	projectDir?: string;
}

/** commit-sha, commit_sha and commitSha all name commitSha. */
function camel(key: string): string {
	return key.toLowerCase().replace(/[-_]+([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function canonical(key: string): string | undefined {
	if (KNOWN.has(key)) return key;
	const c = camel(key);
	if (KNOWN.has(c)) return c;
	// Header names arrive lower-cased: match case-insensitively.
	for (const k of KNOWN) if (k.toLowerCase() === c.toLowerCase()) return k;
	return undefined;
}

export const HEADER_PREFIX = 'x-flackyness-';
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Header values arrive as Latin-1. flackyness-reporter percent-encodes text that is not printable
 * ASCII; curl sends a commit title's UTF-8 bytes as they are. Both are turned back into text, and
 * a value that is neither (a branch named "50%-off") is kept as it came.
 */
function utf8Header(value: string): string {
	if (value.includes('%')) {
		try {
			return decodeURIComponent(value);
		} catch {
			return value;
		}
	}
	if (!/[\u0080-\u00ff]/.test(value)) return value;
	try {
		return strictUtf8.decode(Buffer.from(value, 'latin1'));
	} catch {
		return value;
	}
}

/**
 * Collects upload metadata from X-Flackyness-* headers, query parameters and multipart fields (in
 * that order, later ones winning), and validates it with the protocol's schema.
 */
export function collectMetadata(sources: {
	headers?: Record<string, string | string[] | undefined>;
	query?: Record<string, unknown>;
	fields?: Record<string, string>;
}): UploadMetadata {
	const raw: Record<string, string> = {};
	const add = (key: string, value: unknown, where: string) => {
		if (value === undefined) return;
		const name = canonical(key);
		if (!name) {
			throw new HttpError(400, `Unknown metadata "${key}" in ${where}; known: ${[...KNOWN].join(', ')}.`);
		}
		if (typeof value !== 'string') throw new HttpError(400, `Metadata "${key}" in ${where} must be given once, as text.`);
		if (value.trim() !== '') raw[name] = value.trim();
	};
	for (const [k, v] of Object.entries(sources.headers ?? {})) {
		if (k.toLowerCase().startsWith(HEADER_PREFIX)) add(k.slice(HEADER_PREFIX.length), typeof v === 'string' ? utf8Header(v) : v, 'headers');
	}
	for (const [k, v] of Object.entries(sources.query ?? {})) add(k, v, 'the query string');
	for (const [k, v] of Object.entries(sources.fields ?? {})) add(k, v, 'form fields');

	const { idempotencyKey, project, projectDir, ...rest } = raw;
	const ciInput: Record<string, string | number> = {};
	for (const [k, v] of Object.entries(rest)) {
		if (NUMERIC.has(k)) {
			if (!/^\d{1,10}$/.test(v)) throw new HttpError(400, `metadata.${k}: must be a whole number (got "${v.slice(0, 40)}")`);
			ciInput[k] = Number(v);
		} else ciInput[k] = v;
	}
	const parsed = ciMetadataSchema.safeParse(ciInput);
	if (!parsed.success) {
		const issue = parsed.error.issues[0]!;
		throw new HttpError(400, `metadata.${issue.path.join('.')}: ${issue.message}`);
	}
	if (idempotencyKey !== undefined && (idempotencyKey.length < 8 || idempotencyKey.length > 200)) {
		throw new HttpError(400, 'metadata.idempotencyKey: must be 8 to 200 characters');
	}
	// The runner's absolute path, on Linux or Windows runners.
	if (projectDir !== undefined && (projectDir.length > 1024 || !/^(?:\/|[A-Za-z]:[\\/])/.test(projectDir) || projectDir.includes('\u0000'))) {
		throw new HttpError(400, 'metadata.projectDir: must be an absolute path (CI_PROJECT_DIR) of at most 1024 characters');
	}
	return {
		ci: parsed.data,
		// Stored in the run's key column: what PostgreSQL cannot hold becomes U+FFFD, as everywhere.
		...(idempotencyKey !== undefined ? { idempotencyKey: storableText(idempotencyKey) } : {}),
		...(project !== undefined ? { project } : {}),
		...(projectDir !== undefined ? { projectDir } : {})
	};
}
