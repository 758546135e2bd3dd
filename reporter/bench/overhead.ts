/**
 * What the reporter costs a run: 1,000 trivial tests (`test/fixtures/many`, 4 workers) with the
 * real `playwright test`, without the reporter, and with it against the real server (built
 * `server/dist`, PostgreSQL on 127.0.0.1:5432), against a server that is down, and against one
 * that never answers. Runs are interleaved (each round runs every scenario, in a rotating order),
 * and each scenario's median is compared with the median without the reporter.
 *
 * Three times per run: the wall time of `playwright test`; its end — from the moment Playwright
 * starts ending the run (a marker reporter listed first) to the exit — which is where the upload's
 * waiting shows, free of the noise of 1,000 tests; and the CPU time of Playwright's main process,
 * where reporters run (the tests run in workers), read by a marker reporter listed last: what the
 * reporter's work costs, which other load on the machine disturbs far less than wall time.
 *
 * The server stands in for one on another machine: it runs at the lowest CPU priority and without
 * its analysis worker, so that the benchmark measures the reporter, not a server sharing the
 * test workers' CPUs.
 *
 *   pnpm --filter ./reporter bench            (BENCH_ROUNDS, default 5)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { closedPortUrl } from '../test/helpers/fake-server.js';
import { PACKAGE_DIR, cleanEnv, makeProject, run } from '../test/helpers/playwright.js';
import { startDelayProxy } from '../test/real-server/helpers/delay-proxy.js';
import { startRealServer } from '../test/real-server/helpers/server.js';

const ROUNDS = Math.max(5, Number(process.env.BENCH_ROUNDS ?? 5) || 5);
const DEADLINE_MS = 15_000;
const PLAYWRIGHT = path.join(PACKAGE_DIR, 'node_modules/.bin/playwright');
const END_MARKER = path.join(PACKAGE_DIR, 'bench/end-marker.mjs');
const CPU_MARKER = path.join(PACKAGE_DIR, 'bench/cpu-marker.mjs');

interface Scenario {
	name: string;
	reporters: string[];
	env: Record<string, string>;
	/** What the scenario must stay under, given its medians and those without the reporter. */
	target?: (m: Medians, base: Medians) => { text: string; met: boolean };
	wall: number[];
	end: number[];
	cpu: number[];
	codes: Set<number | null>;
}

interface Medians {
	wall: number;
	end: number;
	cpu: number;
}

