import { z } from 'zod';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { errorBodySchema } from 'flackyness-reporter/protocol';
import { actorOf, canReadProject } from '../../auth/plugin.js';
import { transaction } from '../../db/database.js';
import { HttpError } from '../../lib/http-errors.js';
import { DEFAULT_ANALYSIS_SETTINGS } from '../../analysis/settings.js';
import { findProject } from '../../repositories/projects.js';
import { releaseTest } from '../../jobs/quarantine.js';
import { FIGURE_DEFINITIONS as D } from './figures.js';
import { quarantineTest } from '../../repositories/quarantine.js';
import { projectQuarantines } from '../../repositories/quarantine-reads.js';
import {
	HEALTH_STATES,
	activeQuarantines,
	errorClusters,
	facets,
	flakyTests,
	ownersOfProject,
	projectOfRun,
	projectOfTest,
	projectStats,
	projectsVisible,
	runDetail,
	runsOfProject,
	testDetail
} from '../../repositories/reads.js';
import { CURSOR_PATTERN, parseCursor, testHistory, testHistoryCompact, type HistoryCursor } from '../../repositories/test-history.js';

const projectParams = z.object({ id: z.string().min(1).max(100).describe('project id or slug') });
const uuidParams = z.object({ id: z.uuid('must be a UUID') });
const page = z.coerce.number().int().min(1).max(10_000).default(1);
const pageSize = z.coerce.number().int().min(1).max(100).default(50);
const days = z.coerce.number().int().min(1).max(365).default(30);
const shortText = (max: number) => z.string().trim().min(1).max(max);
const stateList = z
	.string()
	.max(200)
	.transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
	.pipe(z.array(z.enum(HEALTH_STATES)).min(1));
const json = z.any();

const runStatus = z.enum(['running', 'passed', 'failed', 'timedout', 'interrupted', 'incomplete']);
const outcome = z.enum(['expected', 'unexpected', 'flaky', 'skipped']);
const attachments = z
	.array(
		z.object({
			name: z.string().describe('as Playwright named it: trace, screenshot, video, or a testInfo.attach() name'),
			contentType: z.string().describe('MIME type, e.g. application/zip for a trace, image/png for a screenshot'),
			path: z.string().describe('relative to the project directory (CI_PROJECT_DIR): the file in the job artifacts, `<jobUrl>/artifacts/file/<path>`'),
			attempt: z.number().int().describe('retry index of the failed attempt that left it, 0 for the first run')
		})
	)
	.nullable()
	.describe('files the failed attempts left behind (names and paths only, never contents); null when none were sent');

const DISCOUNTED =
	'why this run is not counted by the analysis, or null when it is: a failed or flaky run whose job was judged an infrastructure failure, or whose error fingerprint is seen (nearly) only in such jobs';
const DEFAULT_BRANCH = "the run was on the project's default branch (the branch the flake estimate is made on)";
const cursor = z
	.string()
	.regex(CURSOR_PATTERN, 'must be a nextCursor this API answered')
	.describe('continue after this point: the nextCursor of the previous page');
const nextCursor = z.string().nullable().describe('pass as cursor to get the next (older) page; null on the last page');
/** Where to continue: a cursor, or (older API) every result strictly before a time. */
function historyCursor(q: { cursor?: string | undefined; before?: string | undefined }): HistoryCursor | null {
	if (q.cursor) return parseCursor(q.cursor);
	if (q.before) return { micros: BigInt(new Date(q.before).getTime()) * 1000n, runId: '00000000-0000-0000-0000-000000000000' };
	return null;
}

