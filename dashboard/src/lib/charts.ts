/**
 * ECharts with only what the dashboard draws: line, bar and heatmap charts on a grid or a calendar,
 * with tooltips, legends, visual maps, mark lines and ARIA descriptions, rendered to canvas.
 */
import * as echarts from 'echarts/core';
import { BarChart, HeatmapChart, LineChart } from 'echarts/charts';
import type { BarSeriesOption, HeatmapSeriesOption, LineSeriesOption } from 'echarts/charts';
import {
	AriaComponent,
	CalendarComponent,
	GridComponent,
	LegendComponent,
	MarkLineComponent,
	TooltipComponent,
	VisualMapComponent
} from 'echarts/components';
import type {
	AriaComponentOption,
	CalendarComponentOption,
	GridComponentOption,
	LegendComponentOption,
	MarkLineComponentOption,
	TooltipComponentOption,
	VisualMapComponentOption
} from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([
	BarChart,
	HeatmapChart,
	LineChart,
	AriaComponent,
	CalendarComponent,
	GridComponent,
	LegendComponent,
	MarkLineComponent,
	TooltipComponent,
	VisualMapComponent,
	CanvasRenderer
]);

export { echarts };

export type ChartOption = echarts.ComposeOption<
	| BarSeriesOption
	| LineSeriesOption
	| HeatmapSeriesOption
	| AriaComponentOption
	| CalendarComponentOption
	| GridComponentOption
	| LegendComponentOption
	| MarkLineComponentOption
	| TooltipComponentOption
	| VisualMapComponentOption
>;

/** Colours of the page (CSS custom properties), so charts follow light and dark mode. */
export interface ChartTheme {
	text: string;
	muted: string;
	grid: string;
	surface: string;
	accent: string;
	passed: string;
	flaky: string;
	failed: string;
	skipped: string;
	empty: string;
}

export function readTheme(el: HTMLElement): ChartTheme {
	const css = getComputedStyle(el);
	const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
	return {
		text: v('--text', '#1f2328'),
		muted: v('--muted', '#656d76'),
		grid: v('--border', '#d0d7de'),
		surface: v('--surface', '#ffffff'),
		accent: v('--accent', '#0969da'),
		passed: v('--passed', '#1a7f37'),
		flaky: v('--flaky', '#bf8700'),
		failed: v('--failed', '#cf222e'),
		skipped: v('--skipped', '#8c959f'),
		empty: v('--surface-2', '#f6f8fa')
	};
}