function median(values: number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	const mid = Math.floor(sorted.length / 2);
	return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const signed = (ms: number) => `${ms >= 0 ? '+' : '−'}${(Math.abs(ms) / 1000).toFixed(2)} s`;

async function main(): Promise<void> {
	const server = await startRealServer({ ANALYSIS_WORKER: 'false' });
	os.setPriority(server.process.proc.pid!, 19);
	const project = await server.createProject('bench');
	const proxy = await startDelayProxy(server.url, { kind: 'hang' });
	const workdir = makeProject();
	const markerDir = mkdtempSync(path.join(os.tmpdir(), 'flackyness-bench-'));
	const spoolDir = path.join(workdir, 'many', 'flackyness-spool');
	const flackyness = { FLACKYNESS_TOKEN: project.token, FLACKYNESS_UPLOAD_DEADLINE_MS: String(DEADLINE_MS) };
	const scenario = (name: string, env: Record<string, string>, target?: Scenario['target']): Scenario => ({
		name,
		reporters: env.FLACKYNESS_URL ? ['dot', 'flackyness-reporter'] : ['dot'],
		env,
		...(target ? { target } : {}),
		wall: [],
		end: [],
		cpu: [],
		codes: new Set()
	});
	const scenarios = [
		scenario('without the reporter', {}),
		scenario('reporter, server up', { ...flackyness, FLACKYNESS_URL: server.url }, (m, base) => ({
			text: 'wall < +3 %',
			met: m.wall - base.wall < 0.03 * base.wall
		})),
		scenario('reporter, server down', { ...flackyness, FLACKYNESS_URL: await closedPortUrl() }, (m, base) => ({
			text: 'wall and end < +1 s',
			met: m.wall - base.wall < 1000 && m.end - base.end < 1000
		})),
		scenario('reporter, server hangs', { ...flackyness, FLACKYNESS_URL: proxy.url }, (m, base) => ({
			text: `end < deadline (${DEADLINE_MS / 1000} s) + 1 s`,
			met: m.end - base.end < DEADLINE_MS + 1000
		}))
	];

	const runOnce = async (s: Scenario): Promise<Medians> => {
		const endMarker = path.join(markerDir, 'end');
		const cpuMarker = path.join(markerDir, 'cpu');
		rmSync(endMarker, { force: true });
		rmSync(cpuMarker, { force: true });
		const reporters = [END_MARKER, ...s.reporters, CPU_MARKER].join(',');
		const exit = await run(
			PLAYWRIGHT,
			['test', '-c', 'many/playwright.config.ts', `--reporter=${reporters}`],
			workdir,
			cleanEnv({ ...s.env, BENCH_END_MARKER: endMarker, BENCH_CPU_MARKER: cpuMarker }),
			300_000
		);
		const exitedAt = Date.now();
		s.codes.add(exit.code);
		if (exit.code !== 0) throw new Error(`${s.name}: playwright exited with ${exit.code}\n${exit.stdout}\n${exit.stderr}`);
		rmSync(spoolDir, { recursive: true, force: true });
		return { wall: exit.ms, end: exitedAt - Number(readFileSync(endMarker, 'utf8')), cpu: Number(readFileSync(cpuMarker, 'utf8')) };
	};

	try {
		// One unmeasured run each: file caches, Playwright's transform cache, the server's first queries.
		for (const s of scenarios) await runOnce(s);
		for (let round = 0; round < ROUNDS; round++) {
			for (let i = 0; i < scenarios.length; i++) {
				const s = scenarios[(round + i) % scenarios.length]!;
				const { wall, end, cpu } = await runOnce(s);
				s.wall.push(wall);
				s.end.push(end);
				s.cpu.push(cpu);
				process.stderr.write(`round ${round + 1}/${ROUNDS} · ${s.name}: ${seconds(wall)} (end ${seconds(end)}, main-process CPU ${seconds(cpu)})\n`);
			}
		}
		const [stored] = await server.query<{ n: number }>(`SELECT count(*)::int AS n FROM test_results WHERE project_id = $1`, [project.id]);
		printTable(scenarios, stored!.n);
	} finally {
		await proxy.close();
		await server.destroy();
		rmSync(workdir, { recursive: true, force: true });
		rmSync(markerDir, { recursive: true, force: true });
	}
}

function printTable(scenarios: Scenario[], storedResults: number): void {
	const medians = (s: Scenario): Medians => ({ wall: median(s.wall), end: median(s.end), cpu: median(s.cpu) });
	const percent = (delta: number, of: number) => `${(delta / of) * 100 >= 0 ? '+' : '−'}${Math.abs((delta / of) * 100).toFixed(1)} %`;
	const base = medians(scenarios[0]!);
	const rows = scenarios.map((s, i) => {
		const m = medians(s);
		const target = s.target?.(m, base);
		return [
			s.name,
			String(s.wall.length),
			seconds(m.wall),
			`${seconds(Math.min(...s.wall))} – ${seconds(Math.max(...s.wall))}`,
			i === 0 ? '' : `${signed(m.wall - base.wall)} (${percent(m.wall - base.wall, base.wall)})`,
			seconds(m.end),
			i === 0 ? '' : signed(m.end - base.end),
			seconds(m.cpu),
			i === 0 ? '' : `${signed(m.cpu - base.cpu)} (${percent(m.cpu - base.cpu, base.cpu)})`,
			[...s.codes].join(','),
			target ? `${target.text}: ${target.met ? 'met' : 'NOT met'}` : ''
		];
	});
	const header = ['1,000 tests', 'runs', 'wall median', 'wall min – max', 'Δ wall', 'end median', 'Δ end', 'main CPU median', 'Δ main CPU', 'exit', 'target'];
	const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
	const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
	console.log(
		`\nflackyness-reporter overhead · Node ${process.version} · ${os.cpus().length} CPUs, load ${os.loadavg()[0]!.toFixed(1)} · ${ROUNDS} interleaved rounds after one warm-up each`
	);
	console.log(line(header));
	console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
	for (const r of rows) console.log(line(r));
	console.log(
		`\n"end": from Playwright ending the run to the process exit. "main CPU": user + system time of Playwright's main process, where reporters run.\nResults stored with the server up: ${storedResults} (${storedResults / 1000} runs).`
	);
}

main().catch((err: unknown) => {
	console.error(err instanceof Error ? err.message : err);
	process.exitCode = 1;
});
