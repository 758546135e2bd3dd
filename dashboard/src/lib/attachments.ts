import type { Attachment } from './types';

/**
 * GitLab serves a job's artifacts under its URL: `<job>/artifacts/file/<path>` shows a file in the
 * browser, `<job>/artifacts/raw/<path>` downloads it. Only for a GitLab job URL
 * (`https://host/group/app/-/jobs/123`); other CI systems keep artifacts elsewhere.
 */
export function artifactLinks(jobUrl: string | null | undefined, path: string): { browse: string; raw: string } | null {
	if (!jobUrl) return null;
	let url: URL;
	try {
		url = new URL(jobUrl);
	} catch {
		return null;
	}
	if ((url.protocol !== 'https:' && url.protocol !== 'http:') || !/\/-\/jobs\/\d+\/?$/.test(url.pathname)) return null;
	const job = `${url.origin}${url.pathname.replace(/\/$/, '')}`;
	const file = path.split('/').map(encodeURIComponent).join('/');
	return { browse: `${job}/artifacts/file/${file}`, raw: `${job}/artifacts/raw/${file}` };
}

/** Playwright's trace viewer opens a trace zip from disk. */
export function isTrace(a: Pick<Attachment, 'name' | 'contentType'>): boolean {
	return a.name === 'trace' && a.contentType === 'application/zip';
}

/** The command that opens a trace locally, with the path quoted for a POSIX shell when needed. */
export function showTraceCommand(path: string): string {
	const quoted = /^[\w./@%+=:,-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
	return `npx playwright show-trace ${quoted}`;
}
