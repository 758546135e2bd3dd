import type pg from 'pg';
import {
	infraFingerprints,
	resolveAnalysisSettings,
	resolveInfraGuardSettings,
	resolveQuarantinePolicy,
	type AnalysisSettings,
	type InfraGuardSettings,
	type QuarantinePolicy
} from '../analysis/index.js';

/**
 * What the analysis needs to know of a project before it judges its tests: its settings, its
 * default branches and the error fingerprints that mean infrastructure. Read by the analysis worker
 * and by the reads that mark runs as the analysis counts them.
 */
export interface ProjectContext {
	settings: AnalysisSettings;
	guard: InfraGuardSettings;
	defaultBranches: string[];
	/** Error fingerprints that (nearly) only occur in jobs judged infrastructure failures. */
	infraFingerprints: Set<string>;
	quarantinePolicy: QuarantinePolicy;
}

/** Error-cluster statistics behind `infraFingerprints` cover this long before the project's newest run. */
const INFRA_FINGERPRINT_WINDOW = '30 days';

export async function projectContext(
	db: pg.Pool | pg.ClientBase,
	projectId: string,
	options: { infraFingerprints?: boolean } = {}
): Promise<ProjectContext> {
	const { rows } = await db.query<{ settings: Record<string, unknown> }>(`SELECT settings FROM projects WHERE id = $1`, [projectId]);
	const stored = (rows[0]?.settings ?? {}) as { analysis?: object; infraGuard?: object; defaultBranch?: string; quarantinePolicy?: object };
	const guard = safeSettings(() => resolveInfraGuardSettings(stored.infraGuard ?? {}), () => resolveInfraGuardSettings({}));
	return {
		settings: safeSettings(() => resolveAnalysisSettings(stored.analysis ?? {}), () => resolveAnalysisSettings({})),
		guard,
		defaultBranches: stored.defaultBranch ? [stored.defaultBranch] : ['main', 'master'],
		quarantinePolicy: resolveQuarantinePolicy(stored.quarantinePolicy),
		// The worker reads them after judging its runs (see processAnalysisJobs).
		infraFingerprints: options.infraFingerprints === false ? new Set() : await projectInfraFingerprints(db, projectId, guard)
	};
}

/**
 * Errors seen (nearly) only in infrastructure jobs, from the project's recent failures: such an error
 * in a job the per-job guard let through (a short outage) is infrastructure too. A generic message
 * that also fails ordinary tests (a timeout) never qualifies (see `infraFingerprints`).
 */
export async function projectInfraFingerprints(db: pg.Pool | pg.ClientBase, projectId: string, guard: InfraGuardSettings): Promise<Set<string>> {
	const { rows } = await db.query<{ fingerprint: string; failures: number; in_infra: number }>(
		`SELECT r.error_fingerprint AS fingerprint, count(*)::int AS failures, count(*) FILTER (WHERE ru.infra_failure)::int AS in_infra
		 FROM test_results r JOIN runs ru ON ru.id = r.run_id
		 WHERE r.project_id = $1 AND r.error_fingerprint IS NOT NULL AND r.outcome IN ('unexpected', 'flaky')
		   AND r.started_at > (SELECT max(started_at) FROM runs WHERE project_id = $1) - interval '${INFRA_FINGERPRINT_WINDOW}'
		 GROUP BY 1
		 HAVING count(*) FILTER (WHERE ru.infra_failure) >= $2`,
		[projectId, guard.fingerprintMinFailures]
	);
	return infraFingerprints(
		rows.map((r) => ({ fingerprint: r.fingerprint, failures: r.failures, failuresInInfraJobs: r.in_infra })),
		guard
	);
}

/** Stored settings were validated when saved; a later schema change must not stop the analysis. */
function safeSettings<T>(read: () => T, fallback: () => T): T {
	try {
		return read();
	} catch {
		return fallback();
	}
}
