/**
 * Error text from Playwright reports: conversion to the wire `TestError` (cleaning is shared with
 * the reporter, in flackyness-reporter/playwright-data), and the
 * fingerprint used to cluster failures (DETECTION.md §5: many tests failing with one fingerprint in
 * one job point at infrastructure).
 */
import { createHash } from 'node:crypto';
import { stripAnsi, storedError } from 'flackyness-reporter/playwright-data';
import { clipStorable, type TestError } from 'flackyness-reporter/protocol';

/** The protocol's `clipStorable`, under the name this module's callers know. */
export { clipStorable as truncate };

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

/**
 * Turns a Playwright error into the wire `TestError` (see `storedError`): the message, else the
 * thrown value (what Playwright records when something other than an Error was thrown), else the
 * stack's first line.
 */
export function toTestError(error: PlaywrightError, options: ToTestErrorOptions = {}): TestError {
	const message = error.message || error.value || error.stack?.split('\n', 1)[0] || '';
	return storedError({ message, stack: error.stack, location: error.location }, options.rootDir);
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