const compactHistory = z.object({
	total: z.number().int().describe('results of this test recorded, over its whole history'),
	defaultBranches: z.array(z.string()).describe("the project's default branch names, as the analysis reads them"),
	runs: z
		.object({
			runId: z.array(z.uuid()).describe('the run'),
			startedAt: z.array(z.string()).describe('when the test started in that run (ISO 8601, UTC)'),
			outcome: z.array(outcome).describe("Playwright's outcome after the last attempt: expected (passed), flaky (passed on retry), unexpected (failed), skipped"),
			attempts: z.array(z.number().int()).describe('attempts run'),
			failedAttempts: z.array(z.number().int()).describe('attempts that failed'),
			durationMs: z.array(z.number().int()).describe('duration over all attempts, in milliseconds'),
			branch: z.array(z.string().nullable()).describe('branch (or tag) of the run'),
			defaultBranch: z.array(z.boolean()).describe(DEFAULT_BRANCH),
			commitSha: z.array(z.string().nullable()).describe('commit of the run'),
			jobName: z.array(z.string().nullable()).describe('CI job name'),
			pipelineId: z.array(z.string().nullable()).describe('CI pipeline id'),
			discountedWhy: z.array(z.string().nullable()).describe(DISCOUNTED)
		})
		.describe('one entry per run in parallel arrays (the i-th entry of each array is the i-th run), newest first'),
	nextCursor
});

const historyItem = z.object({
	runId: z.uuid().describe('the run'),
	startedAt: z.date().describe('when the test started in that run'),
	outcome: outcome.describe("Playwright's outcome after the last attempt"),
	status: z.string().describe('status of the last attempt'),
	expectedStatus: z.string().describe('the status the test was expected to end with'),
	attempts: z.number().int().describe('attempts run'),
	failedAttempts: z.number().int().describe('attempts that failed'),
	durationMs: z.number().int().describe('duration over all attempts, in milliseconds'),
	commitSha: z.string().nullable().describe('commit of the run'),
	commitTitle: z.string().nullable().describe('its title'),
	branch: z.string().nullable().describe('branch (or tag) of the run'),
	pipelineId: z.string().nullable().describe('CI pipeline id'),
	pipelineUrl: z.string().nullable().describe('CI pipeline URL'),
	jobId: z.string().nullable().describe('CI job id'),
	jobName: z.string().nullable().describe('CI job name'),
	jobUrl: z.string().nullable().describe('CI job URL; attachment paths are artifact paths of this job'),
	mrIid: z.number().int().nullable().describe('merge request number'),
	infra: z.boolean().describe('the run was judged an infrastructure failure'),
	discountedWhy: z.string().nullable().describe(DISCOUNTED),
	defaultBranch: z.boolean().describe(DEFAULT_BRANCH),
	shardIndex: z.number().int().nullable().describe('shard of the run, 1-based'),
	shardTotal: z.number().int().nullable().describe('shards of its job'),
	attachments,
	error: z
		.object({
			message: z.string().describe('first error of the first failed attempt, cut to 4000 characters'),
			location: z.string().nullable().describe('"file:line:column"'),
			fingerprint: z.string().nullable().describe('its error cluster')
		})
		.nullable()
		.describe('the first error, or null')
});

const owners = z
	.array(z.string())
	.describe('who owns the test: CODEOWNERS owners of its file and owners it names itself (owner annotations, @owner: tags), as last reported; empty when none');

/** What each verdict state means, for every schema that returns one (the figure definition of `state`). */
export const STATE_MEANINGS = D.state;

const failingBranch = z.object({
	branch: z.string().describe('the feature branch'),
	failedRuns: z.number().int().describe('runs on it that failed on every attempt, on commits that never passed'),
	runs: z.number().int().describe('runs of the test on it (skipped and infrastructure-failed runs excluded)'),
	firstFailedAt: z.iso.datetime().describe('first of those failures'),
	lastFailedAt: z.iso.datetime().describe('latest of those failures (the branch’s newest run)')
});

