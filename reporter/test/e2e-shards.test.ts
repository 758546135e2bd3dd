/** `--shard=i/N` runs in a GitLab `parallel:` job, then `merge-reports` of their blob reports. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { JSONReport } from '@playwright/test/reporter';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeServer, storedResults, type FakeServer } from './helpers/fake-server.js';
import { fromJsonReport, fromReceived } from './helpers/json-report.js';
import { gitlabParallelJob, makeProject, mergeReports, runShards } from './helpers/playwright.js';

const servers: FakeServer[] = [];
afterEach(async () => {
	await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(): Promise<FakeServer> {
	const s = await startFakeServer();
	servers.push(s);
	return s;
}

const pipeline = {
	GITLAB_CI: 'true',
	CI_PROJECT_PATH: 'group/app',
	CI_PIPELINE_ID: '555',
	CI_COMMIT_SHA: 'abcdef0123456789abcdef0123456789abcdef01',
	CI_COMMIT_BRANCH: 'main'
};

describe('shards and merge-reports', () => {
	it('reports each shard with its index, and merge-reports adds nothing unless told to upload', async () => {
		const server = await serve();
		const project = makeProject();
		const { shards, blobDir } = await runShards(project, 2, (index) => ({
			...gitlabParallelJob(pipeline, index, 2, 1000),
			FLACKYNESS_URL: server.url,
			FLACKYNESS_TOKEN: 'test-token'
		}));

		// One run per shard, each with its shard; together exactly the tests of both JSON reports.
		const runs = [...server.runs.values()];
		expect(runs.map((r) => r.open.ci)).toEqual([
			expect.objectContaining({ jobName: 'e2e 1/2', shardIndex: 1, shardTotal: 2, pipelineId: '555' }),
			expect.objectContaining({ jobName: 'e2e 2/2', shardIndex: 2, shardTotal: 2, pipelineId: '555' })
		]);
		const perShard = runs.map((r) => fromReceived([...r.results.values()]));
		expect(perShard[0]).toEqual(fromJsonReport(shards[0]!.report));
		expect(perShard[1]).toEqual(fromJsonReport(shards[1]!.report));
		expect(perShard[0]!.length).toBeGreaterThan(0);
		expect(perShard[1]!.length).toBeGreaterThan(0);
		expect(storedResults(server)).toHaveLength(24);
		const keys = storedResults(server).map((r) => JSON.stringify([r.projectName, r.file, r.titlePath]));
		expect(new Set(keys).size).toBe(24);

		// merge-reports, configured only by the environment: by default, nothing is sent again.
		const requestsBefore = server.requests.length;
		const mergedFile = path.join(project, 'merged.json');
		const skipped = await mergeReports(project, blobDir, { FLACKYNESS_URL: server.url, FLACKYNESS_TOKEN: 'test-token', PLAYWRIGHT_JSON_OUTPUT_FILE: mergedFile });
		expect(server.requests.length).toBe(requestsBefore);
		expect(`${skipped.stdout}${skipped.stderr}`).toContain(
			'[flackyness] merge-reports: nothing sent, the shards streamed their own results (FLACKYNESS_MERGE_MODE=upload sends the merged run instead)'
		);

		// With FLACKYNESS_MERGE_MODE=upload (shards that only wrote blobs), the merged run is sent once.
		const uploadServer = await serve();
		const uploaded = await mergeReports(project, blobDir, {
			FLACKYNESS_URL: uploadServer.url,
			FLACKYNESS_TOKEN: 'test-token',
			PLAYWRIGHT_JSON_OUTPUT_FILE: mergedFile,
			FLACKYNESS_MERGE_MODE: 'upload'
		});
		const mergedReport = JSON.parse(readFileSync(mergedFile, 'utf8')) as JSONReport;
		expect(uploadServer.runs.size).toBe(1);
		const merged = [...uploadServer.runs.values()][0]!;
		expect(merged.open.ci).not.toHaveProperty('shardIndex');
		expect(fromReceived([...merged.results.values()])).toEqual(fromJsonReport(mergedReport));
		expect(merged.results.size).toBe(24);
		expect(`${uploaded.stdout}${uploaded.stderr}`).toContain(`${uploadServer.url}/runs/${merged.runId}`);
	}, 240_000); // three Playwright runs (two shards, merge-reports): a loaded CI machine took over 120 s
});
