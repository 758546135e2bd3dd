/** Short, plain renderings of numbers, dates and commits for the tools' text answers. */

/** A share in percent; "n/a" for none (a test skipped in every run has no failure chance). */
export function pct(x: number | null): string {
	if (x === null) return 'n/a';
	const p = x * 100;
	if (p === 0) return '0%';
	if (p < 1) return `${p.toFixed(1)}%`;
	return `${Math.round(p)}%`;
}

/** "7% (3–12%)", or "7% (90% interval 3–12%)" with the interval's mass: an estimate with its credible interval. */
export function pctInterval(mean: number | null, low: number | null, high: number | null, mass?: number | null): string {
	if (mean === null || low === null || high === null) return 'n/a (skipped in every run)';
	return `${pct(mean)} (${mass ? `${pct(mass)} interval ` : ''}${pct(low)}–${pct(high)})`;
}

export function minutes(m: number): string {
	if (m === 0) return '0 min';
	if (m < 0.1) return '<0.1 min';
	return m < 10 ? `${m.toFixed(1)} min` : `${Math.round(m)} min`;
}

export function sha(s: string | null | undefined): string {
	return s ? s.slice(0, 8) : '?';
}

/** "2025-03-04 12:30 UTC": dates for agents, unambiguous and short. */
export function when(iso: string | null | undefined): string {
	if (!iso) return 'never';
	const d = new Date(iso);
	if (Number.isNaN(d.getTime())) return iso;
	return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function plural(n: number, word: string): string {
	return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The first line of an error message, cut to `max` characters. */
export function firstLine(message: string, max = 200): string {
	const line = message.split('\n').find((l) => l.trim() !== '')?.trim() ?? '';
	return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

export function testName(t: { titlePath: string[]; title: string }): string {
	return t.titlePath.length > 0 ? t.titlePath.join(' › ') : t.title;
}
