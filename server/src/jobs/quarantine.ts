import type pg from 'pg';
import { releaseActive, releaseExpired } from '../repositories/quarantine.js';
import { analyseTests } from './analysis.js';

/** Releases a test's active quarantine and lets the analysis decide its state again. */
export async function releaseTest(pool: pg.Pool, projectId: string, testId: string, by: string): Promise<boolean> {
	if (!(await releaseActive(pool, projectId, testId, by))) return false;
	await analyseTests(pool, projectId, [testId]);
	return true;
}

/** Quarantines whose expiry passed: released, and their tests analysed again. */
export async function releaseExpiredQuarantines(pool: pg.Pool): Promise<number> {
	const freed = await releaseExpired(pool);
	for (const t of freed) await analyseTests(pool, t.projectId, [t.testId]);
	return freed.length;
}
