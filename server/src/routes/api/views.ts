import { z } from 'zod';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { errorBodySchema } from 'flackyness-reporter/protocol';
import { canReadProject } from '../../auth/plugin.js';
import { HttpError } from '../../lib/http-errors.js';
import { findProject } from '../../repositories/projects.js';
import { projectOfRun, projectOfTest } from '../../repositories/reads.js';
import { PIPELINE_OUTCOMES, gitlabUrlOf, listPipelines, runAsShard, type PipelineRow } from '../../repositories/pipelines.js';
import { defaultBranchName, durationTrend, shardLoads, slowerTests, slowestTests, type BranchScope } from '../../repositories/durations.js';

const projectParams = z.object({ id: z.string().min(1).max(100).describe('project id or slug') });
const page = z.coerce.number().int().min(1).max(10_000).default(1).describe('page, 1-based');
const pageSize = z.coerce.number().int().min(1).max(100).default(25).describe('items per page');
/** Which runs counted, without echoing the branch asked for. */
const scopeField = z
	.enum(['default', 'all', 'branch'])
	.describe('the runs that count: the default branch’s (no `branch` given), every branch’s (`branch=*`), or the branch given');
const scopeName = (branch: string | undefined) => (branch === undefined ? 'default' : branch === '*' ? 'all' : 'branch') as 'default' | 'all' | 'branch';
const branchParam = z
	.string()
	.trim()
	.min(1)
	.max(255)
	.optional()
	.describe('runs of this branch only; `*` for every branch; absent: the default branch (runs sent with the default branch named)');
const outcomeList = z
	.string()
	.max(100)
	.transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
	.pipe(z.array(z.enum(PIPELINE_OUTCOMES)).min(1));

const pipelineOutcome = z
	.enum(PIPELINE_OUTCOMES)
	.describe(
		'one outcome per pipeline, from the jobs that count (the latest attempt of each job and shard): running when one runs; failed when one failed, timed out or has a failed test; incomplete when a sharded job lacks a shard or a job was interrupted or never completed; flaky when it passed only thanks to retries (a test passed on retry, or a job failed and passed when run again); passed otherwise'
	);

const jobSchema = z.object({
	runId: z.uuid().describe('the run this job reported: its page is /runs/<runId>'),
	jobId: z.string().nullable().describe('CI job id'),
	jobName: z.string().nullable().describe('CI job name, e.g. "e2e 2/3"'),
	jobUrl: z.string().nullable().describe('CI job URL'),
	shardIndex: z.number().int().nullable().describe('shard, 1-based; null when not sharded'),
	shardTotal: z.number().int().nullable().describe('shards of the job'),
	status: z.enum(['running', 'passed', 'failed', 'timedout', 'interrupted', 'incomplete']).describe('status of the run'),
	attempt: z.number().int().describe('1 for the job’s first run in the pipeline, 2 for its first retry, …: runs of the same job and shard, by start'),
	attempts: z.number().int().describe('runs of this job and shard in the pipeline'),
	counts: z.boolean().describe('true for the latest attempt, the one the pipeline outcome and counts use (as in GitLab); false for an attempt that was retried'),
	startedAt: z.date().describe('start of the run'),
	durationMs: z.number().int().nullable().describe('duration of the run in milliseconds; null while running'),
	total: z.number().int().describe('tests in the run'),
	expected: z.number().int().describe('tests that went as expected'),
	unexpected: z.number().int().describe('tests that failed'),
	flaky: z.number().int().describe('tests that passed on retry'),
	skipped: z.number().int().describe('tests skipped'),
	infraFailure: z.boolean().describe('the run was judged an infrastructure failure')
});

