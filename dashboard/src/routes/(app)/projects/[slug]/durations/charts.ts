import type { ChartOption, ChartTheme } from '$lib/charts';
import { duration } from '$lib/format';
import { tooltipHtml } from '$lib/tooltip';
import type { DurationPoint } from '$lib/types';

/** A test's p50 and p95 passing duration per day or week, as two lines. */
export function durationTrendOption(points: DurationPoint[], bucket: 'day' | 'week', t: ChartTheme): ChartOption {
	const label = (iso: string) => new Date(iso).toLocaleDateString('en', { day: 'numeric', month: 'short', timeZone: 'UTC' });
	return {
		aria: { enabled: true },
		animation: false,
		grid: { left: 8, right: 12, top: 28, bottom: 4, containLabel: true },
		legend: { top: 0, right: 0, textStyle: { color: t.muted }, itemWidth: 14, itemHeight: 8 },
		tooltip: {
			trigger: 'axis',
			backgroundColor: t.surface,
			borderColor: t.grid,
			textStyle: { color: t.text },
			formatter: (params) => {
				const first = Array.isArray(params) ? params[0] : params;
				const p = points[first?.dataIndex ?? 0];
				if (!p) return '';
				return tooltipHtml(bucket === 'week' ? `week of ${label(p.from)}` : label(p.from), [
					['p50 (median)', duration(p.p50Ms)],
					['p95', duration(p.p95Ms)],
					['passing results', p.runs]
				]);
			}
		},
		xAxis: {
			type: 'category',
			data: points.map((p) => label(p.from)),
			axisLine: { lineStyle: { color: t.grid } },
			axisTick: { show: false },
			axisLabel: { color: t.muted, hideOverlap: true }
		},
		yAxis: {
			type: 'value',
			min: 0,
			axisLabel: { color: t.muted, formatter: (v: number) => duration(v) },
			splitLine: { lineStyle: { color: t.grid, type: 'dashed' } }
		},
		series: [
			{ name: 'p50', type: 'line', data: points.map((p) => p.p50Ms), symbolSize: 5, lineStyle: { width: 2, color: t.accent }, itemStyle: { color: t.accent } },
			{ name: 'p95', type: 'line', data: points.map((p) => p.p95Ms), symbolSize: 4, lineStyle: { width: 1.5, color: t.flaky, type: 'dashed' }, itemStyle: { color: t.flaky } }
		]
	};
}
