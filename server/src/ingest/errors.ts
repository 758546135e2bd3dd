/**
 * Error text from Playwright reports: ANSI stripping, conversion to the wire `TestError`, and the
 * fingerprint used to cluster failures (DETECTION.md §5: many tests failing with one fingerprint in
 * one job point at infrastructure).
 */
import { createHash } from 'node:crypto';
import { clipStorable, testErrorSchema, type TestError } from 'flackyness-reporter/protocol';

/** The protocol's `clipStorable`, under the name this module's callers know. */
export { clipStorable as truncate };

// chalk/ansi-regex 6.1 (no ANSI-stripping package is installed): CSI sequences plus OSC sequences
// such as hyperlinks, terminated by BEL, ESC \ or 0x9C.
const ANSI_PATTERN = new RegExp(
	[
		'[\\u001B\\u009B][[\\]()#;?]*(?:(?:(?:(?:;[-a-zA-Z\\d\\/#&.:=?%@~_]+)*|[a-zA-Z\\d]+(?:;[-a-zA-Z\\d\\/#&.:=?%@~_]*)*)?(?:\\u0007|\\u001B\\u005C|\\u009C))',
		'(?:(?:\\d{1,4}(?:;\\d{0,4})*)?[\\dA-PR-TZcf-nq-uy=><~]))'
	].join('|'),
	'g'
);

export function stripAnsi(text: string): string {
	return text.replace(ANSI_PATTERN, '');
}

/** An error as Playwright writes it into a JSON report (`TestError` and its serialised forms). */
export interface PlaywrightError {
	message?: string | null;
	stack?: string | null;
	value?: string | null;
	location?: { file: string; line: number; column: number } | null;
}

export interface ToTestErrorOptions {
	/** The report's `config.rootDir`: locations under it become relative, like spec files. */
	rootDir?: string | null;
}

const MAX_MESSAGE = testErrorSchema.shape.message.maxLength ?? 65_536;
const MAX_STACK = testErrorSchema.shape.stack.unwrap().maxLength ?? 65_536;
const MAX_LOCATION = testErrorSchema.shape.location.unwrap().maxLength ?? 1024;

/**
 * Turns a Playwright error into the wire `TestError`: ANSI stripped, cut to the protocol's limits
 * (a long message is still worth keeping, a rejected report is not), location as "file:line:col".
 */
export function toTestError(error: PlaywrightError, options: ToTestErrorOptions = {}): TestError {
	const stack = error.stack ? cleanText(error.stack) : undefined;
	// `value` is what Playwright records when something other than an Error was thrown.
	const message = cleanText(error.message || error.value || stack?.split('\n', 1)[0] || '');
	const result: TestError = { message: clipStorable(message, MAX_MESSAGE) };
	if (stack) result.stack = clipStorable(stack, MAX_STACK);
	if (error.location) result.location = clipStorable(formatLocation(error.location, options.rootDir), MAX_LOCATION);
	return result;
}

function formatLocation(location: { file: string; line: number; column: number }, rootDir?: string | null): string {
	return `${relativeToRoot(location.file, rootDir)}:${location.line}:${location.column}`;
}

/** Error locations are absolute paths of the CI machine; relative ones compare across machines. */
function relativeToRoot(file: string, rootDir?: string | null): string {
	const posix = file.replace(/\\/g, '/');
	if (!rootDir) return posix;
	const root = rootDir.replace(/\\/g, '/').replace(/\/+$/, '');
	return root && posix.startsWith(`${root}/`) ? posix.slice(root.length + 1) : posix;
}

function cleanText(text: string): string {
	// PostgreSQL text cannot hold NUL; the other control characters are harmless.
	return stripAnsi(text).replaceAll('\u0000', '');
}

const MAX_NORMALISED_LINES = 6;
const MAX_NORMALISED_CHARS = 1024;

