#!/usr/bin/env node
// `pnpm recompute [project-slug]`: judges every run again and re-analyses every test.
import { migrate } from '../db/migrate.js';
import { recompute } from '../jobs/analysis.js';
import { findProject } from '../repositories/projects.js';
import { connectForCli } from './connect.js';

const slug = process.argv[2];
const { db, config, close } = await connectForCli();
try {
	await migrate(db.pool, { dir: config.MIGRATIONS_DIR });
	let projectId: string | undefined;
	if (slug) {
		const p = await findProject(db.pool, slug);
		if (!p) throw new Error(`No project "${slug}".`);
		projectId = p.id;
	}
	const started = performance.now();
	const r = await recompute(db.pool, projectId);
	const s = ((performance.now() - started) / 1000).toFixed(1);
	process.stdout.write(`Recomputed ${r.tests} tests and re-judged ${r.runs} runs in ${r.projects} project(s) in ${s} s.\n`);
} catch (err) {
	process.stderr.write(`recompute failed: ${(err as Error).message}\n`);
	process.exitCode = 1;
} finally {
	await close();
}