const pipelineSchema = z.object({
	provider: z.string().describe('CI provider: gitlab, github, local or other'),
	pipelineId: z.string().describe('CI pipeline id'),
	pipelineIid: z.string().nullable().describe('pipeline number within its GitLab project'),
	branch: z.string().nullable().describe('branch (or tag) of the latest run of the pipeline'),
	isDefaultBranch: z.boolean().nullable().describe('a run of it was on the default branch; null when no run said'),
	commitSha: z.string().nullable().describe('commit'),
	commitTitle: z.string().nullable().describe('commit title'),
	mrIid: z.number().int().nullable().describe('merge request number'),
	startedAt: z.date().describe('start of its first run'),
	endedAt: z.date().nullable().describe('end of its last run; null while a job runs'),
	durationMs: z.number().int().nullable().describe('wall time from the first run’s start to the last run’s end, in milliseconds (not the sum of the jobs); null while a job runs'),
	outcome: pipelineOutcome,
	infraFailure: z.boolean().describe('a job that counts was judged an infrastructure failure'),
	tests: z.number().int().describe('tests run, summed over the jobs that count'),
	passed: z.number().int().describe('of those, tests that went as expected'),
	failed: z.number().int().describe('of those, tests that failed every attempt'),
	flaky: z.number().int().describe('of those, tests that passed on retry'),
	skipped: z.number().int().describe('of those, tests skipped'),
	retriedJobs: z.number().int().describe('job runs that were run again in the same pipeline (attempts that do not count)'),
	jobs: z.array(jobSchema).describe('every run of the pipeline, by job, shard and attempt'),
	missingShards: z
		.array(z.object({ job: z.string().describe('job name without its shard suffix'), shardIndex: z.number().int().describe('the missing shard, 1-based'), shardTotal: z.number().int().describe('shards of the job') }))
		.describe('shards of a sharded job that no run reported'),
	gitlabUrl: z.string().nullable().describe('the pipeline’s GitLab page: the pipeline URL the runs sent, else derived from a job URL, else from the GitLab connection’s address and the project path; null when unknown')
});

const slowestRow = z.object({
	testId: z.uuid().describe('the test'),
	title: z.string().describe('its title'),
	file: z.string().describe('its spec file'),
	projectName: z.string().describe("Playwright project; '' when unnamed"),
	runs: z.number().int().describe('passing results in the window (outcome expected, status passed: one attempt that passed)'),
	p50Ms: z.number().describe('median duration of those results, in milliseconds (percentile_cont, interpolated)'),
	p95Ms: z.number().describe('95th percentile duration of those results, in milliseconds (percentile_cont, interpolated)'),
	maxMs: z.number().int().describe('longest of those results, in milliseconds'),
	lastPassedAt: z.date().describe('start of the latest of those results')
});

const slowerRow = z.object({
	testId: z.uuid().describe('the test'),
	title: z.string().describe('its title'),
	file: z.string().describe('its spec file'),
	projectName: z.string().describe("Playwright project; '' when unnamed"),
	recentRuns: z.number().int().describe('passing results in the recent window'),
	previousRuns: z.number().int().describe('passing results in the window before it (as long)'),
	recentP50Ms: z.number().describe('median passing duration in the recent window, in milliseconds'),
	previousP50Ms: z.number().describe('median passing duration in the window before, in milliseconds'),
	changeMs: z.number().describe('recentP50Ms − previousP50Ms, in milliseconds'),
	ratio: z.number().describe('recentP50Ms ÷ previousP50Ms')
});

const shardSchema = z.object({
	runId: z.uuid().describe('the shard’s run (the attempt that counts)'),
	jobName: z.string().nullable().describe('CI job name'),
	shardIndex: z.number().int().nullable().describe('shard, 1-based'),
	shardTotal: z.number().int().nullable().describe('shards of the job'),
	status: z.string().describe('status of the run'),
	wallMs: z.number().int().nullable().describe('the run’s duration (wall time) in milliseconds, as reported'),
	results: z.number().int().describe('test results stored for the run'),
	sumMs: z.number().describe('sum of their durations (all attempts), in milliseconds: the time the shard’s workers spent in tests'),
	parallelism: z
		.number()
		.nullable()
		.describe('sumMs ÷ wallMs: about how many workers were busy on average; null without a wall time'),
	bounding: z.boolean().describe('true for the shard with the longest wall time: the one the pipeline waited for'),
	slowest: z
		.array(
			z.object({
				testId: z.uuid().describe('the test'),
				title: z.string().describe('its title'),
				file: z.string().describe('its spec file'),
				projectName: z.string().describe('Playwright project'),
				durationMs: z.number().int().describe('its duration in this run, all attempts, in milliseconds'),
				outcome: z.enum(['expected', 'unexpected', 'flaky', 'skipped']).describe('its outcome in this run'),
				attempts: z.number().int().describe('attempts it ran')
			})
		)
		.describe('the shard’s slowest tests, longest first')
});

