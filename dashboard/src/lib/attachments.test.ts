import { describe, expect, it } from 'vitest';
import { artifactLinks, isTrace, showTraceCommand } from './attachments';

describe('artifactLinks', () => {
	const job = 'https://gitlab.example.com/group/app/-/jobs/4242';
	it('browses and downloads a file in a GitLab job’s artifacts', () => {
		expect(artifactLinks(job, 'test-results/a/trace.zip')).toEqual({
			browse: `${job}/artifacts/file/test-results/a/trace.zip`,
			raw: `${job}/artifacts/raw/test-results/a/trace.zip`
		});
	});
	it('encodes each path segment, keeping the slashes', () => {
		expect(artifactLinks(`${job}/`, 'test-results/a b#1/ü?.png')?.raw).toBe(`${job}/artifacts/raw/test-results/a%20b%231/%C3%BC%3F.png`);
	});
	it('makes no link without a GitLab job URL', () => {
		expect(artifactLinks(null, 'a.zip')).toBeNull();
		expect(artifactLinks('https://github.com/o/r/actions/runs/1', 'a.zip')).toBeNull();
		expect(artifactLinks('javascript:alert(1)//-/jobs/1', 'a.zip')).toBeNull();
		expect(artifactLinks('not a url', 'a.zip')).toBeNull();
	});
});

describe('showTraceCommand', () => {
	it('gives the path as it is when the shell reads it so, quoted otherwise', () => {
		expect(showTraceCommand('test-results/a-retry1/trace.zip')).toBe('npx playwright show-trace test-results/a-retry1/trace.zip');
		expect(showTraceCommand("test-results/it's here/trace.zip")).toBe(`npx playwright show-trace 'test-results/it'\\''s here/trace.zip'`);
	});
	it('knows a trace by name and type', () => {
		expect(isTrace({ name: 'trace', contentType: 'application/zip' })).toBe(true);
		expect(isTrace({ name: 'screenshot', contentType: 'image/png' })).toBe(false);
	});
});