const flakyTestRow = z.object({
	testId: z.uuid().describe('the test'),
	title: z.string().describe('its title'),
	titlePath: z.array(z.string()).describe('titles from the outermost describe to the test'),
	file: z.string().describe('its spec file, relative to the test directory'),
	projectName: z.string().describe("Playwright project; '' when unnamed"),
	tags: z.array(z.string()).describe('tags, without the @'),
	owners,
	state: z.enum(HEALTH_STATES).describe(D.state),
	stateSince: z.date().describe(D.stateSince),
	inactiveSince: z
		.date()
		.nullable()
		.describe(
			'null while the test is active; else since when it is inactive: absent from the last N complete default-branch pipelines (N: the analysis setting inactiveAfterPipelines) and not run anywhere since — removed or renamed'
		),
	failingBranches: z
		.array(failingBranch)
		.describe("feature branches on which the test is failing now (its state is then 'failing' unless default-branch evidence made it flaky or broken); empty when none"),
	score: z.number().nullable().describe(D.failureChance),
	scoreLow: z.number().nullable().describe('lower bound of the failure chance’s credible interval; null for a test skipped in every run'),
	scoreHigh: z.number().nullable().describe('upper bound of the failure chance’s credible interval; null for a test skipped in every run'),
	flakeRate: z.number().nullable().describe(D.failedRunShare),
	impactMinutes: z.number().describe(D.impactMinutes),
	runs: z.number().int().describe('runs analysed on every branch, skipped ones left out (infrastructure failures and broken stretches included)'),
	failures: z.number().int().describe('of those runs, the ones that failed every attempt outside jobs judged infrastructure failures'),
	flakyRuns: z.number().int().describe('of those runs, the ones that failed and then passed on retry outside jobs judged infrastructure failures'),
	mixedCommits: z.number().int().describe(D.mixedCommits),
	lastSeenAt: z.date().nullable().describe('last run of the test'),
	lastFlakyAt: z.date().nullable().describe(D.lastFlakyAt),
	changePointSha: z.string().nullable().describe('commit where its behaviour changed, when one was found')
});

const count = (what: string) => z.number().int().describe(what);

const figuresSchema = z
	.object({
		runSet: z
			.enum(['default-branch', 'all-branches'])
			.describe('the runs counted: the default branch’s, or every branch’s while the default branch has fewer runs than the minimum for a rate'),
		totalRuns: count('every run of the analysed history (the newest 2000 results), skipped ones included'),
		countedRuns: count(D.countedRuns),
		failedRuns: count(D.failedRuns),
		flakyRuns: count('of failedRuns, runs that failed and then passed on retry'),
		unexpectedRuns: count('of failedRuns, runs that failed on every attempt'),
		notCounted: z
			.object({
				skipped: count('runs in which the test was skipped'),
				infrastructure: count('failed runs in jobs judged infrastructure failures (or with an error seen only in such jobs)'),
				broken: count('runs on default-branch commits of a broken stretch'),
				featureBranch: count('failed runs on feature-branch commits on which the test never passed (possibly real bugs in unmerged changes)'),
				otherBranches: count('other feature-branch runs, when runSet is default-branch')
			})
			.describe(D.notCounted),
		lastNotCountedFailure: z
			.object({
				at: z.string().describe('start of the run'),
				runId: z.string().describe('the run'),
				reason: z.enum(['infrastructure', 'broken', 'feature-branch']).describe('why it is not counted')
			})
			.nullable()
			.describe(D.lastNotCountedFailure),
		estimatedAt: z.string().describe(D.estimatedAt)
	})
	.nullable()
	.describe('the figures of the test page, each over a named set of runs; null for a verdict stored before they existed (its next analysis adds them)');

const healthSchema = z
	.object({
		...flakyTestRow.pick({ state: true, stateSince: true, inactiveSince: true, score: true, scoreLow: true, scoreHigh: true, flakeRate: true, impactMinutes: true, runs: true, failures: true, flakyRuns: true, mixedCommits: true, lastFlakyAt: true, changePointSha: true }).shape,
		firstDetectedAt: z.date().nullable().describe('when flakiness (or the breakage, or the suspicion) was first established'),
		changePointAt: z.date().nullable().describe('first run on the commit where the test broke, when broken'),
		analyzedAt: z.date().describe('when the analysis last looked at this test'),
		figures: figuresSchema,
		evidence: z
			.record(z.string(), z.unknown())
			.describe('the evidence behind the verdict, as the analysis wrote it: reasons in words, the estimate, counts, mixed commits, default-branch segments, the change point, the fixed rule, infrastructure failures, the impact')
	})
	.nullable()
	.describe('the verdict; null before the first analysis');

