import type { ChartOption, ChartTheme } from '$lib/charts';
import { dateTime, duration, sha } from '$lib/format';
import { tooltipHtml } from '$lib/tooltip';
import type { HistoryColumns, HistoryItem, Outcome } from '$lib/types';

/** One entry per run, oldest first (index = position on the chart's x axis). */
export type Runs = HistoryColumns;

/** A compact page (newest first) turned oldest first. */
export function oldestFirst(runs: HistoryColumns): Runs {
	const out = {} as Record<keyof HistoryColumns, unknown[]>;
	for (const k of Object.keys(runs) as (keyof HistoryColumns)[]) out[k] = [...runs[k]].reverse();
	return out as unknown as Runs;
}

/** Older runs (a compact page, newest first) put before the ones already loaded. */
export function withOlder(loaded: Runs, olderPage: HistoryColumns): Runs {
	const older = oldestFirst(olderPage);
	const out = {} as Record<keyof HistoryColumns, unknown[]>;
	for (const k of Object.keys(loaded) as (keyof HistoryColumns)[]) out[k] = [...older[k], ...loaded[k]];
	return out as unknown as Runs;
}

/** What each mark means: outcome by colour AND shape, so the strip reads without colour. */
export type Kind = 'passed' | 'flaky' | 'failed' | 'skipped' | 'discounted';

export const KINDS: { kind: Kind; name: string; symbol: string; size: number | [number, number]; color: (t: ChartTheme) => string }[] = [
	{ kind: 'passed', name: 'passed', symbol: 'circle', size: 9, color: (t) => t.passed },
	{ kind: 'flaky', name: 'flaky (passed on retry)', symbol: 'triangle', size: 12, color: (t) => t.flaky },
	{ kind: 'failed', name: 'failed', symbol: 'rect', size: 10, color: (t) => t.failed },
	{ kind: 'skipped', name: 'skipped', symbol: 'path://M0,0H12V4H0Z', size: [11, 4], color: (t) => t.skipped },
	{ kind: 'discounted', name: 'not counted: infrastructure', symbol: 'diamond', size: 13, color: (t) => t.discounted }
];

const OUTCOME_KIND: Record<Outcome, Kind> = { expected: 'passed', flaky: 'flaky', unexpected: 'failed', skipped: 'skipped' };

export function kindOf(runs: Runs, i: number): Kind {
	return runs.discountedWhy[i] ? 'discounted' : OUTCOME_KIND[runs.outcome[i]!];
}

export const OUTCOME_WORDS: Record<Outcome, string> = { expected: 'passed', flaky: 'flaky (failed, then passed on retry)', unexpected: 'failed', skipped: 'skipped' };

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
export function shortWhen(iso: string): string {
	const d = new Date(iso);
	return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
}

