/**
 * The wire protocol between flackyness-reporter (and the upload CLI) and the Flackyness server.
 * Defined once here; the server imports these schemas from `flackyness-reporter/protocol`.
 */
import { z } from 'zod';

/**
 * The protocol's version, sent by the reporter in the `x-flackyness-protocol` header of every
 * request. A server refuses (400, saying which side to upgrade) a version it does not speak; a
 * request without the header (curl, older clients) is read as version 1.
 */
export const PROTOCOL_VERSION = 1;
export const PROTOCOL_HEADER = 'x-flackyness-protocol';

/** Why a server that speaks `PROTOCOL_VERSION` refuses the header's value, or null when it does not. */
export function protocolMismatch(header: string | string[] | undefined): string | null {
	if (header === undefined) return null;
	const value = Array.isArray(header) ? header[0] ?? '' : header;
	if (!/^\d{1,6}$/.test(value.trim())) return `${PROTOCOL_HEADER} must be a protocol version number (this server speaks ${PROTOCOL_VERSION}); got "${value.slice(0, 32)}".`;
	const version = Number(value.trim());
	if (version > PROTOCOL_VERSION) {
		return `This client speaks protocol ${version}, newer than this server's (${PROTOCOL_VERSION}): upgrade the Flackyness server, or use the flackyness-reporter version that matches it.`;
	}
	if (version < 1) return `Protocol ${version} does not exist; this server speaks ${PROTOCOL_VERSION}.`;
	return null;
}

/** Playwright's TestStatus. */
export const testStatusSchema = z.enum(['passed', 'failed', 'timedOut', 'skipped', 'interrupted']);
export type TestStatus = z.infer<typeof testStatusSchema>;

/** Playwright's TestCase.outcome(), once the last attempt is known. */
export const outcomeSchema = z.enum(['expected', 'unexpected', 'flaky', 'skipped']);
export type Outcome = z.infer<typeof outcomeSchema>;

/** A run's final status, as Playwright's FullResult.status plus what the server may decide. */
export const runStatusSchema = z.enum(['passed', 'failed', 'timedout', 'interrupted']);
export type RunStatus = z.infer<typeof runStatusSchema>;

export const ciProviderSchema = z.enum(['gitlab', 'github', 'local', 'other']);
export type CiProvider = z.infer<typeof ciProviderSchema>;

// A lone UTF-16 surrogate (half an emoji cut by `slice`) cannot be encoded as UTF-8: PostgreSQL
// refuses it in jsonb and text. NUL is refused in both too. Neither is worth losing a run over.
// eslint-disable-next-line no-control-regex -- NUL is one of the characters to replace
const UNSTORABLE = /[\u0000]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Text as PostgreSQL can store it: lone surrogates and NUL become U+FFFD (the replacement character,
 * as a UTF-8 decoder shows undecodable bytes). Length in UTF-16 units is unchanged. Both the
 * reporter and the server run every stored string through it, via the schemas below.
 */
export function storableText(s: string): string {
	return s.replace(UNSTORABLE, '\uFFFD');
}

/** Cuts to `max` UTF-16 units without leaving half a surrogate pair behind. */
export function clipText(s: string, max: number): string {
	if (s.length <= max) return s;
	const cut = s.slice(0, max);
	const last = cut.charCodeAt(cut.length - 1);
	return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}

/** Text as it is stored (no lone surrogate, no NUL), cut to `max` UTF-16 units: what is kept of text too long to refuse over. */
export function clipStorable(s: string, max: number): string {
	return clipText(storableText(s), max);
}

/** A string that is stored: made storable before its length is checked. */
export const storedString = () => z.string().overwrite(storableText);
const text = (max: number) => storedString().max(max);

// PostgreSQL's timestamptz reaches from 4713 BC to 294276 AD, JavaScript's Date from -271821 to
// 275760, ISO 8601 without an expanded year from 0000 to 9999: years 1 to 9999 are what all three
// hold and what a test run can plausibly carry.
const MIN_TIME = Date.parse('0001-01-01T00:00:00Z');
const MAX_TIME = Date.parse('9999-12-31T23:59:59.999Z');

/** Whether a timestamp (ms since the epoch) lies in the years 1 to 9999 that are accepted. */
export function isStorableTime(ms: number): boolean {
	return Number.isFinite(ms) && ms >= MIN_TIME && ms <= MAX_TIME;
}

/**
 * An ISO 8601 timestamp with an offset, in the years 1 to 9999: as written (PostgreSQL refuses the
 * year 0000 whatever the offset) and in UTC.
 */