/** Pipelines view and test durations (slowest tests, trends, became slower, per-shard critical path). */
const views: FastifyPluginAsyncZod = async (app) => {
	app.addHook('preValidation', app.requireReader);
	const common = { config: { rateLimit: app.limits.reads } } as const;
	const tags = ['read'];
	const security = [{ bearer: [] }];

	async function readableProject(request: FastifyRequest, idOrSlug: string) {
		const p = await findProject(app.db.pool, idOrSlug);
		if (!p || !canReadProject(request, p.id)) throw new HttpError(404, `No project "${idOrSlug}".`);
		return p;
	}
	const scopeOf = (branch: string | undefined): BranchScope => {
		const kind = scopeName(branch);
		return kind === 'branch' ? { kind, name: branch! } : { kind };
	};

	app.get(
		'/api/v1/projects/:id/pipelines',
		{
			...common,
			schema: {
				summary: 'CI pipelines of a project, newest first: their jobs and shards, retried jobs, one outcome each, and a link to GitLab',
				description: 'Runs without a CI pipeline id (local runs) are in `/projects/:id/runs` only.',
				tags,
				security,
				params: projectParams,
				querystring: z
					.object({
						branch: z.string().trim().min(1).max(255).optional().describe('pipelines with a run on this branch'),
						outcome: outcomeList.optional().describe('comma-separated outcomes to keep, e.g. failed,flaky'),
						pipelineId: z.string().trim().min(1).max(64).optional().describe('only this pipeline'),
						page,
						pageSize
					})
					.strict(),
				response: {
					200: z.object({
						items: z.array(pipelineSchema).describe('this page of pipelines, newest first'),
						total: z.number().int().describe('pipelines matching the filters'),
						page: z.number().int().describe('this page, 1-based'),
						pageSize: z.number().int().describe('pipelines per page')
					}),
					'4xx': errorBodySchema
				}
			}
		},
		async (request) => {
			const p = await readableProject(request, request.params.id);
			const q = request.query;
			return listPipelines(
				app.db.pool,
				p.id,
				{ branch: q.branch, outcomes: q.outcome, pipelineId: q.pipelineId, page: q.page, pageSize: q.pageSize },
				await gitlabUrlOf(app.db.pool, p.id)
			);
		}
	);

	app.get(
		'/api/v1/projects/:id/durations/slowest',
		{
			...common,
			schema: {
				summary: 'Slowest tests: p50 and p95 duration of each test’s passing results over a window',
				tags,
				security,
				params: projectParams,
				querystring: z
					.object({
						days: z.coerce.number().int().min(1).max(90).default(14).describe('window, in days before now'),
						branch: branchParam,
						minRuns: z.coerce.number().int().min(1).max(1000).default(3).describe('leave out tests with fewer passing results in the window'),
						sort: z.enum(['p50', 'p95']).default('p50').describe('slowest by median or by 95th percentile'),
						q: z.string().trim().min(1).max(200).optional().describe('words of the title or file'),
						page,
						pageSize
					})
					.strict(),
				response: {
					200: z.object({
						items: z.array(slowestRow).describe('this page of tests, slowest first'),
						total: z.number().int().describe('tests with enough passing results in the window'),
						page: z.number().int().describe('this page, 1-based'),
						pageSize: z.number().int().describe('tests per page'),
						days: z.number().int().describe('the window, in days'),
						scope: scopeField,
						defaultBranch: z.string().nullable().describe('the default branch’s name, as the latest run on it sent it; null when no run named it')
					}),
					'4xx': errorBodySchema
				}
			}
		},
		async (request) => {
			const p = await readableProject(request, request.params.id);
			const q = request.query;
			const list = await slowestTests(app.db.pool, p.id, { days: q.days, scope: scopeOf(q.branch), minRuns: q.minRuns, sort: q.sort, q: q.q, page: q.page, pageSize: q.pageSize });
			return { ...list, days: q.days, scope: scopeName(q.branch), defaultBranch: await defaultBranchName(app.db.pool, p.id) };
		}
	);

	app.get(
		'/api/v1/projects/:id/durations/slower',
		{
			...common,
			schema: {
				summary: 'Tests that became slower: median passing duration of the recent window against the window before',
				tags,
				security,
				params: projectParams,
				querystring: z
					.object({
						recentDays: z.coerce.number().int().min(1).max(45).default(7).describe('length of the recent window, and of the window before it it is compared with'),
						branch: branchParam,
						minRuns: z.coerce.number().int().min(2).max(1000).default(5).describe('passing results needed in each window'),
						minRatio: z.coerce.number().min(1).max(100).default(1.2).describe('recent median ÷ previous median at least this'),
						minChangeMs: z.coerce.number().int().min(0).max(3_600_000).default(200).describe('recent median − previous median at least this many milliseconds'),
						limit: z.coerce.number().int().min(1).max(100).default(20).describe('at most this many tests')
					})
					.strict(),
				response: {
					200: z.object({
						items: z.array(slowerRow).describe('largest absolute change first'),
						recentDays: z.number().int().describe('length of each window, in days'),
						scope: scopeField
					}),
					'4xx': errorBodySchema
				}
			}
		},
		async (request) => {
			const p = await readableProject(request, request.params.id);
			const q = request.query;
			const items = await slowerTests(app.db.pool, p.id, { recentDays: q.recentDays, scope: scopeOf(q.branch), minRuns: q.minRuns, minRatio: q.minRatio, minChangeMs: q.minChangeMs, limit: q.limit });
			return { items, recentDays: q.recentDays, scope: scopeName(q.branch) };
		}
	);

	app.get(
		'/api/v1/tests/:id/durations',
		{
			...common,
			schema: {
				summary: 'A test’s p50 and p95 passing duration per day or week',
				tags,
				security,
				params: z.object({ id: z.uuid('must be a UUID').describe('the test') }),
				querystring: z
					.object({
						days: z.coerce.number().int().min(1).max(365).default(90).describe('window, in days before now'),
						bucket: z.enum(['day', 'week']).default('day').describe('one point per UTC day or ISO week'),
						branch: branchParam
					})
					.strict(),
				response: {
					200: z.object({
						points: z
							.array(
								z.object({
									from: z.date().describe('start of the day or week (UTC)'),
									runs: z.number().int().describe('passing results in it'),
									p50Ms: z.number().describe('their median duration, in milliseconds'),
									p95Ms: z.number().describe('their 95th percentile duration, in milliseconds')
								})
							)
							.describe('oldest first; days or weeks without a passing result are left out'),
						bucket: z.enum(['day', 'week']).describe('the bucket'),
						scope: scopeField
					}),
					'4xx': errorBodySchema
				}
			}
		},
		async (request) => {
			const projectId = await projectOfTest(app.db.pool, request.params.id);
			if (!projectId || !canReadProject(request, projectId)) throw new HttpError(404, `No test ${request.params.id}.`);
			const q = request.query;
			const points = await durationTrend(app.db.pool, request.params.id, { days: q.days, bucket: q.bucket, scope: scopeOf(q.branch) });
			return { points, bucket: q.bucket, scope: scopeName(q.branch) };
		}
	);

	app.get(
		'/api/v1/projects/:id/durations/critical-path',
		{
			...common,
			schema: {
				summary: 'Where a pipeline’s time goes, per shard: wall time, time spent in tests, and the slowest tests',
				description:
					'For the pipeline named (or the one of the run named), else the latest pipeline of the default branch that is complete (passed, flaky or failed; of any branch when the default branch has none). The pipeline waits for its slowest shard (bounding). Playwright’s worker index is not stored, so the sequence of tests on one worker cannot be rebuilt: per shard this answers its wall time, the sum of its tests’ durations and their ratio (about how many workers were busy), and its slowest tests.',
				tags,
				security,
				params: projectParams,
				querystring: z
					.object({
						pipelineId: z.string().trim().min(1).max(64).optional().describe('the pipeline'),
						runId: z.uuid('must be a run id (UUID)').optional().describe('a run: its pipeline, or the run alone when it has none'),
						slowest: z.coerce.number().int().min(1).max(50).default(5).describe('slowest tests listed per shard')
					})
					.strict(),
				response: {
					200: z.object({
						pipeline: pipelineSchema.omit({ jobs: true }).nullable().describe('the pipeline; null for a run without one, or when there is no complete pipeline'),
						shards: z.array(shardSchema).describe('the jobs that count, by job and shard'),
						wallMs: z.number().int().nullable().describe('the pipeline’s wall time (or the run’s), in milliseconds')
					}),
					'4xx': errorBodySchema
				}
			}
		},
		async (request) => {
			const p = await readableProject(request, request.params.id);
			const q = request.query;
			const gitlabUrl = await gitlabUrlOf(app.db.pool, p.id);
			let pipeline: PipelineRow | null = null;
			let runs: { runId: string; jobName: string | null; shardIndex: number | null; shardTotal: number | null; status: string; durationMs: number | null }[] = [];
			if (q.runId) {
				if ((await projectOfRun(app.db.pool, q.runId)) !== p.id) throw new HttpError(404, `No run ${q.runId} in this project.`);
				const run = (await runAsShard(app.db.pool, q.runId))!;
				if (run.pipelineId) pipeline = (await listPipelines(app.db.pool, p.id, { pipelineId: run.pipelineId, page: 1, pageSize: 1 }, gitlabUrl)).items[0] ?? null;
				else runs = [run];
			} else if (q.pipelineId) {
				pipeline = (await listPipelines(app.db.pool, p.id, { pipelineId: q.pipelineId, page: 1, pageSize: 1 }, gitlabUrl)).items[0] ?? null;
				if (!pipeline) throw new HttpError(404, `No pipeline ${q.pipelineId} in this project.`);
			} else {
				const complete = { outcomes: ['passed', 'flaky', 'failed'] as const, page: 1, pageSize: 1 };
				pipeline =
					(await listPipelines(app.db.pool, p.id, { ...complete, outcomes: [...complete.outcomes], defaultBranchOnly: true }, gitlabUrl)).items[0] ??
					(await listPipelines(app.db.pool, p.id, { ...complete, outcomes: [...complete.outcomes] }, gitlabUrl)).items[0] ??
					null;
			}
			if (pipeline) runs = pipeline.jobs.filter((j) => j.counts);
			const loads = new Map((await shardLoads(app.db.pool, runs.map((r) => r.runId), q.slowest)).map((l) => [l.runId, l]));
			const longest = Math.max(-1, ...runs.map((r) => r.durationMs ?? -1));
			const shards = runs.map((r) => {
				const load = loads.get(r.runId);
				const sumMs = load?.sumMs ?? 0;
				return {
					runId: r.runId,
					jobName: r.jobName,
					shardIndex: r.shardIndex,
					shardTotal: r.shardTotal,
					status: r.status,
					wallMs: r.durationMs,
					results: load?.results ?? 0,
					sumMs,
					parallelism: r.durationMs ? sumMs / r.durationMs : null,
					bounding: r.durationMs !== null && r.durationMs === longest,
					slowest: (load?.slowest ?? []) as z.infer<typeof shardSchema>['slowest']
				};
			});
			const { jobs: _jobs, ...head } = pipeline ?? { jobs: null };
			return { pipeline: pipeline ? (head as Omit<PipelineRow, 'jobs'>) : null, shards, wallMs: pipeline ? pipeline.durationMs : (runs[0]?.durationMs ?? null) };
		}
	);
};

export default views;
