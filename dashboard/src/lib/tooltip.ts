/**
 * ECharts renders tooltips as HTML: everything that came from a CI job (branch names, commit
 * titles) goes through escapeHtml before it reaches a formatter's answer.
 */
export function escapeHtml(s: unknown): string {
	return String(s ?? '').replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Tooltip lines as "label: value", every part escaped; the first line in bold. */
export function tooltipHtml(title: string, rows: [string, string | number | null | undefined][]): string {
	const body = rows
		.filter(([, v]) => v !== null && v !== undefined && v !== '')
		.map(([k, v]) => `${escapeHtml(k)}: ${escapeHtml(v)}`)
		.join('<br>');
	return `<b>${escapeHtml(title)}</b>${body ? `<br>${body}` : ''}`;
}
