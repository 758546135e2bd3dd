import type pg from 'pg';
import { recompute } from './jobs/analysis.js';
import { parsePlaywrightReport } from './ingest/playwright-json.js';
import { completeRun, openRun, runIdentity, storeResults } from './ingest/store.js';
import { transaction } from './db/database.js';
import { simulate } from './sim/simulator.js';
import type { SimUpload } from './sim/types.js';

export interface DemoResult {
	runs: number;
	results: number;
	tests: number;
	ms: number;
}

/**
 * Fills the demo project with a simulated CI history ending now — flaky tests across the whole
 * spread of rates, regressions and their fixes, a one-browser regression, outages, shards, merge
 * requests and manual retries — through the same parser and storage as real uploads, then
 * analyses it once.
 */
export async function seedDemo(
	pool: pg.Pool,
	projectId: string,
	opts: { days?: number; files?: number; seed?: number; signal?: AbortSignal } = {}
): Promise<DemoResult> {
	const started = performance.now();
	const days = opts.days ?? 14;
	const sim = simulate({ seed: opts.seed ?? 2026, days, files: opts.files ?? 10, start: new Date(Date.now() - days * 86_400_000) });
	let runs = 0;
	let results = 0;
	let batch: SimUpload[] = [];
	// Several uploads per transaction: a commit per run would make this wait on the disk.
	const flush = () =>
		transaction(pool, async (client) => {
			for (const upload of batch) {
				const parsed = parsePlaywrightReport(upload.report);
				const run = await openRun(client, {
					projectId,
					identity: runIdentity(upload.metadata, {}),
					source: 'json_upload',
					ci: upload.metadata,
					playwrightVersion: parsed.playwrightVersion,
					startedAt: parsed.startedAt
				});
				if (!run.created) continue;
				await storeResults(client, projectId, run.id, parsed.results);
				await completeRun(client, run.id, { status: parsed.status, durationMs: parsed.durationMs, enqueue: false });
				runs++;
				results += parsed.results.length;
			}
			batch = [];
		});
	for (const upload of sim.uploads()) {
		// A shutdown stops the loading between two transactions; what was loaded stays.
		opts.signal?.throwIfAborted();
		batch.push(upload);
		if (batch.length >= 10) await flush();
	}
	if (batch.length) await flush();
	// One analysis of the whole history instead of one per run.
	const r = await recompute(pool, projectId);
	return { runs, results, tests: r.tests, ms: performance.now() - started };
}