/** Ticks of the log duration axis (powers of ten): 1 ms … 100 ms, 1 s, 10 s, 100 s. */
function logTick(ms: number): string {
	return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000).toLocaleString('en')} s`;
}

/** Runs shown at first: the newest ones. */
export const FIRST_WINDOW = 100;

export interface HistoryView {
	runs: Runs;
	/** Name of the default branch's lane. */
	defaultLane: string;
	/** Index range (inclusive) of the runs in view. */
	window: { start: number; end: number };
	changePointSha: string | null;
	/** Legend entries switched off. */
	hidden: ReadonlySet<string>;
}

/** The run under the pointer, as a tooltip: every field of the run a reader asks about. */
export function runTooltip(runs: Runs, i: number): string {
	const kind = kindOf(runs, i);
	const outcome = OUTCOME_WORDS[runs.outcome[i]!];
	const failed = runs.failedAttempts[i]!;
	return tooltipHtml(kind === 'discounted' ? `${outcome}, not counted` : outcome, [
		['when', dateTime(runs.startedAt[i])],
		['attempts', `${runs.attempts[i]}${failed ? `, ${failed} failed` : ''}`],
		['duration', runs.outcome[i] === 'skipped' ? 'did not run (skipped)' : duration(runs.durationMs[i])],
		['branch', `${runs.branch[i] ?? '–'}${runs.defaultBranch[i] ? ' (default branch)' : ''}`],
		['commit', runs.commitSha[i] ? sha(runs.commitSha[i]) : null],
		['job', runs.jobName[i]],
		['pipeline', runs.pipelineId[i]],
		['not counted, because', runs.discountedWhy[i]]
	]);
}

/**
 * Two charts on one zoomable x axis (one slot per run, oldest on the left):
 *  - a strip of runs, one mark per run, its outcome in colour and shape, default-branch runs in the
 *    top lane and other branches in the lane below, runs not counted (infrastructure) as diamonds;
 *  - the duration of each run that ran, on a log scale (skipped runs took no time and are not drawn).
 * Legend entries toggle an outcome in both.
 */
export function historyOption(v: HistoryView, t: ChartTheme): ChartOption {
	const { runs } = v;
	const n = runs.runId.length;
	const labels = runs.startedAt.map(shortWhen);
	const branches = runs.defaultBranch.some((d) => !d);
	const lanes = branches ? ['other branches', v.defaultLane] : [v.defaultLane];
	const byKind = new Map<Kind, number[]>(KINDS.map((k) => [k.kind, []]));
	for (let i = 0; i < n; i++) byKind.get(kindOf(runs, i))!.push(i);
	const firstBad = v.changePointSha ? runs.commitSha.indexOf(v.changePointSha) : -1;
	const stripHeight = lanes.length * 26;
	const axisText = { color: t.muted, fontSize: 11 };
	const strip = KINDS.map((k) => ({
		name: k.name,
		type: 'scatter' as const,
		xAxisIndex: 0,
		yAxisIndex: 0,
		symbol: k.symbol,
		symbolSize: k.size,
		itemStyle: { color: k.color(t), opacity: 1 },
		emphasis: { scale: 1.4 },
		data: byKind.get(k.kind)!.map((i) => [i, runs.defaultBranch[i] ? lanes.length - 1 : 0])
	}));
	// The commit where a broken test began failing: a dashed line across the duration chart, which has room for its label.
	const durations = KINDS.filter((k) => k.kind !== 'skipped').map((k, j) => ({
		name: k.name,
		type: 'scatter' as const,
		xAxisIndex: 1,
		yAxisIndex: 1,
		symbol: k.symbol,
		symbolSize: typeof k.size === 'number' ? Math.max(5, k.size - 4) : k.size,
		itemStyle: { color: k.color(t), opacity: 0.85 },
		data: byKind.get(k.kind)!.map((i) => [i, Math.max(1, runs.durationMs[i]!)]),
		...(j === 0 && firstBad >= 0
			? {
					markLine: {
						symbol: 'none',
						silent: true,
						lineStyle: { color: t.failed, type: 'dashed' as const },
						label: { formatter: `broken since ${sha(v.changePointSha)}`, color: t.failed, position: 'insideEndTop' as const },
						data: [{ xAxis: firstBad }]
					}
				}
			: {})
	}));
	const xAxis = (grid: number, showLabels: boolean) => ({
		type: 'category' as const,
		gridIndex: grid,
		data: labels,
		boundaryGap: true,
		axisLine: { lineStyle: { color: t.grid } },
		axisTick: { show: false },
		axisLabel: showLabels ? { ...axisText, hideOverlap: true } : { show: false },
		axisPointer: { show: true, type: 'line' as const, lineStyle: { color: t.muted, type: 'dotted' as const }, label: { show: false } }
	});
	return {
		aria: { enabled: true },
		animation: false,
		// The legend is the page's own (HistoryStrip): readable, with counts; this one only switches series.
		legend: { show: false, selected: Object.fromEntries(KINDS.map((k) => [k.name, !v.hidden.has(k.name)])) },
		tooltip: {
			trigger: 'item',
			backgroundColor: t.surface,
			borderColor: t.grid,
			textStyle: { color: t.text },
			confine: true,
			// A discounted run's reason is a sentence: wrap it.
			extraCssText: 'max-width: min(440px, 90vw); white-space: normal; overflow-wrap: anywhere;',
			formatter: (params) => {
				const p = Array.isArray(params) ? params[0] : params;
				const i = (p?.value as number[] | undefined)?.[0];
				return i === undefined ? '' : runTooltip(runs, i);
			}
		},
		axisPointer: { link: [{ xAxisIndex: 'all' }] },
		grid: [
			{ left: 110, right: 16, top: 8, height: stripHeight },
			{ left: 110, right: 16, top: 8 + stripHeight + 34, bottom: 72 }
		],
		xAxis: [xAxis(0, false), xAxis(1, true)],
		yAxis: [
			{
				type: 'category',
				gridIndex: 0,
				data: lanes,
				axisLine: { show: false },
				axisTick: { show: false },
				axisLabel: { ...axisText, color: t.text, width: 100, overflow: 'truncate' },
				splitLine: { show: true, lineStyle: { color: t.grid, type: 'dashed' } }
			},
			{
				type: 'log',
				gridIndex: 1,
				name: 'duration (log scale)',
				nameLocation: 'end',
				nameTextStyle: { ...axisText, align: 'left', padding: [0, 0, 0, -100] },
				axisLabel: { ...axisText, formatter: logTick },
				splitLine: { lineStyle: { color: t.grid, type: 'dashed' } }
			}
		],
		dataZoom: [
			{
				type: 'slider',
				xAxisIndex: [0, 1],
				startValue: v.window.start,
				endValue: v.window.end,
				bottom: 8,
				height: 22,
				left: 110,
				right: 16,
				brushSelect: false,
				showDataShadow: false,
				borderColor: t.grid,
				textStyle: { color: t.muted, fontSize: 11 },
				labelFormatter: (value: number) => labels[value] ?? ''
			},
			{ type: 'inside', xAxisIndex: [0, 1], startValue: v.window.start, endValue: v.window.end, minValueSpan: 10 }
		],
		series: [...strip, ...durations]
	};
}

/** Errors of the shown runs grouped by their cluster (normalised fingerprint), most frequent first. */
export function errorGroups(history: HistoryItem[]) {
	const groups = new Map<string, { fingerprint: string | null; message: string; location: string | null; count: number; lastAt: string }>();
	for (const h of history) {
		if (!h.error) continue;
		const key = h.error.fingerprint ?? h.error.message;
		const g = groups.get(key);
		if (g) g.count++;
		else groups.set(key, { fingerprint: h.error.fingerprint, message: h.error.message, location: h.error.location, count: 1, lastAt: h.startedAt });
	}
	return [...groups.values()].sort((a, b) => b.count - a.count);
}
