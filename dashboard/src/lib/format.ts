/** Formatting for people: percentages, durations, times, commits. Pure functions, unit-tested. */

export function pct(x: number | null | undefined, digits?: number): string {
	if (x === null || x === undefined || !Number.isFinite(x)) return '–';
	const v = x * 100;
	const d = digits ?? (v !== 0 && Math.abs(v) < 1 ? 1 : 0);
	return `${v.toFixed(d)}%`;
}

/** "7% (3–12%)": an estimate with its interval. */
/** "7% (3–12%)"; a dash when there is no estimate (a test skipped in every run). */
export function pctInterval(mean: number | null, low: number | null, high: number | null): string {
	if (mean === null || low === null || high === null) return '–';
	const digits = Math.abs(mean) < 0.01 || Math.abs(low) < 0.01 ? 1 : 0;
	return `${pct(mean, digits)} (${(low * 100).toFixed(digits)}–${pct(high, digits)})`;
}

export function duration(ms: number | null | undefined): string {
	if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
	if (ms < 1000) return `${Math.round(ms)} ms`;
	const s = ms / 1000;
	if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
	const m = Math.floor(s / 60);
	const rest = Math.round(s % 60);
	if (m < 60) return rest ? `${m} min ${rest} s` : `${m} min`;
	const h = Math.floor(m / 60);
	return `${h} h ${m % 60} min`;
}

/** Minutes per day of CI time lost, e.g. "12 min/day". */
/** The number and its unit apart, for cards that print the unit smaller. */
export function impactParts(minutesPerDay: number | null | undefined): [string, string] {
	const s = impact(minutesPerDay);
	const m = /^(<?\s?[\d.]+)\s(.+)$/.exec(s);
	return m ? [m[1]!, m[2]!] : [s, ''];
}

export function impact(minutesPerDay: number | null | undefined): string {
	if (minutesPerDay === null || minutesPerDay === undefined || !Number.isFinite(minutesPerDay)) return '–';
	if (minutesPerDay === 0) return '0';
	if (minutesPerDay * 60 < 1) return '< 1 s/day';
	if (minutesPerDay < 1) return `${Math.round(minutesPerDay * 60)} s/day`;
	if (minutesPerDay < 120) return `${minutesPerDay < 10 ? minutesPerDay.toFixed(1) : Math.round(minutesPerDay)} min/day`;
	return `${(minutesPerDay / 60).toFixed(1)} h/day`;
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
	['year', 365 * 86400],
	['month', 30 * 86400],
	['week', 7 * 86400],
	['day', 86400],
	['hour', 3600],
	['minute', 60]
];

/** "3 hours ago"; "just now" under a minute. */
export function ago(iso: string | null | undefined, now = Date.now()): string {
	if (!iso) return 'never';
	const t = Date.parse(iso);
	if (!Number.isFinite(t)) return '–';
	const s = Math.round((t - now) / 1000);
	const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
	for (const [unit, size] of UNITS) if (Math.abs(s) >= size) return rtf.format(Math.round(s / size), unit);
	return 'just now';
}

/** "26 Nov 2026, 14:05" in UTC, the same on server and browser so hydration agrees. */
export function dateTime(iso: string | null | undefined): string {
	if (!iso) return '–';
	const d = new Date(iso);
	if (!Number.isFinite(d.getTime())) return '–';
	return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}, ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`;
}

export function day(iso: string | null | undefined): string {
	if (!iso) return '–';
	const d = new Date(iso);
	if (!Number.isFinite(d.getTime())) return '–';
	return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');

export function sha(s: string | null | undefined): string {
	return s ? s.slice(0, 8) : '–';
}

export function plural(n: number, one: string, many = `${one}s`): string {
	return `${n.toLocaleString('en')} ${n === 1 ? one : many}`;
}

export function count(n: number | null | undefined): string {
	return n === null || n === undefined ? '–' : n.toLocaleString('en');
}

/** Links shown to people: only http(s) URLs, so a stored `javascript:` URL never becomes a link. */
export function safeHref(url: string | null | undefined): string | null {
	if (!url) return null;
	try {
		const u = new URL(url);
		return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
	} catch {
		return null;
	}
}

/**
 * GitLab links derived from a pipeline or job URL: commit and merge request pages live under the
 * same project path (`https://gitlab.example.com/group/app/-/pipelines/4711`).
 */
export function gitlabProjectUrl(pipelineOrJobUrl: string | null | undefined): string | null {
	const href = safeHref(pipelineOrJobUrl);
	if (!href) return null;
	const m = /^(https?:\/\/.+?)\/-\/(pipelines|jobs)\//.exec(href);
	return m ? m[1]! : null;
}

export function commitUrl(pipelineOrJobUrl: string | null | undefined, commitSha: string | null | undefined): string | null {
	const base = gitlabProjectUrl(pipelineOrJobUrl);
	return base && commitSha && /^[0-9a-f]{7,64}$/i.test(commitSha) ? `${base}/-/commit/${commitSha}` : null;
}

export function mergeRequestUrl(pipelineOrJobUrl: string | null | undefined, iid: number | null | undefined): string | null {
	const base = gitlabProjectUrl(pipelineOrJobUrl);
	return base && iid ? `${base}/-/merge_requests/${iid}` : null;
}