export const timestampSchema = z.iso
	.datetime({ offset: true })
	.refine((s) => Number(s.slice(0, 4)) >= 1 && isStorableTime(Date.parse(s)), 'must be a date between the years 1 and 9999');

/** A count stored in an int4 column. */
const count = () => z.number().int().min(0).max(2_147_483_647);
const idLike = z
	.string()
	.min(1)
	.max(64)
	.regex(/^[A-Za-z0-9._:-]+$/, 'may hold only letters, digits and . _ : -');
const url = z.url({ protocol: /^https?$/ }).max(2048).overwrite(storableText);
/** Git object names: 7 to 64 hex digits (SHA-1 or SHA-256, possibly abbreviated). */
export const commitShaSchema = z
	.string()
	.regex(/^[0-9a-fA-F]{7,64}$/, 'must be 7 to 64 hexadecimal digits')
	.transform((s) => s.toLowerCase());

/**
 * CI identity and git metadata of one Playwright invocation. Every field is optional: a local run
 * may know nothing at all. Unknown fields are rejected so that typos surface.
 */
export const ciMetadataSchema = z
	.object({
		provider: ciProviderSchema.optional(),
		branch: text(255).min(1).optional(),
		defaultBranch: text(255).min(1).optional(),
		tag: text(255).min(1).optional(),
		commitSha: commitShaSchema.optional(),
		commitTitle: text(1000).optional(),
		commitAuthor: text(500).optional(),
		commitTimestamp: timestampSchema.optional(),
		pipelineId: idLike.optional(),
		pipelineIid: idLike.optional(),
		pipelineUrl: url.optional(),
		pipelineSource: text(64).optional(),
		jobId: idLike.optional(),
		jobName: text(255).min(1).optional(),
		jobUrl: url.optional(),
		mrIid: z.number().int().positive().max(2_147_483_647).optional(),
		mrSourceBranch: text(255).optional(),
		mrTargetBranch: text(255).optional(),
		shardIndex: z.number().int().min(1).max(10_000).optional(),
		shardTotal: z.number().int().min(1).max(10_000).optional(),
		projectPath: text(255).optional()
	})
	.strict()
	.refine((m) => m.shardIndex === undefined || m.shardTotal === undefined || m.shardIndex <= m.shardTotal, {
		message: 'shardIndex must not exceed shardTotal',
		path: ['shardIndex']
	});
export type CiMetadata = z.infer<typeof ciMetadataSchema>;

export const testErrorSchema = z.object({
	message: text(65_536),
	stack: text(65_536).optional(),
	/** "file:line:column" */
	location: text(1024).optional()
});
export type TestError = z.infer<typeof testErrorSchema>;

export const annotationSchema = z.object({
	type: text(255),
	description: text(4096).optional()
});

/** Files per result that are named: a failed attempt leaves a trace, a screenshot, a video, perhaps a few more. */
export const MAX_ATTACHMENTS = 20;
export const MAX_ATTACHMENT_PATH = 1024;

// eslint-disable-next-line no-control-regex -- control characters are what this refuses
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Whether `p` can name a file inside a GitLab job's artifacts: relative, with forward slashes, in
 * canonical form (no empty, `.` or `..` segment), no drive letter, no control character. Links are
 * built by appending it to the job's URL, so anything that could climb out of that tree is refused.
 */
export function isArtifactPath(p: string): boolean {
	if (p === '' || p.length > MAX_ATTACHMENT_PATH || CONTROL.test(p) || p.includes('\\')) return false;
	if (p.startsWith('/') || /^[A-Za-z]:/.test(p)) return false;
	return p.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}

const slashes = (s: string) => s.replace(/\\/g, '/').replace(/^([a-z]):/, (_, drive: string) => `${drive.toUpperCase()}:`);
const parentOf = (s: string) => s.slice(0, Math.max(0, s.lastIndexOf('/')));

/**
 * `file` relative to the directory `base` (both absolute, with either kind of slash: a report
 * written on Windows is read on Linux), or undefined when it does not lie inside `base` or the
 * result would not be an artifact path. Pure string work, so that the reporter and the server's
 * report parser give the same answer for the same run.
 */
export function artifactPathUnder(base: string, file: string): string | undefined {
	const root = slashes(base).replace(/\/+$/, '');
	const target = slashes(file);
	if (!target.startsWith(`${root}/`)) return undefined;
	const relative = target.slice(root.length + 1);
	return isArtifactPath(relative) ? relative : undefined;
}

/**
 * Where attachment paths are counted from when the CI did not say (GitLab's CI_PROJECT_DIR): the
 * deepest directory holding both the config file and the test directory. With the config at the
 * repository's top, as is usual, that is the repository, which GitLab's artifact paths start from.
 */
