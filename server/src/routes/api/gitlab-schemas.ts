import { z } from 'zod';

/** The GitLab report queue's state (MR notes and commit statuses), as the settings panel and system health show it. */
export const reportQueueSchema = z
	.object({
		pending: z.number().int().describe('pipeline reports waiting: due now, or waiting to be retried'),
		retrying: z.number().int().describe('of those, reports whose last attempt failed (tried again with backoff)'),
		failed: z.number().int().describe('reports given up: GitLab refused them for a reason retrying cannot fix (token, access), or out of attempts'),
		lastFailure: z
			.object({
				at: z.date().describe('when the failure happened'),
				pipelineId: z.string().describe('the GitLab pipeline being reported'),
				kind: z.string().nullable().describe('the kind of failure: bad_token, no_access, rate_limited, timeout, server_error…'),
				message: z.string().describe('what went wrong, in words')
			})
			.nullable()
			.describe('the latest failed attempt, if any'),
		lastSuccess: z
			.object({
				at: z.date().describe('when the report was written'),
				pipelineId: z.string().describe('the GitLab pipeline reported'),
				outcome: z.string().nullable().describe('what was written, e.g. "status failed on 1a2b3c4d; note updated on !12"')
			})
			.nullable()
			.describe('the latest report written to GitLab, if any')
	})
	.describe('reports of pipelines to GitLab (MR note, commit status)');