// Ordered: each rule runs on the output of the previous ones, so the specific shapes (uuid, url,
// path, timestamp, duration) are replaced before the generic number rule eats their digits.
const REPLACEMENTS: ReadonlyArray<readonly [RegExp, string]> = [
	[/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>'],
	[/\b[a-z][a-z0-9+.-]*:\/\/[^\s'"`)<>\]]+/gi, '<url>'],
	[/\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?/g, '<time>'],
	// Windows absolute paths, then POSIX absolute paths (two segments at least, so that a regular
	// expression like /Welcome/ stays), then relative paths and bare file names that end in an
	// extension; each with an optional :line:column.
	[/\b[A-Za-z]:[\\/][^\s'"`:()<>]+(?::\d+){0,2}/g, '<path>'],
	[/(?<![\w.])\/(?:[^\s/'"`:()<>]+\/)+[^\s/'"`:()<>]+(?::\d+){0,2}/g, '<path>'],
	[/(?<![\w/.@-])(?:\.{1,2}\/)?(?:[\w@.-]+\/)+[\w@.-]+\.[A-Za-z]\w{0,4}(?::\d+){0,2}/g, '<path>'],
	[/(?<![\w/.-])[\w-]+(?:\.[\w-]+)*\.(?:[cm]?[jt]sx?|json|html?|css|py|java|go|rb|php):\d+(?::\d+)?/g, '<path>'],
	[/\b0x[0-9a-f]+\b/gi, '<hex>'],
	[/\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b/gi, '<hex>'],
	[/\b\d+(?:\.\d+)?\s?(?:ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hours?)\b/gi, '<duration>'],
	// Generated ids: a word of six or more characters with letters and at least two digits.
	[/\b(?=\w*[A-Za-z])(?=(?:[A-Za-z_]*\d){2})\w{6,}\b/g, '<id>'],
	[/\d+(?:\.\d+)?/g, '<n>']
];

/**
 * Reduces an error message to what stays the same when the same failure happens again: the first
 * meaningful lines (and the first step of Playwright's call log), without ANSI codes, code
 * snippets and stack frames, and with dynamic values (numbers, ids, durations, paths, received
 * values) replaced by placeholders.
 */
export function normaliseErrorMessage(message: string): string {
	const kept: string[] = [];
	const lines = stripAnsi(message).split(/\r\n|\r|\n/);
	for (const [index, line] of lines.entries()) {
		if (/^\s*Call log:\s*$/.test(line)) {
			// The call log's first step names what was awaited ("- waiting for getByRole(…)"), which
			// tells one timeout from another; the rest is retry chatter ("9 × locator resolved to …").
			const step = lines.slice(index + 1).find((l) => l.trim() !== '');
			if (step !== undefined && /^\s*-\s/.test(step)) kept.push(normaliseLine(step));
			break;
		}
		if (isSnippetLine(line) || isStackFrame(line)) continue;
		const normalised = normaliseLine(line);
		if (!normalised) continue;
		kept.push(normalised);
		if (kept.length === MAX_NORMALISED_LINES) break;
	}
	if (kept[0]) kept[0] = kept[0].replace(/^Error:\s*/, '');
	return kept.join('\n').slice(0, MAX_NORMALISED_CHARS);
}

/** Playwright's code frame: "  12 | code", "> 12 | code" and the caret line "     |    ^". */
function isSnippetLine(line: string): boolean {
	return /^\s*>?\s*\d+\s+\|/.test(line) || /^\s*\|(?:\s*\^|\s*$)/.test(line);
}

function isStackFrame(line: string): boolean {
	return /^\s+at\s/.test(line) || /^at\s+\S+:\d+/.test(line);
}

function normaliseLine(line: string): string {
	let out = line;
	for (const [pattern, replacement] of REPLACEMENTS) out = out.replace(pattern, replacement);
	// A received value is whatever the application produced this time; the expectation is not.
	if (/^\s*Received\b[^:]*:/.test(out)) out = out.replace(/(["'`])(?:\\.|(?!\1).)*\1/g, '$1<str>$1');
	return out.replace(/\s+/g, ' ').trim();
}

/** First 16 hex digits of SHA-256 of the normalised message (the column is CHAR(16)). */
export function errorFingerprint(message: string): string {
	return createHash('sha256').update(normaliseErrorMessage(message)).digest('hex').slice(0, 16);
}