export function defaultProjectDir(configFile: string | null | undefined, rootDir: string | null | undefined): string | undefined {
	const dirs = [configFile ? parentOf(slashes(configFile)) : undefined, rootDir ? slashes(rootDir).replace(/\/+$/, '') : undefined].filter(
		(d): d is string => d !== undefined
	);
	if (dirs.length === 0) return undefined;
	let common = dirs[0]!;
	for (const dir of dirs.slice(1)) {
		while (common !== '' && dir !== common && !dir.startsWith(`${common}/`)) common = parentOf(common);
	}
	// The file system's root is no project directory: every path would be "inside" it.
	return common === '' || /^[A-Z]:$/.test(common) ? undefined : common;
}

/**
 * A file Playwright left behind for a failed attempt (trace, screenshot, video…): where it lies
 * relative to the project directory (CI_PROJECT_DIR in GitLab), never its contents. Producers drop
 * what does not fit; the server refuses it like any other invalid field.
 */
export const attachmentSchema = z.object({
	name: text(255).min(1),
	contentType: text(255),
	/** Relative to the project directory, with forward slashes. */
	path: z
		.string()
		.refine(isArtifactPath, 'must be a relative path with forward slashes, at most 1024 characters, without "..", "." or empty segments')
		.overwrite(storableText),
	/** The attempt's retry index (0 for the first run). */
	attempt: z.number().int().min(0).max(99)
});
export type Attachment = z.infer<typeof attachmentSchema>;

/** A failed attempt as the reporter (TestResult) and a JSON report (`results[]`) both show it. */
export interface FailedAttempt {
	retry: number;
	attachments?: ReadonlyArray<{ name?: string | null; contentType?: string | null; path?: string | null }> | null;
}

/**
 * The files failed attempts left behind, relative to `projectDir`, in attempt order, at most
 * MAX_ATTACHMENTS. Bodies without a file, files outside `projectDir` and paths no link can be made
 * of are left out: they are not worth refusing a result over. One function for the reporter and
 * the server's report parser, so that both store the same thing.
 */
export function failedAttemptAttachments(attempts: ReadonlyArray<FailedAttempt>, projectDir: string | undefined): Attachment[] {
	const out: Attachment[] = [];
	if (projectDir === undefined) return out;
	const seen = new Set<string>();
	for (const attempt of attempts) {
		const retry = Math.min(Math.max(0, Math.trunc(attempt.retry) || 0), 99);
		for (const a of attempt.attachments ?? []) {
			const relative = typeof a.path === 'string' ? artifactPathUnder(projectDir, a.path) : undefined;
			if (relative === undefined || seen.has(`${retry}:${relative}`)) continue;
			seen.add(`${retry}:${relative}`);
			out.push({
				name: clipStorable(a.name ?? '', 255) || 'attachment',
				contentType: clipStorable(a.contentType ?? '', 255),
				path: relative,
				attempt: retry
			});
			if (out.length === MAX_ATTACHMENTS) return out;
		}
	}
	return out;
}

/** Owners per result: teams and people, not a mailing list. */
export const MAX_OWNERS = 20;
export const MAX_OWNER_LENGTH = 255;

/** `@name`, `@group/subgroup` or an e-mail address, as CODEOWNERS names owners: one word, nothing else. */
const ownerSchema = text(MAX_OWNER_LENGTH).regex(/^\S+$/, 'must be one word (an @name or an e-mail address)');

/**
 * An owner named in an annotation or tag, written as CODEOWNERS writes it: `team-x` becomes
 * `@team-x`, `@team-x` and `jane@example.com` stay. Undefined for what can't be an owner.
 */
export function ownerName(word: string): string | undefined {
	const w = storableText(word.trim());
	if (w === '' || w === '@' || /\s/.test(w) || w.length > MAX_OWNER_LENGTH) return undefined;
	if (w.includes('@')) return w;
	return w.length < MAX_OWNER_LENGTH ? `@${w}` : undefined;
}

/**
 * Owners a test names itself: annotations of type `owner` or `owners` (each description may hold
 * several, separated by spaces or commas) and tags `@owner:<name>`. Nothing else counts: a tag
 * that merely looks like a team is not taken for one. One function for the reporter and the
 * server's report parser.
 */
export function ownersFromTest(annotations: ReadonlyArray<{ type: string; description?: string | null | undefined }>, tags: ReadonlyArray<string>): string[] {
	const words: string[] = [];
	for (const a of annotations) {
		const type = a.type.trim().toLowerCase();
		if ((type === 'owner' || type === 'owners') && a.description) words.push(...a.description.split(/[\s,]+/));
	}
	for (const tag of tags) {
		const m = /^@?owner:(.+)$/i.exec(tag.trim());
		if (m) words.push(m[1]!);
	}
	return mergeOwners(words.map(ownerName).filter((o): o is string => o !== undefined));
}

