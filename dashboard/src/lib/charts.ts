/**
 * ECharts with only what the dashboard draws: line, bar, scatter and heatmap charts on a grid or a
 * calendar, with tooltips, legends, visual maps, mark lines, zoom (slider and inside) and ARIA
 * descriptions, rendered to canvas.
 */
import * as echarts from 'echarts/core';
import { BarChart, HeatmapChart, LineChart, ScatterChart } from 'echarts/charts';
import type { BarSeriesOption, HeatmapSeriesOption, LineSeriesOption, ScatterSeriesOption } from 'echarts/charts';
import {
	AriaComponent,
	CalendarComponent,
	DataZoomInsideComponent,
	DataZoomSliderComponent,
	GridComponent,
	LegendComponent,
	MarkLineComponent,
	TooltipComponent,
	VisualMapComponent
} from 'echarts/components';
import type {
	AriaComponentOption,
	CalendarComponentOption,
	DataZoomComponentOption,
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
	ScatterChart,
	AriaComponent,
	CalendarComponent,
	DataZoomInsideComponent,
	DataZoomSliderComponent,
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
	| ScatterSeriesOption
	| AriaComponentOption
	| CalendarComponentOption
	| DataZoomComponentOption
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
	/** Runs the analysis does not count (infrastructure). */
	discounted: string;
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
		discounted: v('--suspect', '#8250df'),
		empty: v('--surface-2', '#f6f8fa')
	};
}
