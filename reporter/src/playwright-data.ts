/**
 * Playwright's data made storable, once for every way it arrives: the reporter (live `TestCase`
 * objects), and the server's parsers of JSON reports and JUnit XML. Colours stripped, NUL dropped,
 * locations relative to the root directory, text cut to the protocol's limits, annotations kept
 * once each. Imported by the server as `flackyness-reporter/playwright-data`.
 */
import { stripVTControlCharacters } from 'node:util';
import { annotationSchema, clipStorable, testErrorSchema, type TestError, type TestResultData } from './protocol.js';

/** Terminal colours and cursor codes removed (CSI and OSC sequences, hyperlinks included). */
export function stripAnsi(text: string): string {
	return stripVTControlCharacters(text);
}

/** Error text as stored: no colours, no NUL (dropped: PostgreSQL text cannot hold it). */
export function cleanText(text: string): string {
	return stripVTControlCharacters(text).replaceAll('\u0000', '');
}

export interface SourceLocation {
	file: string;
	line: number;
	column: number;
}

/** A path with forward slashes, relative to `rootDir` when it lies under it (error locations may lie outside). */
export function relativeToRoot(file: string, rootDir?: string | null): string {
	const posix = file.replace(/\\/g, '/');
	if (!rootDir) return posix;
	const root = rootDir.replace(/\\/g, '/').replace(/\/+$/, '');
	return root && posix.startsWith(`${root}/`) ? posix.slice(root.length + 1) : posix;
}

/** "file:line:column", the file relative to `rootDir` when under it: CI machines' absolute paths do not compare. */
export function formatLocation(location: SourceLocation, rootDir?: string | null): string {
	return `${relativeToRoot(location.file, rootDir)}:${location.line}:${location.column}`;
}

const MAX_MESSAGE = testErrorSchema.shape.message.maxLength ?? 65_536;
const MAX_STACK = testErrorSchema.shape.stack.unwrap().maxLength ?? 65_536;
const MAX_LOCATION = testErrorSchema.shape.location.unwrap().maxLength ?? 1024;

/**
 * An error as the protocol carries it: text cleaned and cut to the protocol's limits (a long
 * message is still worth keeping, a rejected result is not), the location as "file:line:column".
 */
export function storedError(error: { message: string; stack?: string | null; location?: SourceLocation | null }, rootDir?: string | null): TestError {
	const out: TestError = { message: clipStorable(cleanText(error.message), MAX_MESSAGE) };
	if (error.stack) out.stack = clipStorable(cleanText(error.stack), MAX_STACK);
	if (error.location?.file) out.location = clipStorable(formatLocation(error.location, rootDir), MAX_LOCATION);
	return out;
}

const MAX_ANNOTATION_TYPE = annotationSchema.shape.type.maxLength ?? 255;
const MAX_ANNOTATION_DESCRIPTION = annotationSchema.shape.description.unwrap().maxLength ?? 4096;
/** As `annotations` in protocol.ts (zod arrays do not expose their limits). */
export const MAX_ANNOTATIONS = 100;

/**
 * A test's annotations as they are read: each kept once, cleaned and cut to the protocol's limits
 * (annotations describe a test without naming it: cut rather than refused), at most MAX_ANNOTATIONS.
 */
export class AnnotationList {
	readonly list: TestResultData['annotations'] = [];
	readonly #seen = new Set<string>();

	/** Keeps the annotation unless it is a repeat; false once the list is full, so a reader can stop. */
	add(type: string, description: string | null | undefined): boolean {
		if (this.list.length >= MAX_ANNOTATIONS) return false;
		const kept = clipStorable(String(type).replaceAll('\u0000', ''), MAX_ANNOTATION_TYPE);
		const text = description == null ? undefined : clipStorable(String(description).replaceAll('\u0000', ''), MAX_ANNOTATION_DESCRIPTION);
		const key = JSON.stringify([kept, text ?? null]);
		if (!this.#seen.has(key)) {
			this.#seen.add(key);
			this.list.push(text === undefined ? { type: kept } : { type: kept, description: text });
		}
		return this.list.length < MAX_ANNOTATIONS;
	}

	/** The test's own annotations, then those its attempts added while running (Playwright 1.52+). */
	static of(...groups: ReadonlyArray<ReadonlyArray<{ type: string; description?: string | null }> | null | undefined>): TestResultData['annotations'] {
		const annotations = new AnnotationList();
		for (const group of groups) {
			for (const a of group ?? []) if (!annotations.add(a.type, a.description)) return annotations.list;
		}
		return annotations.list;
	}
}
