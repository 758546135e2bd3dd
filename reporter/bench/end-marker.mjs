// A reporter for the benchmark: writes the time at which Playwright starts ending the run to
// BENCH_END_MARKER. Listed first, it runs before the reporters after it: from there to the
// process's exit is what a reporter's upload adds to a run.
import { writeFileSync } from 'node:fs';

export default class EndMarker {
	onEnd() {
		if (process.env.BENCH_END_MARKER) writeFileSync(process.env.BENCH_END_MARKER, String(Date.now()));
	}

	printsToStdio() {
		return false;
	}
}