const testDetailSchema = z.object({
	id: z.uuid().describe('the test'),
	projectId: z.uuid().describe('its project'),
	title: z.string().describe('its title'),
	titlePath: z.array(z.string()).describe('titles from the outermost describe to the test'),
	file: z.string().describe('its spec file, relative to the test directory'),
	projectName: z.string().describe("Playwright project; '' when unnamed"),
	tags: z.array(z.string()).describe('tags, without the @'),
	owners,
	firstSeenAt: z.date().describe('first run of the test'),
	lastSeenAt: z.date().describe('last run of the test'),
	inactiveAfterPipelines: z
		.number()
		.int()
		.describe('the project’s analysis setting inactiveAfterPipelines: a test absent from this many complete default-branch pipelines becomes inactive'),
	health: healthSchema,
	quarantine: z
		.object({
			id: z.uuid().describe('the quarantine'),
			reason: z.string().describe('why, as given'),
			createdBy: z.string().describe("who quarantined it: 'policy' or a person"),
			createdAt: z.date().describe('when the quarantine began'),
			expiresAt: z.date().nullable().describe('when it ends by itself; null for until released')
		})
		.nullable()
		.describe('the active quarantine, or null')
});

const statsSchema = z.object({
	project: z
		.object({ id: z.uuid(), slug: z.string(), name: z.string(), isDemo: z.boolean() })
		.loose()
		.describe('the project'),
	testsTracked: count('tests of the project'),
	activeFlaky: count(D.activeFlaky),
	brokenNow: count(D.brokenNow),
	suspect: count('tests whose verdict is suspect now'),
	failing: count('active tests failing on feature branches only, never seen failing on the default branch (not counted as flaky)'),
	quarantined: count('tests quarantined now'),
	inactive: count('tests gone from the recent complete default-branch pipelines (removed or renamed): left out of every other count here'),
	fixedThisWeek: count(D.fixedThisWeek),
	impactMinutesPerDay: z.number().describe(D.impactMinutesPerDay),
	overallFlakeRate: z.number().describe('the flake rate (see flakeRateLast30Days) over the whole window of `days` days'),
	flakeRateLast30Days: z.number().describe(D.flakeRateLast30Days),
	days: z.number().int().describe('days in the trend'),
	trend: z
		.array(
			z.object({
				day: z.string().describe('YYYY-MM-DD (server time zone)'),
				results: count('test results that day, skipped ones and those in jobs judged infrastructure failures left out'),
				flaky: count('of those, results that failed and then passed on retry'),
				failed: count('results that failed every attempt (all jobs)'),
				runs: count('runs started that day'),
				infraRuns: count('of those, runs judged infrastructure failures'),
				flakeRate: z.number().nullable().describe('flaky divided by results; null on a day without results')
			})
		)
		.describe('one row per day, oldest first')
});

const ownerRow = z.object({
	owner: z.string().describe('as CODEOWNERS or the test names it: @user, @group/subgroup or an e-mail address'),
	tests: z.number().int().describe('tests it owns'),
	flaky: z.number().int().describe('of those, flaky now'),
	broken: z.number().int().describe('of those, broken now')
});

