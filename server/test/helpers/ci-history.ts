import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import type { TestResultInput } from 'flackyness-reporter/protocol';

/**
 * Builds CI histories over HTTP, as the reporter streams them: jobs of GitLab pipelines whose tests
 * pass, fail every attempt, or pass on retry, on chosen commits, branches, merge requests and shards.
 */

/** `skip`: skipped (test.skip()), no attempt run. */
export type Outcome = 'pass' | 'fail' | 'retry' | 'skip';

/** A commit's SHA from a short name ("c12"): hex, as GitLab's would be. */
export const sha = (name: string) => createHash('sha1').update(name).digest('hex');

/** One test's result as the reporter streams it (file shop.spec.ts, describe "shop"). */
export function result(title: string, outcome: Outcome, at: Date): TestResultInput {
	const failed = outcome === 'fail';
	if (outcome === 'skip') {
		return { file: 'shop.spec.ts', titlePath: ['shop', title], projectName: 'chromium', outcome: 'skipped', expectedStatus: 'skipped', status: 'skipped', attempts: 1, failedAttempts: 0, durationMs: 0, startedAt: at.toISOString() };
	}
	return {
		file: 'shop.spec.ts',
		titlePath: ['shop', title],
		projectName: 'chromium',
		outcome: failed ? 'unexpected' : outcome === 'retry' ? 'flaky' : 'expected',
		expectedStatus: 'passed',
		status: failed ? 'failed' : 'passed',
		attempts: outcome === 'pass' ? 1 : 2,
		failedAttempts: failed ? 2 : outcome === 'retry' ? 1 : 0,
		durationMs: outcome === 'pass' ? 1000 : 4000,
		startedAt: at.toISOString(),
		...(outcome === 'pass' ? {} : { error: { message: `Error: ${title} went wrong\nExpected: 1` } })
	};
}

/** A JSON answer, loosely typed: tests read what they assert. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export interface Api {
	(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: Json }>;
}

/** JSON over HTTP to a server, with an admin token unless another is given. */
export function apiClient(url: () => string, adminToken: string): Api {
	return async (method, path, body, token = adminToken) => {
		const res = await fetch(`${url()}${path}`, {
			method,
			headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
			body: body === undefined ? undefined : JSON.stringify(body)
		});
		const text = await res.text();
		return { status: res.status, body: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
	};
}

export interface JobSpec {
	pipeline: number;
	commit: string;
	branch: string;
	mr?: number;
	shard?: [number, number];
	at: Date;
	results: Array<[string, Outcome]>;
}

/** Streams one CI job's results (open, one batch, complete) and answers its run id. */
export async function streamJob(api: Api, ingestToken: string, p: JobSpec): Promise<string> {
	const ci = {
		provider: 'gitlab',
		branch: p.branch,
		defaultBranch: 'main',
		commitSha: sha(p.commit),
		pipelineId: String(p.pipeline),
		pipelineUrl: `https://gitlab.example.com/group/app/-/pipelines/${p.pipeline}`,
		jobId: `${p.pipeline}${p.shard?.[0] ?? 0}`,
		jobName: p.shard ? `e2e ${p.shard[0]}/${p.shard[1]}` : 'e2e',
		jobUrl: `https://gitlab.example.com/group/app/-/jobs/${p.pipeline}${p.shard?.[0] ?? 0}`,
		projectPath: 'group/app',
		...(p.mr ? { mrIid: p.mr, mrTargetBranch: 'main', mrSourceBranch: p.branch } : {}),
		...(p.shard ? { shardIndex: p.shard[0], shardTotal: p.shard[1] } : {})
	};
	const open = await api('POST', '/api/v1/runs', { ci, startedAt: p.at.toISOString() }, ingestToken);
	expect(open.status).toBe(201);
	const runId = open.body.runId as string;
	const batch = await api('POST', `/api/v1/runs/${runId}/results`, { results: p.results.map(([title, o]) => result(title, o, p.at)) }, ingestToken);
	expect(batch.status).toBe(200);
	const failed = p.results.some(([, o]) => o === 'fail');
	expect((await api('POST', `/api/v1/runs/${runId}/complete`, { status: failed ? 'failed' : 'passed', durationMs: 60_000 }, ingestToken)).status).toBe(200);
	return runId;
}

/** Polls `probe` until it answers something truthy. */
export async function until<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 20_000): Promise<NonNullable<T>> {
	const end = Date.now() + timeoutMs;
	for (;;) {
		const v = await probe();
		if (v) return v as NonNullable<T>;
		if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
		await new Promise((r) => setTimeout(r, 50));
	}
}
