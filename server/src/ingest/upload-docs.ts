/**
 * OpenAPI for `POST /api/v1/reports`, whose body and metadata are read by hand (raw bytes for
 * hashing and strict decoding; metadata from headers, query string or form fields): the same
 * metadata keys as the parser, with examples a user would send.
 */
import { z } from 'zod';
import { ciMetadataSchema } from 'flackyness-reporter/protocol';
import { HEADER_PREFIX, METADATA_KEYS } from './metadata.js';

const EXAMPLES: Record<(typeof METADATA_KEYS)[number], string | number> = {
	provider: 'gitlab',
	branch: 'main',
	defaultBranch: 'main',
	tag: 'v1.4.0',
	commitSha: '4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39',
	commitTitle: 'Fix checkout total rounding',
	commitAuthor: 'Ada Lovelace',
	commitTimestamp: '2026-11-20T10:00:00Z',
	pipelineId: '123456',
	pipelineIid: '789',
	pipelineUrl: 'https://gitlab.example.com/group/app/-/pipelines/123456',
	pipelineSource: 'merge_request_event',
	jobId: '987654',
	jobName: 'e2e 1/3',
	jobUrl: 'https://gitlab.example.com/group/app/-/jobs/987654',
	mrIid: 42,
	mrSourceBranch: 'fix/rounding',
	mrTargetBranch: 'main',
	shardIndex: 1,
	shardTotal: 3,
	projectPath: 'group/app',
	idempotencyKey: 'ci-987654-attempt-1',
	project: 'web',
	projectDir: '/builds/group/app'
};

const DESCRIPTIONS: Partial<Record<(typeof METADATA_KEYS)[number], string>> = {
	idempotencyKey:
		'Names this report: sent again with the same report it answers 200 with the stored run, with another report 409. Default: the CI job identity, else the SHA-256 of the report.',
	project: 'Project slug or id; must be the token’s project.',
	projectDir:
		'GitLab’s CI_PROJECT_DIR: the paths of traces and screenshots are stored relative to it, as job artifact paths. Default: the directory holding the config file and the test directory.',
	commitTimestamp: 'ISO 8601 with offset, years 1 to 9999.'
};

/** JSON Schema of one metadata key, as text (headers and query strings carry text), with an example. */
function metadataSchema(key: (typeof METADATA_KEYS)[number]): Record<string, unknown> {
	const shape = ciMetadataSchema.shape as Record<string, z.ZodType>;
	const base = key in shape ? (z.toJSONSchema(shape[key]!, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>) : { type: 'string' };
	const { $schema: _ignored, ...rest } = base;
	const description = DESCRIPTIONS[key];
	return { ...rest, type: rest.type === 'integer' ? 'integer' : 'string', example: EXAMPLES[key], ...(description ? { description } : {}) };
}

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

const metadataProperties = (name: (key: string) => string) =>
	Object.fromEntries(METADATA_KEYS.map((key) => [name(key), metadataSchema(key)]));

const reportSchema = {
	type: 'object',
	description: 'The output of `playwright test --reporter=json` (Playwright 1.37 and later), unchanged.',
	required: ['suites'],
	properties: {
		config: { type: 'object', properties: { version: { type: 'string', example: '1.65.1' }, rootDir: { type: 'string' } } },
		suites: { type: 'array', items: { type: 'object' } },
		errors: { type: 'array', items: { type: 'object' } },
		stats: { type: 'object', properties: { startTime: { type: 'string', format: 'date-time', example: '2026-11-20T10:00:00.000Z' }, duration: { type: 'number', example: 95321 } } }
	},
	example: { config: { version: '1.65.1' }, suites: [], errors: [], stats: { startTime: '2026-11-20T10:00:00.000Z', duration: 95321 } }
};

const junitSchema = {
	type: 'string',
	description:
		"JUnit XML: Playwright's `junit` reporter (with or without `includeRetries`), Maven Surefire (`flakyFailure`, `rerunFailure`), jest-junit or pytest's `--junitxml`. No DOCTYPE.",
	example: '<testsuites><testsuite name="login.spec.ts" timestamp="2026-11-20T10:00:00.000Z"><testcase name="signs in" classname="login.spec.ts" time="1.2"/></testsuite></testsuites>'
};

export const reportUploadDocs = {
	body: {
		content: {
			'application/json': { schema: reportSchema },
			'application/xml': { schema: junitSchema },
			'text/xml': { schema: junitSchema },
			'multipart/form-data': {
				schema: {
					type: 'object',
					required: ['report'],
					properties: {
						report: { type: 'string', format: 'binary', description: 'The JSON report or JUnit XML file, gzipped or not (`-F report=@results.json`).' },
						...metadataProperties((key) => key)
					}
				}
			}
		}
	},
	querystring: { type: 'object', properties: metadataProperties((key) => key) },
	headers: {
		type: 'object',
		properties: {
			'content-encoding': {
				type: 'string',
				enum: ['gzip', 'identity'],
				example: 'gzip',
				description: 'gzip for a compressed JSON or XML body (DECOMPRESSED_LIMIT applies once expanded).'
			},
			...metadataProperties((key) => `${HEADER_PREFIX}${kebab(key)}`)
		}
	}
};
