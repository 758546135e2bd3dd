/**
 * Load benchmark: `pnpm --filter ./server bench:load` (build the server first: `pnpm --filter ./server build`).
 *
 * Against the built server as production runs it, on the local PostgreSQL (a fresh database each
 * time), over loopback only:
 *   - LOAD_UPLOADS uploads per second (default 100) of LOAD_TESTS-test Playwright JSON reports
 *     (default 50), while readers make LOAD_READS requests per second (default 100) to the read API
 *     (flaky tests, stats, runs, test detail), for LOAD_SECONDS (default 60);
 *   - first against one instance, then against two instances on two ports sharing the database and
 *     Redis (REDIS_URL, default redis://127.0.0.1:6379) for the rate limits.
 * LOAD_INSTANCES=1 or 2 runs one of the two; LOAD_PASSING_ONLY=1 uploads reports without failures
 * (no error clusters touched), to compare.
 * Prints, for each: requests sent and answered, errors, p50/p90/p99/max latency of uploads and reads
 * (open loop: from each request's due time), and the rows counted in the database against the rows
 * sent, and each server process's peak RSS. Exits 1 when a request failed or a row is missing.
 */
import { cpus, loadavg } from 'node:os';
import pg from 'pg';
import { peakRssMiB } from '../test/helpers/process-memory.js';
import { countLoadRows, cpuBetween, cpuMsOf, postgresCpuMs, ms, percentile, runLoad, startLoadTarget, type KindResult, type LoadResult, type RowCheck } from '../test/helpers/load.js';

const SECONDS = Number(process.env.LOAD_SECONDS ?? 60);
const UPLOADS = Number(process.env.LOAD_UPLOADS ?? 100);
const READS = Number(process.env.LOAD_READS ?? 100);
const TESTS = Number(process.env.LOAD_TESTS ?? 50);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ONLY = process.env.LOAD_INSTANCES?.split(',').map(Number) ?? [1, 2];

interface Outcome {
	instances: number;
	load: LoadResult;
	rows: RowCheck;
	backlog: number;
	/** CPU time the server processes used during the load, ms. */
	serverCpuMs: number;
	/** Peak resident set size of each server process over its life (VmHWM), MiB. */
	peakRssMiB: number[];
	/** CPU time of the PostgreSQL sessions of the servers' database during the load, ms. */
	postgresCpuMs: number;
	loadBefore: number;
	loadAfter: number;
}

function errorsOf(k: KindResult): string {
	const e = Object.entries(k.errors);
	return e.length === 0 ? '0' : e.map(([code, n]) => `${n}×${code}`).join(' ');
}

function line(name: string, k: KindResult, seconds: number): string {
	const l = k.latencies;
	return [
		name.padEnd(22),
		String(k.sent).padStart(6),
		String(k.ok).padStart(6),
		errorsOf(k).padStart(8),
		(k.ok / seconds).toFixed(1).padStart(7),
		ms(percentile(l, 50)).padStart(7),
		ms(percentile(l, 90)).padStart(7),
		ms(percentile(l, 99)).padStart(7),
		ms(l.at(-1) ?? NaN).padStart(7)
	].join(' ');
}