const runDetailSchema = z.object({
	id: z.uuid().describe('the run'),
	projectId: z.uuid().describe('its project'),
	status: runStatus.describe('status of the run'),
	source: z.enum(['reporter', 'json_upload']).describe('streamed by the reporter or uploaded as a report'),
	ciProvider: z.string().nullable().describe('gitlab, github, local or other'),
	branch: z.string().nullable().describe('branch (or tag)'),
	commitSha: z.string().nullable().describe('commit'),
	commitTitle: z.string().nullable().describe('commit title'),
	commitAuthor: z.string().nullable().describe('commit author'),
	pipelineId: z.string().nullable().describe('CI pipeline id'),
	pipelineUrl: z.string().nullable().describe('CI pipeline URL'),
	jobId: z.string().nullable().describe('CI job id'),
	jobName: z.string().nullable().describe('CI job name'),
	jobUrl: z.string().nullable().describe('CI job URL; attachment paths are artifact paths of this job'),
	mrIid: z.number().int().nullable().describe('merge request number'),
	mrTargetBranch: z.string().nullable().describe('merge request target branch'),
	shardIndex: z.number().int().nullable().describe('shard, 1-based'),
	shardTotal: z.number().int().nullable().describe('shards of the job'),
	groupKey: z.string().nullable().describe('shards of one pipeline job share it'),
	playwrightVersion: z.string().nullable().describe('Playwright version'),
	startedAt: z.date().describe('start of the run'),
	endedAt: z.date().nullable().describe('end of the run, null while running'),
	durationMs: z.number().int().nullable().describe('duration in milliseconds'),
	total: z.number().int().describe('tests'),
	expected: z.number().int().describe('tests that went as expected'),
	unexpected: z.number().int().describe('tests that failed'),
	flaky: z.number().int().describe('tests that passed on retry'),
	skipped: z.number().int().describe('tests skipped'),
	infraFailure: z.boolean().describe('judged an infrastructure failure'),
	infraReason: z.string().nullable().describe('why'),
	shards: z
		.array(
			z.object({
				id: z.uuid().describe('the shard run'),
				shardIndex: z.number().int().nullable().describe('shard, 1-based'),
				shardTotal: z.number().int().nullable().describe('shards of the job'),
				status: runStatus.describe('its status'),
				total: z.number().int().describe('tests'),
				unexpected: z.number().int().describe('tests that failed'),
				flaky: z.number().int().describe('tests that passed on retry')
			})
		)
		.describe('every shard of the same pipeline job, this one included; empty when not grouped'),
	notable: z
		.array(
			z.object({
				testId: z.uuid().describe('the test'),
				title: z.string().describe('its title'),
				file: z.string().describe('its spec file'),
				projectName: z.string().describe('Playwright project'),
				outcome: outcome.describe('unexpected or flaky'),
				attempts: z.number().int().describe('attempts run'),
				durationMs: z.number().int().describe('duration over all attempts, in milliseconds'),
				errorMessage: z.string().nullable().describe('first error, cut to 1000 characters'),
				fingerprint: z.string().nullable().describe('its error cluster'),
				state: z.enum(HEALTH_STATES).nullable().describe(`the test’s current verdict, null before analysis; ${STATE_MEANINGS}`),
				attachments
			})
		)
		.describe('failed and flaky tests of the run, at most 500')
});

const quarantineView = z.object({
	id: z.uuid().describe('the quarantine'),
	test: z
		.object({
			id: z.uuid().describe('the test'),
			title: z.string().describe('its title'),
			file: z.string().describe('its spec file, relative to the test directory'),
			titlePath: z.array(z.string()).describe('titles from the outermost describe to the test'),
			projectName: z.string().describe("Playwright project; '' when unnamed")
		})
		.describe('the quarantined test'),
	createdBy: z.string().describe("who quarantined it: 'policy' for the project's automatic quarantine policy, else the admin's e-mail or token label"),
	automatic: z.boolean().describe("true when the automatic quarantine policy quarantined it (createdBy is 'policy')"),
	reason: z.string().describe('why, as given (the policy states the failure chance it saw)'),
	createdAt: z.date().describe('when the quarantine began'),
	expiresAt: z.date().nullable().describe('when it ends by itself; null for until released'),
	releasedAt: z
		.date()
		.nullable()
		.describe('when it ended: released, or its expiry (also when the hourly job has not yet recorded the expiry); null while active'),
	releasedBy: z
		.string()
		.nullable()
		.describe("who ended it: 'policy' (the test was fixed and released automatically), 'expiry', a person, or whoever quarantined the test anew; null while active"),
	ended: z
		.enum(['fixed', 'expired', 'released', 'replaced'])
		.nullable()
		.describe('how it ended: its test was fixed (released by the policy), it expired, a person released it, or a new quarantine of the test replaced it; null while active'),
	failuresIgnored: z
		.number()
		.int()
		.describe("results of the test that failed (outcome 'unexpected', all retries failed) with a start in [createdAt, releasedAt or expiresAt or now]: failures that did not fail a pipeline"),
	savedMinutes: z
		.number()
		.describe(
			'CI time it saved, in minutes: the summed duration (all attempts) of those failed results. Each would have failed its pipeline, to be re-run at least as long; so a lower bound of the re-run time avoided'
		)
});

