import { describe, expect, it } from 'vitest';
import { escapeHtml, tooltipHtml } from './tooltip';

describe('chart tooltips', () => {
	it('escape everything that came from CI before ECharts renders it as HTML', () => {
		const html = tooltipHtml('<img src=x onerror=alert(1)>', [
			['branch', '"><script>alert(2)</script>'],
			['commit', "it's `fine` & done"],
			['skipped', null]
		]);
		expect(html).not.toMatch(/<img|<script|"><|`/);
		expect(html).toContain('&#60;img src=x onerror=alert(1)&#62;');
		expect(html).not.toContain('skipped');
		expect(escapeHtml(undefined)).toBe('');
	});
});
