/**
 * The load benchmark (bench/load.ts) bounded to fit CI: uploads of 50-test reports and read-API
 * requests at fixed rates for a few seconds, against one instance and then two instances sharing
 * PostgreSQL and Redis. Zero errors, zero rows lost; latency only within generous bounds, since
 * other test files share the machine. The full figures come from `pnpm --filter ./server bench:load`.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { countLoadRows, ms, percentile, runLoad, startLoadTarget, type LoadResult, type LoadTarget } from '../helpers/load.js';

const SECONDS = Number(process.env.LOAD_TEST_SECONDS ?? 12);
const RATE = Number(process.env.LOAD_TEST_RATE ?? 20);
const TESTS = 50;

function summary(name: string, r: LoadResult) {
	const row = (k: LoadResult['uploads']) =>
		`${k.ok}/${k.sent} ok, p50 ${ms(percentile(k.latencies, 50))} ms, p99 ${ms(percentile(k.latencies, 99))} ms, errors ${JSON.stringify(k.errors)}`;
	return `${name}: uploads ${row(r.uploads)}; reads ${row(r.reads)}; ${(r.elapsedMs / 1000).toFixed(1)} s`;
}

const setups: Array<{ instances: number; env: Record<string, string> }> = [
	{ instances: 1, env: {} },
	{ instances: 2, env: { REDIS_URL: 'redis://127.0.0.1:6379' } }
];

describe.each(setups)('load on $instances instance(s)', ({ instances, env }) => {
	let target: LoadTarget | undefined;
	afterAll(async () => target?.close());

	it(
		`${RATE} uploads/s of ${TESTS}-test reports and ${RATE} reads/s for ${SECONDS} s: no error, no row lost`,
		async () => {
			target = await startLoadTarget(instances, env);
			const tag = `ci${instances}`;
			const r = await runLoad({
				bases: target.servers.map((s) => s.url),
				uploadToken: target.token,
				readToken: target.token,
				projectId: target.projectId,
				uploadsPerSecond: RATE,
				readsPerSecond: RATE,
				seconds: SECONDS,
				reportTests: TESTS,
				tag,
				testIds: target.testIds,
				timeoutMs: 60_000
			});
			process.stdout.write(`${summary(`${instances} instance(s)`, r)}\n`);
			const sent = RATE * SECONDS;
			expect(r.uploads.sent).toBe(sent);
			expect(r.reads.sent).toBe(sent);
			expect(r.uploads.errors).toEqual({});
			expect(r.reads.errors).toEqual({});
			expect(r.uploads.ok).toBe(sent);
			expect(r.reads.ok).toBe(sent);
			// Every read route was exercised.
			for (const k of Object.values(r.readsByRoute)) expect(k.ok).toBeGreaterThan(0);
			// Zero rows lost: every acknowledged upload is in the database, whole.
			expect(await countLoadRows(target.databaseUrl, target.projectId, tag, TESTS)).toEqual({
				runs: sent,
				results: sent * TESTS,
				incompleteRuns: 0,
				wrongTotals: 0
			});
			expect(new Set(r.stored).size).toBe(sent);
			// Generous: the machine is shared with every other test file.
			expect(percentile(r.uploads.latencies, 99)).toBeLessThan(45_000);
			expect(percentile(r.reads.latencies, 99)).toBeLessThan(45_000);
			for (const s of target.servers) expect(s.proc.exitCode).toBeNull();
		},
		240_000
	);
});
