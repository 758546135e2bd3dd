// A reporter for the benchmark, listed last: when its onEnd runs, every reporter before it has
// finished, and the CPU time of Playwright's main process (where reporters run; the tests run in
// workers) is what the run cost there. Written to BENCH_CPU_MARKER, in milliseconds.
import { writeFileSync } from 'node:fs';

export default class CpuMarker {
	onEnd() {
		const { user, system } = process.cpuUsage();
		if (process.env.BENCH_CPU_MARKER) writeFileSync(process.env.BENCH_CPU_MARKER, String((user + system) / 1000));
	}

	printsToStdio() {
		return false;
	}
}
