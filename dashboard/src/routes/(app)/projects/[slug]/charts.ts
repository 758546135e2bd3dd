import type { ChartOption, ChartTheme } from '$lib/charts';
import { pct } from '$lib/format';
import { tooltipHtml } from '$lib/tooltip';
import type { TrendDay } from '$lib/types';

const shortDay = (d: string) => {
	const [, m, day] = d.split('-');
	return `${Number(day)} ${['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][Number(m) - 1]}`;
};

/** Daily flake rate (share of results that were flaky noise) as a line, with the run count behind it. */
export function trendOption(days: TrendDay[], t: ChartTheme): ChartOption {
	const axisLine = { lineStyle: { color: t.grid } };
	return {
		aria: { enabled: true },
		animation: false,
		grid: { left: 8, right: 8, top: 28, bottom: 4, containLabel: true },
		legend: { top: 0, right: 0, textStyle: { color: t.muted }, itemWidth: 14, itemHeight: 8 },
		tooltip: {
			trigger: 'axis',
			backgroundColor: t.surface,
			borderColor: t.grid,
			textStyle: { color: t.text },
			formatter: (params) => {
				const first = Array.isArray(params) ? params[0] : params;
				const d = days[first?.dataIndex ?? 0];
				if (!d) return '';
				return tooltipHtml(d.day, [
					['flake rate', d.flakeRate === null ? 'no results' : pct(d.flakeRate, 1)],
					['flaky results', `${d.flaky} of ${d.results}`],
					['failed results', d.failed],
					['runs', d.runs]
				]);
			}
		},
		xAxis: {
			type: 'category',
			data: days.map((d) => shortDay(d.day)),
			axisLine,
			axisTick: { show: false },
			axisLabel: { color: t.muted, hideOverlap: true }
		},
		yAxis: [
			{
				type: 'value',
				name: 'flake rate',
				nameTextStyle: { color: t.muted, align: 'left' },
				min: 0,
				axisLabel: { color: t.muted, formatter: (v: number) => `${v}%` },
				splitLine: { lineStyle: { color: t.grid, type: 'dashed' } }
			},
			// Runs stay in the lower third, behind the line.
			{ type: 'value', name: 'runs', min: 0, max: Math.max(1, ...days.map((d) => d.runs)) * 3, show: false }
		],
		series: [
			{
				name: 'runs',
				type: 'bar',
				yAxisIndex: 1,
				data: days.map((d) => d.runs),
				itemStyle: { color: t.grid },
				barMaxWidth: 12
			},
			{
				name: 'flake rate',
				type: 'line',
				data: days.map((d) => (d.flakeRate === null ? null : Math.round(d.flakeRate * 1000) / 10)),
				connectNulls: true,
				symbolSize: 5,
				lineStyle: { width: 2, color: t.flaky },
				itemStyle: { color: t.flaky },
				areaStyle: { color: t.flaky, opacity: 0.12 }
			}
		]
	};
}

/** One cell per day, coloured by that day's flake rate; days without results stay empty. */
export function calendarOption(days: TrendDay[], t: ChartTheme): ChartOption {
	const withData = days.filter((d) => d.results > 0);
	const max = Math.max(5, ...withData.map((d) => Math.ceil((d.flakeRate ?? 0) * 100)));
	const byDay = new Map(days.map((d) => [d.day, d]));
	return {
		aria: { enabled: true },
		animation: false,
		tooltip: {
			backgroundColor: t.surface,
			borderColor: t.grid,
			textStyle: { color: t.text },
			formatter: (p) => {
				const value = (p as { value?: [string, number] }).value;
				const d = value ? byDay.get(value[0]) : undefined;
				if (!d) return '';
				return tooltipHtml(d.day, [
					['flake rate', pct(d.flakeRate, 1)],
					['flaky results', `${d.flaky} of ${d.results}`],
					['runs', d.runs]
				]);
			}
		},
		visualMap: {
			min: 0,
			max,
			calculable: false,
			orient: 'horizontal',
			left: 'right',
			top: 0,
			itemWidth: 10,
			itemHeight: 90,
			text: [`${max}%`, '0%'],
			textStyle: { color: t.muted },
			inRange: { color: [t.passed, t.flaky, t.failed] }
		},
		calendar: {
			top: 44,
			left: 28,
			right: 6,
			bottom: 4,
			range: [days[0]?.day ?? '', days.at(-1)?.day ?? ''],
			cellSize: ['auto', 14],
			splitLine: { show: false },
			itemStyle: { color: t.empty, borderColor: t.surface, borderWidth: 2 },
			dayLabel: { firstDay: 1, nameMap: ['S', 'M', 'T', 'W', 'T', 'F', 'S'], color: t.muted, fontSize: 10 },
			monthLabel: { color: t.muted, fontSize: 11 },
			yearLabel: { show: false }
		},
		series: [
			{
				type: 'heatmap',
				coordinateSystem: 'calendar',
				data: withData.map((d) => [d.day, Math.round((d.flakeRate ?? 0) * 1000) / 10])
			}
		]
	};
}