/** Owners from several sources, once each in the order first named, at most MAX_OWNERS. */
export function mergeOwners(...lists: ReadonlyArray<ReadonlyArray<string>>): string[] {
	const out: string[] = [];
	for (const owner of lists.flat()) {
		if (out.length === MAX_OWNERS) break;
		if (!out.includes(owner)) out.push(owner);
	}
	return out;
}

/** One test's result in one run, after its last attempt. */
export const testResultInputSchema = z.object({
	/** Path of the spec file relative to the test directory, with forward slashes. */
	file: text(1024).min(1),
	/** Titles from the outermost describe to the test itself (file and project excluded). */
	titlePath: z.array(text(2048)).min(1).max(64),
	/** Playwright project name; '' when the config has a single unnamed project. */
	projectName: text(255).default(''),
	tags: z.array(text(255)).max(100).default([]),
	outcome: outcomeSchema,
	expectedStatus: testStatusSchema,
	/** Status of the last attempt. */
	status: testStatusSchema,
	attempts: z.number().int().min(0).max(100),
	failedAttempts: z.number().int().min(0).max(100),
	/** Sum over attempts, in milliseconds. */
	durationMs: z.number().int().min(0).max(2_147_483_647),
	startedAt: timestampSchema,
	/** First error of the first failed attempt. */
	error: testErrorSchema.optional(),
	annotations: z.array(annotationSchema).max(100).default([]),
	/** Files left by the failed attempts, in attempt order; absent when there are none. */
	attachments: z.array(attachmentSchema).max(MAX_ATTACHMENTS).optional(),
	/**
	 * Who owns the test: CODEOWNERS owners of its file and owners it names itself (see
	 * ownersFromTest). Absent when the sender does not know; `[]` when it knows there are none. The
	 * server keeps the owners of the latest result that carried them.
	 */
	owners: z.array(ownerSchema).max(MAX_OWNERS).optional()
});
export type TestResultInput = z.input<typeof testResultInputSchema>;
export type TestResultData = z.output<typeof testResultInputSchema>;

export const runStatsSchema = z.object({
	expected: count(),
	unexpected: count(),
	flaky: count(),
	skipped: count()
});
export type RunStats = z.infer<typeof runStatsSchema>;

/** POST /api/v1/runs */
export const openRunSchema = z
	.object({
		/** Client-chosen key; otherwise derived from the CI identity. */
		idempotencyKey: text(200).min(8).optional(),
		ci: ciMetadataSchema.default({}),
		playwrightVersion: text(32).optional(),
		startedAt: timestampSchema.optional()
	})
	.strict();
export type OpenRunInput = z.input<typeof openRunSchema>;

export const MAX_RESULTS_PER_BATCH = 1000;

/** POST /api/v1/runs/:runId/results */
export const resultBatchSchema = z
	.object({
		results: z.array(testResultInputSchema).min(1).max(MAX_RESULTS_PER_BATCH)
	})
	.strict();
export type ResultBatchInput = z.input<typeof resultBatchSchema>;

/** POST /api/v1/runs/:runId/complete */
export const completeRunSchema = z
	.object({
		status: runStatusSchema,
		durationMs: z.number().int().min(0).max(2_147_483_647).optional(),
		stats: runStatsSchema.optional()
	})
	.strict();
export type CompleteRunInput = z.input<typeof completeRunSchema>;

export const runCountsSchema = z.object({
	total: count(),
	expected: count(),
	unexpected: count(),
	flaky: count(),
	skipped: count()
});

/** Answer to opening a run, completing it, or uploading a whole report. */
export const runReceiptSchema = z.object({
	runId: z.uuid(),
	created: z.boolean(),
	status: z.string(),
	counts: runCountsSchema,
	url: z.string()
});
export type RunReceipt = z.infer<typeof runReceiptSchema>;

export const batchReceiptSchema = z.object({
	accepted: count(),
	duplicates: count()
});
export type BatchReceipt = z.infer<typeof batchReceiptSchema>;