async function once(instances: number): Promise<Outcome> {
	const target = await startLoadTarget(instances, instances > 1 ? { REDIS_URL } : {});
	try {
		process.stdout.write(`\n${instances} instance(s) on ${target.servers.map((s) => s.url).join(', ')}: ${SECONDS} s…\n`);
		const tag = `bench${instances}`;
		const loadBefore = loadavg()[0]!;
		const cpuBefore = target.servers.reduce((a, s) => a + cpuMsOf(s.proc.pid), 0);
		const pgBefore = await postgresCpuMs(target.databaseUrl);
		const load = await runLoad({
			bases: target.servers.map((s) => s.url),
			uploadToken: target.token,
			readToken: target.token,
			projectId: target.projectId,
			uploadsPerSecond: UPLOADS,
			readsPerSecond: READS,
			seconds: SECONDS,
			reportTests: TESTS,
			tag,
			testIds: target.testIds,
			failing: process.env.LOAD_PASSING_ONLY !== '1'
		});
		const serverCpuMs = target.servers.reduce((a, s) => a + cpuMsOf(s.proc.pid), 0) - cpuBefore;
		const peaks = target.servers.map((s) => peakRssMiB(s.proc.pid));
		const pgCpu = cpuBetween(pgBefore, await postgresCpuMs(target.databaseUrl));
		const loadAfter = loadavg()[0]!;
		const rows = await countLoadRows(target.databaseUrl, target.projectId, tag, TESTS);
		const client = new pg.Client({ connectionString: target.databaseUrl });
		await client.connect();
		const backlog = (await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM analysis_jobs`)).rows[0]!.n;
		await client.end();
		for (const s of target.servers) {
			const { stderr } = s.output();
			if (stderr.trim()) process.stdout.write(`server ${s.url} stderr:\n${stderr.slice(-2000)}\n`);
		}
		return { instances, load, rows, backlog, serverCpuMs, peakRssMiB: peaks, postgresCpuMs: pgCpu, loadBefore, loadAfter };
	} finally {
		await target.close();
	}
}

function print(o: Outcome) {
	const secs = o.load.elapsedMs / 1000;
	const sentRows = o.load.uploads.ok * TESTS;
	process.stdout.write(
		[
			``,
			`== ${o.instances} instance(s): ${UPLOADS} uploads/s of ${TESTS}-test reports + ${READS} reads/s for ${SECONDS} s (took ${secs.toFixed(1)} s; generator lag max ${ms(o.load.maxSendLagMs)} ms)`,
			`${'requests'.padEnd(22)} ${'sent'.padStart(6)} ${'ok'.padStart(6)} ${'errors'.padStart(8)} ${'ok/s'.padStart(7)} ${'p50 ms'.padStart(7)} ${'p90 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'max ms'.padStart(7)}`,
			line('uploads (POST reports)', o.load.uploads, secs),
			line('reads (all)', o.load.reads, secs),
			...Object.entries(o.load.readsByRoute).map(([route, k]) => line(`  ${route}`, k, secs)),
			`rows: runs ${o.rows.runs} stored / ${o.load.uploads.ok} acknowledged / ${o.load.uploads.sent} sent; test_results ${o.rows.results} stored / ${sentRows} sent; incomplete runs ${o.rows.incompleteRuns}; wrong totals ${o.rows.wrongTotals}`,
			`CPU: server processes ${(o.serverCpuMs / 1000).toFixed(1)} s (${ms(o.serverCpuMs / (o.load.uploads.sent + o.load.reads.sent))} ms per request, analysis worker included), PostgreSQL sessions ${(o.postgresCpuMs / 1000).toFixed(1)} s, in ${secs.toFixed(1)} s; machine: ${cpus().length} cores, load average ${o.loadBefore.toFixed(1)} before, ${o.loadAfter.toFixed(1)} after`,
			`memory: peak RSS (VmHWM) of the server process(es) ${o.peakRssMiB.map((m) => `${m.toFixed(0)} MiB`).join(', ')}`,
			`analysis jobs still queued when the load ended: ${o.backlog}`,
			``
		].join('\n')
	);
}

const outcomes: Outcome[] = [];
for (const n of ONLY) {
	const o = await once(n);
	print(o);
	outcomes.push(o);
}
const bad = outcomes.filter(
	(o) =>
		o.load.uploads.ok !== o.load.uploads.sent ||
		o.load.reads.ok !== o.load.reads.sent ||
		o.rows.runs !== o.load.uploads.sent ||
		o.rows.results !== o.load.uploads.sent * TESTS ||
		o.rows.incompleteRuns !== 0 ||
		o.rows.wrongTotals !== 0
);
if (bad.length > 0) {
	process.stdout.write(`FAILED: errors or missing rows with ${bad.map((o) => o.instances).join(', ')} instance(s)\n`);
	process.exit(1);
}
process.stdout.write('OK: zero errors, zero rows lost\n');
