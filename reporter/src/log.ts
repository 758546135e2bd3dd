/** Terminal output: `[flackyness] …` lines on stderr (stdout may be carrying a JSON report), and diagnostics behind DEBUG. */

export const PREFIX = '[flackyness]';

export type LineWriter = (line: string) => void;

/** Writes one `[flackyness] …` line. Never throws: a closed stderr must not fail the run. */
export const printLine: LineWriter = (line) => {
	try {
		process.stderr.write(`${PREFIX} ${line}\n`);
	} catch {
		// Nowhere left to say it.
	}
};

/** Whether `namespace` is enabled by a `DEBUG` value such as `flackyness*`, `flackyness:http,-flackyness:ci` or `*`. */
export function debugEnabled(namespace: string, debugValue: string | undefined): boolean {
	if (!debugValue) return false;
	let enabled = false;
	for (const raw of debugValue.split(/[\s,]+/)) {
		if (!raw) continue;
		const negated = raw.startsWith('-');
		const pattern = negated ? raw.slice(1) : raw;
		const re = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`);
		if (re.test(namespace)) enabled = !negated;
	}
	return enabled;
}

function escapeRegExp(s: string): string {
	return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export type Debug = ((message: string) => void) & { enabled: boolean };

export function createDebug(namespace: string, env: Record<string, string | undefined> = process.env): Debug {
	const enabled = debugEnabled(namespace, env.DEBUG);
	const debug = ((message: string) => {
		if (!enabled) return;
		try {
			process.stderr.write(`${namespace} ${message}\n`);
		} catch {
			// Diagnostics are best effort.
		}
	}) as Debug;
	debug.enabled = enabled;
	return debug;
}

/** A URL without credentials, query or fragment, fit for a terminal line. */
export function displayUrl(url: string): string {
	try {
		const u = new URL(url);
		u.username = '';
		u.password = '';
		u.search = '';
		u.hash = '';
		return u.toString().replace(/\/$/, '');
	} catch {
		return '(invalid URL)';
	}
}
