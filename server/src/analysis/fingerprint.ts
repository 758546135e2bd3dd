/**
 * Error fingerprints: a normalised error message, hashed. Two failures with the same cause get
 * the same fingerprint even when numbers, ids, URLs, paths or durations differ.
 */
import { createHash } from 'node:crypto';

// CSI sequences (colours, cursor moves) and the rarer OSC ones (hyperlinks). Built from a
// string so that the escape character need not appear in a regex literal.
const ESC = String.fromCharCode(27);
const BEL = String.fromCharCode(7);
const ANSI = new RegExp(`${ESC}\\[[0-9;?]*[ -/]*[@-~]|${ESC}\\][^${BEL}${ESC}]*(?:${BEL}|${ESC}\\\\)`, 'g');

export function stripAnsi(text: string): string {
	return text.replace(ANSI, '');
}

/**
 * The part of a Playwright error message that names the cause: ANSI codes stripped, cut before
 * the code snippet, the call log and the stack, with volatile tokens replaced by placeholders.
 */
export function normaliseErrorMessage(message: string): string {
	const lines = stripAnsi(message).split('\n');
	const kept: string[] = [];
	for (let i = 0; i < lines.length; i++) {
		const line = lines[i]!;
		// Snippet lines ("  12 |", "> 12 |", "     |   ^"), stack frames and browser logs end the cause.
		if (/^\s*>?\s*\d*\s*\|/.test(line) || /^\s+at /.test(line) || /^\s*Browser logs:/.test(line)) break;
		if (/^=+ .* =+$/.test(line.trim())) break;
		if (/^\s*Call log:/.test(line)) {
			// The call log's first step names what was awaited ("waiting for getByRole(…)"): it tells
			// one test's timeout from another's, while an outage's steps are alike everywhere.
			const step = lines.slice(i + 1).find((l) => l.trim() !== '');
			if (step !== undefined && /^\s*-/.test(step)) kept.push(step);
			break;
		}
		kept.push(line);
	}
	return kept
		.join('\n')
		.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s'"`)]+/gi, '<url>')
		.replace(/(?:[A-Za-z]:)?(?:[\\/][\w.@-]+){2,}/g, '<path>')
		.replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>')
		.replace(/\b(?:0x)?(?=[0-9a-f]*\d)[0-9a-f]{8,}\b/gi, '<hex>')
		.replace(/\d+(?:\.\d+)?/g, '<n>')
		.split('\n')
		.map((l) => l.replace(/\s+/g, ' ').trim())
		.filter((l) => l !== '')
		.join('\n');
}

/** 16 hex digits (64 bits of SHA-256) of the normalised message: `ErrorCluster.fingerprint`. */
export function errorFingerprint(message: string): string {
	return createHash('sha256').update(normaliseErrorMessage(message)).digest('hex').slice(0, 16);
}
