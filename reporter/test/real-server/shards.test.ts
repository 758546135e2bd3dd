/**
 * `--shard=1/2` and `--shard=2/2` in a GitLab `parallel:` job against the real server: two runs in
 * one group, together what the two JSON reports hold; then `merge-reports` counts nothing twice.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { JSONReport } from '@playwright/test/reporter';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromJsonReport } from '../helpers/json-report.js';
import { gitlabParallelJob, makeProject, mergeReports, runShards } from '../helpers/playwright.js';
import { startRealServer, type RealServer } from './helpers/server.js';
import { asComparable, resultCount, storedResults, storedRuns, uploadJsonReport } from './helpers/stored.js';

let server: RealServer;
beforeAll(async () => {
	server = await startRealServer();
}, 300_000);
afterAll(async () => {
	await server?.destroy();
});

const pipeline = {
	GITLAB_CI: 'true',
	CI_PROJECT_PATH: 'group/app',
	CI_PIPELINE_ID: '4242',
	CI_COMMIT_SHA: 'abcdef0123456789abcdef0123456789abcdef01',
	CI_COMMIT_BRANCH: 'main',
	CI_DEFAULT_BRANCH: 'main'
};

// Real processes on a shared CI machine: minutes, not the default two.
describe('shards and merge-reports against the real server', { timeout: 300_000 }, () => {
	it('stores each shard as a run of one group, and merge-reports adds nothing', async () => {
		const sharded = await server.createProject('sharded');
		const project = makeProject();
		// One blob directory per shard, as on separate CI machines.
		const { shards, blobDir } = await runShards(project, 2, (index) => ({
			...gitlabParallelJob(pipeline, index, 2, 7000),
			FLACKYNESS_URL: server.url,
			FLACKYNESS_TOKEN: sharded.token
		}));

		const runs = await storedRuns(server, sharded);
		expect(runs).toHaveLength(2);
		expect(runs.map((r) => [r.shard_index, r.shard_total, r.job_name, r.group_key, r.status])).toEqual([
			[1, 2, 'e2e 1/2', 'gitlab:4242:e2e', shards[0]!.report.stats.unexpected > 0 ? 'failed' : 'passed'],
			[2, 2, 'e2e 2/2', 'gitlab:4242:e2e', shards[1]!.report.stats.unexpected > 0 ? 'failed' : 'passed']
		]);
		for (const [i, stored] of runs.entries()) {
			const results = await storedResults(server, [stored.id]);
			expect(results.length).toBeGreaterThan(0);
			expect(asComparable(results)).toEqual(fromJsonReport(shards[i]!.report));
		}
		// Together, every test of the suite exactly once.
		const all = await storedResults(server, runs.map((r) => r.id));
		expect(all).toHaveLength(24);
		expect(new Set(all.map((r) => JSON.stringify([r.projectName, r.file, r.titlePath]))).size).toBe(24);

		const mergedFile = path.join(project, 'merged.json');
		const merge = (token: string, extra: Record<string, string> = {}) =>
			// A later job of the same pipeline; CI_NODE_INDEX exists only in `parallel:` jobs.
			mergeReports(project, blobDir, { ...pipeline, CI_JOB_NAME: 'merge', CI_JOB_ID: '7100', CI_NODE_TOTAL: '1', FLACKYNESS_URL: server.url, FLACKYNESS_TOKEN: token, PLAYWRIGHT_JSON_OUTPUT_FILE: mergedFile, ...extra });

		// The shards streamed their results: merging them sends nothing, so nothing is counted twice.
		const resultsBefore = await resultCount(server, sharded);
		const skipped = await merge(sharded.token);
		expect(skipped.code).toBe(0);
		expect(`${skipped.stdout}${skipped.stderr}`).toContain('[flackyness] merge-reports: nothing sent');
		expect(await storedRuns(server, sharded)).toHaveLength(2);
		expect(await resultCount(server, sharded)).toBe(resultsBefore);

		// Shards that only wrote blobs: FLACKYNESS_MERGE_MODE=upload sends the merged run, once, without a shard.
		const merged = await server.createProject('merged');
		const uploaded = await merge(merged.token, { FLACKYNESS_MERGE_MODE: 'upload' });
		expect(uploaded.code).toBe(0);
		const mergedRuns = await storedRuns(server, merged);
		expect(mergedRuns).toHaveLength(1);
		expect(mergedRuns[0]).toMatchObject({ shard_index: null, total: 24, status: 'failed' });
		const mergedReport = JSON.parse(readFileSync(mergedFile, 'utf8')) as JSONReport;
		const mergedResults = await storedResults(server, [mergedRuns[0]!.id]);
		expect(asComparable(mergedResults)).toEqual(fromJsonReport(mergedReport));
		// The same as the server makes of the merged JSON report itself.
		const mirror = await server.createProject('merged-json');
		const receipt = await uploadJsonReport(server, mirror, mergedFile);
		expect(mergedResults).toEqual(await storedResults(server, [receipt.runId]));
	});
});
