import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { errorBodySchema, newTestsRequestSchema, newTestsResponseSchema, type NewTest } from 'flackyness-reporter/protocol';
import { canReadProject } from '../../auth/plugin.js';
import { testKey } from '../../ingest/store.js';
import { projectContext } from '../../repositories/project-context.js';
import { HttpError } from '../../lib/http-errors.js';
import { findProject } from '../../repositories/projects.js';
import { sightingsByKey, type TestSightings } from '../../repositories/new-tests.js';

type Asked = Pick<NewTest, 'file' | 'titlePath' | 'projectName'>;

function answerFor(test: Asked, seen: TestSightings | undefined): NewTest {
	const asked = { file: test.file, titlePath: test.titlePath, projectName: test.projectName };
	if (!seen) return { ...asked, testId: null, isNew: true, seenOn: 'never' };
	const seenOn = seen.onDefaultBranch ? 'default-branch' : seen.anywhere ? 'other-branches' : 'never';
	return { ...asked, testId: seen.testId, isNew: !seen.onDefaultBranch, seenOn };
}

/**
 * What `flackyness-reporter burn-in` asks before running: which of the tests it found locally have
 * never run on the default branch. Those are where flakiness enters, so they are repeated before
 * the merge. Tests are looked up by the same identity key ingestion computes, and a run counts as
 * on the default branch exactly when the analysis counts it so.
 */
const newTests: FastifyPluginAsyncZod = async (app) => {
	app.post(
		'/api/v1/tests/new',
		{
			preValidation: app.requireReader,
			config: { rateLimit: app.limits.reads },
			schema: {
				summary: 'Which of the tests named by file, title path and Playwright project have never run on the default branch',
				tags: ['read'],
				security: [{ bearer: [] }],
				body: newTestsRequestSchema,
				response: { 200: newTestsResponseSchema, '4xx': errorBodySchema }
			}
		},
		async (request) => {
			const principal = request.principal!;
			const named = request.body.project;
			let projectId: string;
			if (named === undefined) {
				if (principal.kind !== 'project') throw new HttpError(400, 'body.project: name the project (id or slug) when not using a project token');
				projectId = principal.projectId;
			} else {
				const p = await findProject(app.db.pool, named);
				if (!p || !canReadProject(request, p.id)) throw new HttpError(404, `No project "${named}".`);
				projectId = p.id;
			}
			const { defaultBranches } = await projectContext(app.db.pool, projectId, { infraFingerprints: false });
			const keys = request.body.tests.map((t) => testKey(t));
			const seen = await sightingsByKey(app.db.pool, projectId, [...new Set(keys)], defaultBranches);
			return { defaultBranches, tests: request.body.tests.map((t, i) => answerFor(t, seen.get(keys[i]!))) };
		}
	);
};

export default newTests;