/** Error body of every 4xx/5xx answer. */
export const errorBodySchema = z.object({
	statusCode: z.number().int().min(100).max(599),
	error: z.string(),
	message: z.string(),
	requestId: z.string().optional()
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

/** Tests per `POST /api/v1/verdicts`: a run with more failures than this is not flaky noise. */
export const MAX_VERDICT_TESTS = 5000;

/** POST /api/v1/verdicts: the tests whose verdicts the reporter asks for at the end of a run. */
export const verdictRequestSchema = z
	.object({
		/** With an admin token or a signed-in user: the project (id or slug). A project token reads its own. */
		project: z.string().min(1).max(100).optional().describe('project id or slug; only with an admin token or a signed-in user'),
		tests: z
			.array(testResultInputSchema.pick({ file: true, titlePath: true, projectName: true }).strict())
			.min(1)
			.max(MAX_VERDICT_TESTS)
			.describe('tests identified as the reporter sends them: file, title path, Playwright project name')
	})
	.strict();
export type VerdictRequest = z.input<typeof verdictRequestSchema>;

/** A verdict's state: the analysis' states, or `unknown` for a test the server has never seen or not analysed yet. */
export const verdictStateSchema = z.enum(['healthy', 'flaky', 'broken', 'suspect', 'failing', 'fixed', 'quarantined', 'unknown']);
export type VerdictStateName = z.infer<typeof verdictStateSchema>;

export const testVerdictSchema = z.object({
	file: z.string().describe('as asked'),
	titlePath: z.array(z.string()).describe('as asked'),
	projectName: z.string().describe('as asked'),
	testId: z.uuid().nullable().describe('the test on the server; null when it has never been seen'),
	state: verdictStateSchema.describe(
		'the current verdict of the analysis; quarantined while a quarantine is active; unknown when never seen or not yet analysed; failing: fails on feature branch(es), never seen failing on the default branch (not known flaky)'
	),
	failureChance: z
		.object({
			estimate: z.number().min(0).max(1).describe('estimated probability that one attempt fails, from the decayed history'),
			low: z.number().min(0).max(1).describe('lower bound of its credible interval'),
			high: z.number().min(0).max(1).describe('upper bound of its credible interval')
		})
		.nullable()
		.describe('for a flaky, suspect, fixed or quarantined test that has been analysed; null otherwise'),
	brokenSince: z
		.object({
			commitSha: z.string().describe('first failing commit of the broken segment on the default branch'),
			at: z.string().nullable().describe('when that commit first failed (ISO 8601)')
		})
		.nullable()
		.describe('for a broken test: where the failures on the default branch began; null otherwise'),
	quarantine: z
		.object({
			reason: z.string().describe('why it was quarantined'),
			until: z.string().nullable().describe('when the quarantine expires (ISO 8601); null until released')
		})
		.nullable()
		.describe('the active quarantine, if any')
});
export type TestVerdict = z.infer<typeof testVerdictSchema>;

export const verdictResponseSchema = z.object({
	verdicts: z.array(testVerdictSchema).describe('one per test asked, in the order asked')
});
export type VerdictResponse = z.infer<typeof verdictResponseSchema>;

/** Tests per `POST /api/v1/tests/new`: as many as a verdict request. */
export const MAX_NEW_TESTS = 5000;

/** POST /api/v1/tests/new: which of these tests the default branch has never run (what `burn-in` repeats before a merge). */
export const newTestsRequestSchema = z
	.object({
		project: z.string().min(1).max(100).optional().describe('project id or slug; only with an admin token or a signed-in user'),
		tests: z
			.array(testResultInputSchema.pick({ file: true, titlePath: true, projectName: true }).strict())
			.min(1)
			.max(MAX_NEW_TESTS)
			.describe('tests identified as the reporter sends them: file, title path, Playwright project name')
	})
	.strict();
export type NewTestsRequest = z.input<typeof newTestsRequestSchema>;

/** Where the server has seen a test: on the default branch, only on other branches, or never. */
export const seenOnSchema = z.enum(['default-branch', 'other-branches', 'never']);
export type SeenOn = z.infer<typeof seenOnSchema>;

export const newTestSchema = z.object({
	file: z.string().describe('as asked'),
	titlePath: z.array(z.string()).describe('as asked'),
	projectName: z.string().describe('as asked'),
	testId: z.uuid().nullable().describe('the test on the server; null when it has never been seen'),
	isNew: z.boolean().describe('true when no result of the test was stored from a run on the default branch'),
	seenOn: seenOnSchema.describe('default-branch when a default-branch run has a result of it; other-branches when only other runs have; never otherwise')
});
export type NewTest = z.infer<typeof newTestSchema>;

export const newTestsResponseSchema = z.object({
	defaultBranches: z
		.array(z.string())
		.describe("branch names counted as the default branch for runs that did not say whether they were on it (the project's setting, else main and master)"),
	tests: z.array(newTestSchema).describe('one per test asked, in the order asked')
});
export type NewTestsResponse = z.infer<typeof newTestsResponseSchema>;
