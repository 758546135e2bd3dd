/**
 * What a Playwright JSON report says about each test, in the shape of the protocol's results, to
 * compare with what the server received. Written from the JSON report's documented structure,
 * independently of the reporter's own serialisation.
 */
import type { JSONReport, JSONReportSuite } from '@playwright/test/reporter';

export interface Comparable {
	file: string;
	titlePath: string[];
	projectName: string;
	tags: string[];
	outcome: string;
	expectedStatus: string;
	status: string;
	attempts: number;
	failedAttempts: number;
	durationMs: number;
	startedAt: string | undefined;
	annotations: { type: string; description?: string }[];
	errorFirstLine: string | undefined;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;
const firstLine = (s: string | undefined) => s?.replace(ANSI, '').split('\n')[0];
const annotations = (list: { type: string; description?: string }[]) =>
	list.map((a) => (a.description === undefined ? { type: a.type } : { type: a.type, description: a.description }));

export function fromJsonReport(report: JSONReport): Comparable[] {
	const out: Comparable[] = [];
	const walk = (suite: JSONReportSuite, titles: string[]) => {
		for (const spec of suite.specs) {
			for (const test of spec.tests) {
				const results = test.results;
				const failed = results.filter((r) => r.status !== test.expectedStatus && r.status !== 'skipped' && r.status !== 'interrupted');
				// The server's rule: the first error of the first failed attempt that has one.
				const withError = failed.find((r) => r.errors.length || (r.status === 'passed' && test.expectedStatus === 'failed'));
				const errorMessage = withError?.errors[0]?.message ?? (withError ? 'Expected to fail, but passed.' : undefined);
				out.push({
					file: spec.file,
					titlePath: [...titles, spec.title],
					projectName: test.projectName,
					tags: spec.tags,
					outcome: test.status,
					expectedStatus: test.expectedStatus,
					status: results.at(-1)?.status ?? 'skipped',
					attempts: results.length,
					failedAttempts: failed.length,
					durationMs: results.reduce((sum, r) => sum + Math.round(r.duration), 0),
					startedAt: results[0] ? new Date(results[0].startTime).toISOString() : undefined,
					annotations: annotations(test.annotations),
					errorFirstLine: firstLine(errorMessage)
				});
			}
		}
		// Anonymous describe blocks have an empty title and name nothing.
		for (const child of suite.suites ?? []) walk(child, child.title === '' ? titles : [...titles, child.title]);
	};
	// The top-level suites are files; their title is the file path, not a describe block.
	for (const fileSuite of report.suites) walk(fileSuite, []);
	return sortComparable(out);
}

export function fromReceived(results: Record<string, unknown>[]): Comparable[] {
	return sortComparable(
		results.map((r) => ({
			file: r.file as string,
			titlePath: r.titlePath as string[],
			projectName: (r.projectName as string) ?? '',
			tags: (r.tags as string[]) ?? [],
			outcome: r.outcome as string,
			expectedStatus: r.expectedStatus as string,
			status: r.status as string,
			attempts: r.attempts as number,
			failedAttempts: r.failedAttempts as number,
			durationMs: r.durationMs as number,
			startedAt: (r.attempts as number) > 0 ? (r.startedAt as string) : undefined,
			annotations: annotations((r.annotations as { type: string; description?: string }[]) ?? []),
			errorFirstLine: firstLine((r.error as { message?: string } | undefined)?.message)
		}))
	);
}

function sortComparable(list: Comparable[]): Comparable[] {
	const key = (c: Comparable) => JSON.stringify([c.projectName, c.file, c.titlePath]);
	return list.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