/** Read API for the dashboard and API users: projects, stats, flaky tests, history, runs, errors. */
const read: FastifyPluginAsyncZod = async (app) => {
	app.addHook('preValidation', app.requireReader);
	const common = { config: { rateLimit: app.limits.reads } } as const;
	const tags = ['read'];
	const security = [{ bearer: [] }];

	async function readableProject(request: FastifyRequest, idOrSlug: string) {
		const p = await findProject(app.db.pool, idOrSlug);
		if (!p || !canReadProject(request, p.id)) throw new HttpError(404, `No project "${idOrSlug}".`);
		return p;
	}
	async function readableTest(request: FastifyRequest, testId: string) {
		const projectId = await projectOfTest(app.db.pool, testId);
		if (!projectId || !canReadProject(request, projectId)) throw new HttpError(404, `No test ${testId}.`);
		return projectId;
	}

	app.get(
		'/api/v1/projects',
		{ ...common, schema: { summary: 'Projects this caller can read, with counts', tags, security, response: { 200: z.object({ projects: z.array(json) }) } } },
		async (request) => {
			const p = request.principal!;
			return { projects: await projectsVisible(app.db.pool, p.kind === 'project' ? p.projectId : null) };
		}
	);

	app.get(
		'/api/v1/projects/:id/stats',
		{
			...common,
			schema: {
				summary: 'Tests tracked, active flaky, broken now, fixed this week, overall flake rate, daily trend',
				tags,
				security,
				params: projectParams,
				querystring: z.object({ days }).strict(),
				response: { 200: statsSchema, '4xx': errorBodySchema }
			}
		},
		async (request) => {
			const p = await readableProject(request, request.params.id);
			return { project: p, ...(await projectStats(app.db.pool, p.id, request.query.days)) };
		}
	);

	app.get(
		'/api/v1/projects/:id/flaky-tests',
		{
			...common,
			schema: {
				summary: 'Tests by verdict, sorted and filtered',
				tags,
				security,
				params: projectParams,
				querystring: z
					.object({
						state: stateList
							.default(['flaky', 'broken', 'suspect', 'failing', 'quarantined', 'fixed'])
							.describe(`comma-separated states; by default every state but healthy. ${STATE_MEANINGS}`),
						branch: shortText(255)
							.optional()
							.describe('only tests that ran on this branch or are failing on it (see failingBranches)'),
						activity: z
							.enum(['active', 'inactive', 'all'])
							.default('active')
							.describe(
								'active (default): tests still in the suite; inactive: tests absent from the last N complete default-branch pipelines (removed or renamed); all'
							),
						project: z.string().max(255).optional().describe('Playwright project name'),
						owner: shortText(255).optional().describe('only tests this owner owns, written as stored: @team-x, jane@example.com'),
						q: shortText(200).optional(),
						sort: z.enum(['impact', 'score', 'lastSeen', 'flakeRate', 'name']).default('impact'),
						order: z.enum(['asc', 'desc']).default('desc'),
						page,
						pageSize
					})
					.strict(),
				response: {
					200: z.object({
						items: z.array(flakyTestRow).describe('this page of tests'),
						total: z.number().int().describe('tests matching the filters'),
						page: z.number().int().describe('this page, 1-based'),
						pageSize: z.number().int().describe('tests per page')
					}),
					'4xx': errorBodySchema
				}
			}
		},
		async (request) => {
			const p = await readableProject(request, request.params.id);
			const q = request.query;
			return flakyTests(app.db.pool, p.id, {
				states: q.state,
				branch: q.branch,
				playwrightProject: q.project,
				owner: q.owner,
				q: q.q,
				activity: q.activity,
				sort: q.sort,
				order: q.order,
				page: q.page,
				pageSize: q.pageSize
			});
		}
	);

	app.get(
		'/api/v1/projects/:id/owners',
		{
			...common,
			schema: {
				summary: 'Owners of the project’s tests, with how many tests each owns and how many are flaky or broken',
				tags,
				security,
				params: projectParams,
				querystring: z.object({}).strict(),
				response: {
					200: z.object({
						owners: z.array(ownerRow).describe('most flaky first, then most broken, then most tests; at most 1000'),
						unowned: z.number().int().describe('tests nobody owns')
					}),
					'4xx': errorBodySchema
				}
			}
		},
		async (request) => ownersOfProject(app.db.pool, (await readableProject(request, request.params.id)).id)
	);

	app.get(
		'/api/v1/projects/:id/facets',
		{ ...common, schema: { summary: 'Branches and Playwright projects, for filters', tags, security, params: projectParams, response: { 200: json, '4xx': errorBodySchema } } },
		async (request) => facets(app.db.pool, (await readableProject(request, request.params.id)).id)
	);

	app.get(
		'/api/v1/tests/:id',
		{
			...common,
			schema: { summary: 'A test with its verdict and the evidence behind it', tags, security, params: uuidParams, response: { 200: testDetailSchema, '4xx': errorBodySchema } }
		},
		async (request) => {
			await readableTest(request, request.params.id);
			const test = await testDetail(app.db.pool, request.params.id);
			if (!test) throw new HttpError(404, `No test ${request.params.id}.`);
			// The window behind "inactive since … (not in the last N complete default-branch pipelines)".
			const n = Number(test.inactiveAfterPipelines);
			return { ...test, inactiveAfterPipelines: Number.isInteger(n) && n > 0 ? n : DEFAULT_ANALYSIS_SETTINGS.inactiveAfterPipelines };
		}
	);

	app.get(
		'/api/v1/tests/:id/history',
		{
			...common,
			schema: {
				summary: 'Per-run outcomes of a test, newest first, with CI links and errors, page by page',
				tags,
				security,
				params: uuidParams,
				querystring: z
					.object({
						limit: z.coerce.number().int().min(1).max(500).default(100).describe('runs per page'),
						cursor: cursor.optional(),
						before: z.iso.datetime({ offset: true }).optional().describe('only runs that started before this time (use cursor to page)')
					})
					.strict(),
				response: { 200: z.object({ items: z.array(historyItem).describe('newest first'), nextCursor }), '4xx': errorBodySchema }
			}
		},
		async (request) => {
			const projectId = await readableTest(request, request.params.id);
			return testHistory(app.db.pool, projectId, request.params.id, request.query.limit, historyCursor(request.query));
		}
	);

	app.get(
		'/api/v1/tests/:id/history/compact',
		{
			...common,
			schema: {
				summary: "A test's whole history for a chart: a few fields per run, thousands of runs per page, newest first",
				tags,
				security,
				params: uuidParams,
				querystring: z
					.object({
						limit: z.coerce.number().int().min(1).max(5000).default(2000).describe('runs per page'),
						cursor: cursor.optional()
					})
					.strict(),
				response: { 200: compactHistory, '4xx': errorBodySchema }
			}
		},
		async (request) => {
			const projectId = await readableTest(request, request.params.id);
			return testHistoryCompact(app.db.pool, projectId, request.params.id, request.query.limit, historyCursor(request.query));
		}
	);

	app.get(
		'/api/v1/projects/:id/runs',
		{
			...common,
			schema: {
				summary: 'Runs of a project, newest first',
				tags,
				security,
				params: projectParams,
				querystring: z
					.object({
						branch: shortText(255).optional(),
						status: z.enum(['running', 'passed', 'failed', 'timedout', 'interrupted', 'incomplete']).optional(),
						page,
						pageSize
					})
					.strict(),
				response: { 200: json, '4xx': errorBodySchema }
			}
		},
		async (request) => {
			const p = await readableProject(request, request.params.id);
			return runsOfProject(app.db.pool, p.id, request.query);
		}
	);

	app.get(
		'/api/v1/runs/:id',
		{
			...common,
			schema: { summary: 'A run with its shards and its failed and flaky tests', tags, security, params: uuidParams, response: { 200: runDetailSchema, '4xx': errorBodySchema } }
		},
		async (request) => {
			const projectId = await projectOfRun(app.db.pool, request.params.id);
			if (!projectId || !canReadProject(request, projectId)) throw new HttpError(404, `No run ${request.params.id}.`);
			const run = await runDetail(app.db.pool, request.params.id);
			if (!run) throw new HttpError(404, `No run ${request.params.id}.`);
			return run;
		}
	);

	app.get(
		'/api/v1/projects/:id/errors',
		{
			...common,
			schema: {
				summary: 'Error clusters (normalised fingerprints) and the tests they hit',
				tags,
				security,
				params: projectParams,
				querystring: z.object({ days, limit: z.coerce.number().int().min(1).max(100).default(30) }).strict(),
				response: { 200: z.object({ clusters: z.array(json) }), '4xx': errorBodySchema }
			}
		},
		async (request) => {
			const p = await readableProject(request, request.params.id);
			return { clusters: await errorClusters(app.db.pool, p.id, request.query.days, request.query.limit) };
		}
	);

	app.get(
		'/api/v1/quarantine',
		{
			...common,
			schema: {
				summary: "The project token's quarantined tests (the reporter reads this at start)",
				tags: ['quarantine'],
				security,
				querystring: z.object({ project: z.string().max(100).optional() }).strict(),
				response: { 200: z.object({ tests: z.array(json) }), '4xx': errorBodySchema }
			}
		},
		async (request) => {
			const principal = request.principal!;
			let projectId: string;
			if (principal.kind === 'project') projectId = principal.projectId;
			else if (request.query.project) projectId = (await readableProject(request, request.query.project)).id;
			else throw new HttpError(400, 'query.project: name the project (id or slug) when using an admin token');
			return { tests: await activeQuarantines(app.db.pool, projectId) };
		}
	);

	app.get(
		'/api/v1/projects/:id/quarantines',
		{
			...common,
			schema: {
				summary: 'Quarantined tests: who or what quarantined each, why, until when, and the CI time it saved; with the recently ended ones',
				tags: ['quarantine'],
				security,
				params: projectParams,
				querystring: z.object({ days: days.describe('ended quarantines of the last this many days') }).strict(),
				response: {
					200: z.object({
						active: z.array(quarantineView).describe('quarantines in force, newest first'),
						ended: z.array(quarantineView).describe('quarantines that ended in the last `days` days, latest end first'),
						days: z.number().int().describe('the window of `ended`, in days')
					}),
					'4xx': errorBodySchema
				}
			}
		},
		async (request) => {
			const p = await readableProject(request, request.params.id);
			return { ...(await projectQuarantines(app.db.pool, p.id, request.query.days)), days: request.query.days };
		}
	);

	app.post(
		'/api/v1/tests/:id/quarantine',
		{
			config: { rateLimit: app.limits.admin },
			schema: {
				summary: 'Quarantine a test (admins)',
				tags: ['quarantine'],
				security,
				params: uuidParams,
				body: z
					.object({
						reason: shortText(1000),
						expiresAt: z.iso.datetime({ offset: true }).optional().refine((s) => !s || Date.parse(s) > Date.now(), 'must be in the future')
					})
					.strict(),
				response: { 201: z.object({ id: z.uuid(), testId: z.uuid(), state: z.literal('quarantined') }), '4xx': errorBodySchema }
			}
		},
		async (request, reply) => {
			requireAdmin(request);
			const projectId = await readableTest(request, request.params.id);
			const id = await transaction(app.db.pool, (c) =>
				quarantineTest(c, {
					projectId,
					testId: request.params.id,
					reason: request.body.reason,
					by: actorOf(request),
					expiresAt: request.body.expiresAt ? new Date(request.body.expiresAt) : null
				})
			);
			request.log.info({ event: 'quarantine.added', testId: request.params.id }, 'test quarantined');
			return reply.code(201).send({ id, testId: request.params.id, state: 'quarantined' as const });
		}
	);

	app.delete(
		'/api/v1/tests/:id/quarantine',
		{
			config: { rateLimit: app.limits.admin },
			schema: { summary: 'Release a quarantined test (admins)', tags: ['quarantine'], security, params: uuidParams, response: { 204: z.null(), '4xx': errorBodySchema } }
		},
		async (request, reply) => {
			requireAdmin(request);
			const projectId = await readableTest(request, request.params.id);
			if (!(await releaseTest(app.db.pool, projectId, request.params.id, actorOf(request)))) {
				throw new HttpError(404, `Test ${request.params.id} is not in quarantine.`);
			}
			request.log.info({ event: 'quarantine.released', testId: request.params.id }, 'test released');
			return reply.code(204).send(null);
		}
	);
};

function requireAdmin(request: FastifyRequest) {
	if (request.principal?.kind !== 'admin') throw new HttpError(403, 'Only admins can quarantine or release tests.');
}

export default read;
