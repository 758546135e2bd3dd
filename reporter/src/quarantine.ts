import type { QuarantineList } from './api.js';

export interface TestIdentity {
	file: string;
	titlePath: readonly string[];
	projectName: string;
}

export interface QuarantineVerdict {
	/** Tests whose outcome was unexpected. */
	unexpected: number;
	/** Of those, how many are quarantined. */
	quarantined: number;
	/** Every unexpected test is quarantined, and nothing else went wrong. */
	allQuarantined: boolean;
}

function key(file: string, titlePath: readonly string[], projectName: string | null | undefined): string {
	return JSON.stringify([file, titlePath, projectName ?? null]);
}

/** Matches tests against the server's list; an entry without a project matches every project. */
export function quarantineMatcher(list: QuarantineList): (test: TestIdentity) => boolean {
	const keys = new Set(list.tests.map((t) => key(t.file, t.titlePath, t.projectName)));
	return (test) => keys.has(key(test.file, test.titlePath, test.projectName)) || keys.has(key(test.file, test.titlePath, null));
}

/**
 * Whether the failures of a run are all quarantined. `otherErrors` (errors outside tests, such as
 * a spec file that does not load) are never covered by quarantine.
 */
export function judgeQuarantine(unexpected: readonly TestIdentity[], list: QuarantineList | null, otherErrors: number): QuarantineVerdict {
	if (!list || unexpected.length === 0) return { unexpected: unexpected.length, quarantined: 0, allQuarantined: false };
	const isQuarantined = quarantineMatcher(list);
	const quarantined = unexpected.filter(isQuarantined).length;
	return { unexpected: unexpected.length, quarantined, allQuarantined: quarantined === unexpected.length && otherErrors === 0 };
}
