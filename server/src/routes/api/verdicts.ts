import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
	errorBodySchema,
	verdictRequestSchema,
	verdictResponseSchema,
	type TestResultData,
	type TestVerdict,
	type VerdictStateName
} from 'flackyness-reporter/protocol';
import { canReadProject } from '../../auth/plugin.js';
import { testKey } from '../../ingest/store.js';
import { HttpError } from '../../lib/http-errors.js';
import { findProject } from '../../repositories/projects.js';
import { verdictsByKey, type StoredVerdict } from '../../repositories/verdicts.js';

type Identity = Pick<TestResultData, 'file' | 'titlePath' | 'projectName'>;

/** States whose failure chance says something: for broken or healthy tests the estimate is noise to a reader. */
const ESTIMATED = new Set<VerdictStateName>(['flaky', 'suspect', 'fixed', 'quarantined']);

function stateOf(v: StoredVerdict): VerdictStateName {
	if (v.quarantined) return 'quarantined';
	// A health row still saying quarantined after the quarantine ended waits for its re-analysis.
	if (v.state === null || v.state === 'quarantined') return 'unknown';
	return v.state as VerdictStateName;
}

function verdictOf(test: Identity, v: StoredVerdict | undefined): TestVerdict {
	const asked = { file: test.file, titlePath: test.titlePath, projectName: test.projectName };
	if (!v) return { ...asked, testId: null, state: 'unknown', failureChance: null, brokenSince: null, quarantine: null };
	const state = stateOf(v);
	const analysed = v.score !== null && v.scoreLow !== null && v.scoreHigh !== null;
	return {
		...asked,
		testId: v.testId,
		state,
		failureChance: analysed && ESTIMATED.has(state) ? { estimate: v.score!, low: v.scoreLow!, high: v.scoreHigh! } : null,
		brokenSince: state === 'broken' && v.changePointSha ? { commitSha: v.changePointSha, at: v.changePointAt?.toISOString() ?? null } : null,
		quarantine: v.quarantined ? { reason: v.quarantineReason ?? '', until: v.quarantineUntil?.toISOString() ?? null } : null
	};
}

/**
 * What the reporter asks at the end of a run (`failOn: 'new'`): the current verdict of each failed
 * test, looked up by the same identity key ingestion computes, so a test is found exactly when its
 * results were stored under it.
 */
const verdicts: FastifyPluginAsyncZod = async (app) => {
	/** A project token's own project, or the one named (which a project token may name only if it is its own). */
	async function askedProject(request: FastifyRequest, named: string | undefined): Promise<string> {
		const principal = request.principal!;
		if (named === undefined) {
			if (principal.kind === 'project') return principal.projectId;
			throw new HttpError(400, 'body.project: name the project (id or slug) when not using a project token');
		}
		const p = await findProject(app.db.pool, named);
		if (!p || !canReadProject(request, p.id)) throw new HttpError(404, `No project "${named}".`);
		return p.id;
	}

	app.post(
		'/api/v1/verdicts',
		{
			preValidation: app.requireReader,
			config: { rateLimit: app.limits.reads },
			schema: {
				summary: 'Current verdicts (flaky, broken, quarantined…) of tests named by file, title path and Playwright project',
				tags: ['read'],
				security: [{ bearer: [] }],
				body: verdictRequestSchema,
				response: { 200: verdictResponseSchema, '4xx': errorBodySchema }
			}
		},
		async (request) => {
			const projectId = await askedProject(request, request.body.project);
			const keys = request.body.tests.map((t) => testKey(t));
			const stored = await verdictsByKey(app.db.pool, projectId, [...new Set(keys)]);
			return { verdicts: request.body.tests.map((t, i) => verdictOf(t, stored.get(keys[i]!))) };
		}
	);
};

export default verdicts;
