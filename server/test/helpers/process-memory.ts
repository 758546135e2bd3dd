import { readFileSync } from 'node:fs';

/** Peak resident set size of a process so far (VmHWM), in MiB; NaN when unknown (not Linux, gone). */
export function peakRssMiB(pid: number | undefined): number {
	if (pid === undefined) return NaN;
	try {
		const status = readFileSync(`/proc/${pid}/status`, 'utf8');
		return Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1]) / 1024;
	} catch {
		return NaN;
	}
}
