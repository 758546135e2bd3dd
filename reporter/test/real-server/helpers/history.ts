/**
 * Pieces of the tests that build a history on the default branch and then ask for verdicts:
 * GitLab jobs on main, the analysis' state of a test, and a server address that answers nothing.
 */
import { createServer } from 'node:net';
import type { Project, RealServer } from './server.js';

/** The GitLab job of a pipeline on the default branch at commit `n`. */
export function onMain(n: number): Record<string, string> {
	return {
		GITLAB_CI: 'true',
		CI_COMMIT_SHA: (0xc0ffee00 + n).toString(16).padStart(40, '0'),
		CI_COMMIT_BRANCH: 'main',
		CI_COMMIT_REF_NAME: 'main',
		CI_DEFAULT_BRANCH: 'main',
		CI_PIPELINE_ID: String(4000 + n),
		CI_JOB_ID: String(8000 + n),
		CI_JOB_NAME: 'e2e'
	};
}

/** A port nothing listens on. */
export async function closedPort(): Promise<number> {
	const probe = createServer();
	await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
	const port = (probe.address() as { port: number }).port;
	await new Promise((resolve) => probe.close(resolve));
	return port;
}

/** The analysis' verdict on the test titled `title`, once it has one. */
export async function healthState(server: RealServer, project: Project, title: string): Promise<string | undefined> {
	const rows = await server.query<{ state: string }>(
		`SELECT h.state::text AS state FROM tests t JOIN test_health h ON h.test_id = t.id WHERE t.project_id = $1 AND t.title = $2`,
		[project.id, title]
	);
	return rows[0]?.state;
}
