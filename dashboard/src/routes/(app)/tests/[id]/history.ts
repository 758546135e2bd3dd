import type { ChartOption, ChartTheme } from '$lib/charts';
import { dateTime, duration, sha } from '$lib/format';
import { tooltipHtml } from '$lib/tooltip';
import type { HistoryItem, Outcome } from '$lib/types';

const SERIES: { outcome: Outcome; name: string; color: (t: ChartTheme) => string }[] = [
	{ outcome: 'expected', name: 'passed', color: (t) => t.passed },
	{ outcome: 'flaky', name: 'flaky', color: (t) => t.flaky },
	{ outcome: 'unexpected', name: 'failed', color: (t) => t.failed },
	{ outcome: 'skipped', name: 'skipped', color: (t) => t.skipped }
];

/**
 * One bar per run, oldest on the left, as tall as the test took and coloured by its outcome; a
 * dashed line marks the commit where a broken test began failing.
 */
export function historyOption(newestFirst: HistoryItem[], changePointSha: string | null, t: ChartTheme): ChartOption {
	const runs = [...newestFirst].reverse();
	const labels = runs.map((r) => {
		const d = new Date(r.startedAt);
		return `${d.getUTCDate()}/${d.getUTCMonth() + 1} ${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
	});
	const firstBad = changePointSha ? runs.findIndex((r) => r.commitSha === changePointSha) : -1;
	// Skipped runs take no time; they still get a visible stub.
	const height = (r: HistoryItem) => Math.max(r.durationMs / 1000, 0.05);
	return {
		aria: { enabled: true },
		animation: false,
		grid: { left: 8, right: 8, top: 52, bottom: 4, containLabel: true },
		legend: { top: 0, right: 0, textStyle: { color: t.muted }, itemWidth: 12, itemHeight: 10 },
		tooltip: {
			trigger: 'axis',
			axisPointer: { type: 'shadow' },
			backgroundColor: t.surface,
			borderColor: t.grid,
			textStyle: { color: t.text },
			confine: true,
			formatter: (params) => {
				const first = Array.isArray(params) ? params[0] : params;
				const r = runs[first?.dataIndex ?? 0];
				if (!r) return '';
				const outcome = SERIES.find((s) => s.outcome === r.outcome)?.name ?? r.outcome;
				return tooltipHtml(`${outcome}${r.infra ? ' (infrastructure)' : ''}`, [
					['when', dateTime(r.startedAt)],
					['attempts', `${r.attempts}${r.failedAttempts ? `, ${r.failedAttempts} failed` : ''}`],
					['duration', duration(r.durationMs)],
					['branch', r.branch],
					['commit', r.commitSha ? `${sha(r.commitSha)} ${r.commitTitle ?? ''}`.trim() : null],
					['pipeline', r.pipelineId]
				]);
			}
		},
		xAxis: {
			type: 'category',
			data: labels,
			axisLine: { lineStyle: { color: t.grid } },
			axisTick: { show: false },
			axisLabel: { color: t.muted, hideOverlap: true }
		},
		yAxis: {
			type: 'value',
			name: 'seconds',
			nameTextStyle: { color: t.muted, align: 'left' },
			min: 0,
			axisLabel: { color: t.muted },
			splitLine: { lineStyle: { color: t.grid, type: 'dashed' } }
		},
		series: SERIES.map((s, i) => ({
			name: s.name,
			type: 'bar' as const,
			stack: 'run',
			barMaxWidth: 18,
			barMinHeight: 2,
			itemStyle: { color: s.color(t) },
			data: runs.map((r) => (r.outcome === s.outcome ? height(r) : null)),
			...(i === 0 && firstBad >= 0
				? {
						markLine: {
							symbol: 'none',
							silent: true,
							lineStyle: { color: t.failed, type: 'dashed' as const },
							label: { formatter: `broken since ${sha(changePointSha)}`, color: t.failed, position: 'end' as const },
							data: [{ xAxis: firstBad }]
						}
					}
				: {})
		}))
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
