import { createHash } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import multipart from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { errorBodySchema, runReceiptSchema } from 'flackyness-reporter/protocol';
import { projectOf } from '../../auth/plugin.js';
import { publicUrl } from '../../bootstrap.js';
import { JunitFormatError, isXmlContentType, looksLikeXml, parseJunitReport } from '../../ingest/junit.js';
import { collectMetadata, type UploadMetadata } from '../../ingest/metadata.js';
import { ReportFormatError, formatReportPath, parsePlaywrightReport } from '../../ingest/playwright-json.js';
import { receiptOf } from '../../ingest/receipt.js';
import { reportUploadDocs } from '../../ingest/upload-docs.js';
import {
	completeRun,
	findRun,
	mergeClusterDeltas,
	openRun,
	recordErrorClusters,
	runIdentity,
	storeResults,
	type ClusterDelta
} from '../../ingest/store.js';
import { transaction } from '../../db/database.js';
import type { ParsedReport } from '../../ingest/types.js';
import { ByteBudget, type BudgetLease } from '../../lib/byte-budget.js';
import { HttpError } from '../../lib/http-errors.js';
import { refuseExpired } from '../../ingest/retention-guard.js';

const STORE_CHUNK = 5000;

/** What a request that finds the body budget spent is told: the body is not refused, only delayed. */
function busy(): HttpError {
	return new HttpError(503, 'The server holds as many report bytes in memory as it may right now; retry shortly.', { 'Retry-After': '5' });
}

/**
 * Counts bytes through a stream, failing with 413 past `limit` and with 503 when the process-wide
 * budget (when given) cannot hold them: the body is cut off as soon as either happens.
 */
function byteLimit(limit: number, message: string, lease?: BudgetLease): Transform & { bytes: number } {
	let bytes = 0;
	const t = new Transform({
		transform(chunk: Buffer, _enc, cb: TransformCallback) {
			bytes += chunk.length;
			if (bytes > limit) cb(new HttpError(413, message));
			else if (lease && !lease.take(chunk.length)) cb(busy());
			else cb(null, chunk);
		}
	});
	return Object.defineProperty(t, 'bytes', { get: () => bytes }) as Transform & { bytes: number };
}

/** Fastify checks `receivedEncodedLength` against its own limit: report the bytes on the wire. */
function withWireLength(stream: Transform, wire: { bytes: number }): Transform {
	return Object.defineProperty(stream, 'receivedEncodedLength', { get: () => wire.bytes });
}

const decompressedTooLarge = (limit: number) => `The report is larger than ${limit} bytes once decompressed (DECOMPRESSED_LIMIT).`;

/** Gunzips a multipart file part as a stream, within the same limits as a gzip body. */
async function gunzipLimited(data: Buffer, limit: number, lease: BudgetLease): Promise<Buffer> {
	const chunks: Buffer[] = [];
	const expanded = byteLimit(limit, decompressedTooLarge(limit), lease);
	const gunzip = createGunzip();
	try {
		await pipeline(Readable.from([data]), gunzip, expanded, async (source: AsyncIterable<Buffer>) => {
			for await (const chunk of source) chunks.push(chunk);
		});
	} catch (err) {
		if (err instanceof HttpError) throw err;
		throw new HttpError(400, `The gzip data is corrupt: ${(err as Error).message}`);
	}
	return Buffer.concat(chunks);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function parseJsonReport(bytes: Buffer): unknown {
	let text: string;
	try {
		text = utf8.decode(bytes);
	} catch {
		throw new HttpError(400, 'The report is not valid UTF-8.');
	}
	if (text.trim() === '') throw new HttpError(400, 'The report is empty; send the output of `playwright test --reporter=json`.');
	try {
		return JSON.parse(text);
	} catch (err) {
		throw new HttpError(400, `The report is not valid JSON: ${(err as Error).message}`);
	}
}

function parseReport(json: unknown, projectDir: string | undefined): ParsedReport {
	try {
		return parsePlaywrightReport(json, { projectDir });
	} catch (err) {
		if (err instanceof ReportFormatError) {
			const where = formatReportPath(err.path);
			throw new HttpError(400, `Not a Playwright JSON report: ${where ? `${where}: ` : ''}${err.message}`);
		}
		throw err;
	}
}

/** JUnit XML (an XML body, or a report file part starting with '<') or a Playwright JSON report. */
function parseUpload(bytes: Buffer, xml: boolean, projectDir: string | undefined): ParsedReport {
	if (!xml) return parseReport(parseJsonReport(bytes), projectDir);
	try {
		return parseJunitReport(bytes);
	} catch (err) {
		if (err instanceof JunitFormatError) throw new HttpError(400, `Not a JUnit XML report: ${err.message}`);
		throw err;
	}
}

/**
 * Reads a multipart upload. The parser's own errors (no boundary, a body cut off mid-part) are the
 * client's: they become 400, and nothing has been stored yet.
 */
async function readMultipart(
	request: FastifyRequest,
	fileLimit: number,
	lease: BudgetLease
): Promise<{ fields: Record<string, string>; file: Buffer }> {
	try {
		return await readParts(request, fileLimit, lease);
	} catch (err) {
		const status = (err as { statusCode?: number }).statusCode;
		if (err instanceof HttpError || (status !== undefined && status < 500)) throw err;
		throw new HttpError(400, `The multipart/form-data body is malformed: ${(err as Error).message}.`);
	}
}

/** Metadata fields, and the report from the `report` file part. */
async function readParts(
	request: FastifyRequest,
	fileLimit: number,
	lease: BudgetLease
): Promise<{ fields: Record<string, string>; file: Buffer }> {
	const fields: Record<string, string> = {};
	let file: Buffer | undefined;
	for await (const part of request.parts()) {
		if (part.type === 'file') {
			if (part.fieldname !== 'report') {
				part.file.resume();
				throw new HttpError(400, `Unexpected file part "${part.fieldname}"; send the report as -F report=@results.json.`);
			}
			file = await readBudgeted(part.file, lease);
			if (part.file.truncated) throw new HttpError(413, `The report file is larger than ${fileLimit} bytes (BODY_LIMIT).`);
		} else {
			if (typeof part.value !== 'string') throw new HttpError(400, `Form field "${part.fieldname}" must be text.`);
			fields[part.fieldname] = part.value;
		}
	}
	if (!file) throw new HttpError(400, 'No "report" file part: send the report as -F report=@results.json.');
	return { fields, file };
}

/** Reads a stream into memory, taking every chunk from the body budget. */
async function readBudgeted(stream: AsyncIterable<Buffer>, lease: BudgetLease): Promise<Buffer> {
	const chunks: Buffer[] = [];
	for await (const chunk of stream) {
		if (!lease.take(chunk.length)) throw busy();
		chunks.push(chunk);
	}
	return Buffer.concat(chunks);
}

/** Wall time covered by the results, for reports without `stats` (Playwright up to 1.38). */
function spanOf(parsed: ParsedReport): number | undefined {
	let start = Infinity;
	let end = -Infinity;
	for (const r of parsed.results) {
		const t = Date.parse(r.startedAt);
		start = Math.min(start, t);
		end = Math.max(end, t + r.durationMs);
	}
	return Number.isFinite(start) && end >= start ? end - start : undefined;
}

/**
 * A client's idempotency key names one report: sent again with other content, it is a mistake (a
 * key reused across jobs) that would silently drop the new results. Runs stored before hashes were
 * kept, or opened by the streaming protocol, have none to compare with.
 */
function refuseReusedKey(clientKey: string | undefined, storedHash: string | null, hash: string): void {
	if (clientKey === undefined || storedHash === null || storedHash === hash) return;
	throw new HttpError(
		409,
		`The idempotency key "${clientKey}" (X-Flackyness-Idempotency-Key) was already used for another report; send a new key for a new report.`
	);
}

const reports: FastifyPluginAsyncZod = async (app) => {
	const { BODY_LIMIT, DECOMPRESSED_LIMIT } = app.config;
	/** The run is stored whatever happens here: a lost cluster count is logged, not answered. */
	const errorClustersOf = (request: FastifyRequest, projectId: string, clusters: ClusterDelta[]) =>
		recordErrorClusters(app.db.pool, projectId, clusters).catch((err: unknown) =>
			request.log.warn({ err: (err as Error).message }, 'could not count error clusters')
		);

	// One maximal report and a few ordinary ones at a time: what memory a gzip bomb can claim.
	const budget = new ByteBudget(DECOMPRESSED_LIMIT + 4 * BODY_LIMIT);
	const leases = new WeakMap<FastifyRequest, BudgetLease>();
	const leaseOf = (request: FastifyRequest): BudgetLease => {
		let lease = leases.get(request);
		if (!lease) leases.set(request, (lease = budget.lease()));
		return lease;
	};
	// The body is held until the answer is sent (the parsed report lives as long).
	const release = async (request: FastifyRequest) => leases.get(request)?.release();
	app.addHook('onResponse', release);
	app.addHook('onRequestAbort', release);

	await app.register(multipart, {
		limits: { fileSize: BODY_LIMIT, files: 1, fields: 64, fieldSize: 4096, parts: 66, fieldNameSize: 100 },
		throwFileSizeLimit: false
	});

	// A report is JSON or multipart: Fastify's default text/plain parser would take anything.
	app.removeContentTypeParser('text/plain');
	// JSON bodies are read as bytes: the raw report is hashed for idempotency and decoded strictly.
	app.removeContentTypeParser('application/json');
	app.addContentTypeParser(['application/json', 'application/xml', 'text/xml'], { parseAs: 'buffer', bodyLimit: DECOMPRESSED_LIMIT + 1 }, (_req, body, done) =>
		done(null, body)
	);

	// BODY_LIMIT applies to the bytes on the wire, DECOMPRESSED_LIMIT to what gzip expands them to.
	app.addHook('preParsing', async (request, _reply, payload) => {
		// The token first, before a byte of the body is read: a caller without one must not make the
		// server take in BODY_LIMIT bytes and gunzip them to DECOMPRESSED_LIMIT only to hear 401.
		await app.requireProjectToken(request);
		if (request.headers['content-type']?.startsWith('multipart/')) return payload;
		const encoding = (request.headers['content-encoding'] ?? 'identity').toLowerCase().trim();
		const wireMessage = `The request body is larger than ${BODY_LIMIT} bytes (BODY_LIMIT); gzip it or raise the limit.`;
		if (encoding === 'identity') {
			const wire = byteLimit(BODY_LIMIT, wireMessage, leaseOf(request));
			return withWireLength(payload.pipe(wire), wire);
		}
		if (encoding !== 'gzip' && encoding !== 'x-gzip') {
			throw new HttpError(415, `Content-Encoding "${encoding}" is not supported; send gzip or no encoding.`);
		}
		const wire = byteLimit(BODY_LIMIT, wireMessage);
		const gunzip = createGunzip();
		const expanded = byteLimit(DECOMPRESSED_LIMIT, decompressedTooLarge(DECOMPRESSED_LIMIT), leaseOf(request));
		const out = payload.pipe(wire).pipe(gunzip).pipe(expanded);
		gunzip.on('error', (err) => out.destroy(new HttpError(400, `The gzip body is corrupt: ${err.message}`)));
		wire.on('error', (err) => out.destroy(err));
		return withWireLength(out, wire);
	});

	app.post(
		'/api/v1/reports',
		{
			bodyLimit: DECOMPRESSED_LIMIT + 1,
			config: { rateLimit: app.limits.ingestRuns, openapi: reportUploadDocs },
			// Authenticated in the preParsing hook above.
			schema: {
				summary: 'Upload a whole Playwright JSON report or JUnit XML file (the curl fallback)',
				description:
					'Raw JSON body, or JUnit XML (Playwright\'s `junit` reporter, Surefire, jest-junit, pytest) as `application/xml` or `text/xml` (optionally Content-Encoding: gzip), with metadata in X-Flackyness-* headers or query parameters; or multipart/form-data with a `report` file part (JSON or JUnit XML, gzipped or not) and metadata fields (a later source wins: headers, then query, then fields). The same report for the same CI job stores one run: 201 the first time, 200 after; an idempotency key sent with another report answers 409; a report of a run that started more than RETENTION_DAYS days ago answers 422 (its results would be deleted by the next retention pass). 503 with Retry-After when the server holds as many report bytes as it may.',
				tags: ['ingestion'],
				security: [{ bearer: [] }],
				response: { 200: runReceiptSchema, 201: runReceiptSchema, '4xx': errorBodySchema, 503: errorBodySchema }
			}
		},
		async (request, reply) => {
			const principal = projectOf(request);
			let bytes: Buffer;
			let meta: UploadMetadata;
			let xml: boolean;
			if (request.isMultipart()) {
				const lease = leaseOf(request);
				const { fields, file } = await readMultipart(request, BODY_LIMIT, lease);
				const isGzip = file.length > 2 && file[0] === 0x1f && file[1] === 0x8b;
				bytes = isGzip ? await gunzipLimited(file, DECOMPRESSED_LIMIT, lease) : file;
				xml = looksLikeXml(bytes);
				meta = collectMetadata({ headers: request.headers, query: request.query as Record<string, unknown>, fields });
			} else {
				if (!Buffer.isBuffer(request.body)) {
					throw new HttpError(400, 'Send the report as a JSON body or as multipart/form-data with a "report" file part.');
				}
				bytes = request.body;
				xml = isXmlContentType(request.headers['content-type']);
				meta = collectMetadata({ headers: request.headers, query: request.query as Record<string, unknown> });
			}
			if (meta.project !== undefined && meta.project !== principal.projectSlug && meta.project !== principal.projectId) {
				throw new HttpError(403, `This token belongs to project "${principal.projectSlug}", not "${meta.project}".`);
			}
			const parsed = parseUpload(bytes, xml, meta.projectDir);
			refuseExpired(app.config.RETENTION_DAYS, [parsed.startedAt, ...parsed.results.map((r) => r.startedAt)], 'This report');
			const ci = { ...meta.ci };
			if (parsed.shard && ci.shardIndex === undefined) {
				ci.shardIndex = parsed.shard.current;
				ci.shardTotal = parsed.shard.total;
			}
			const contentHash = createHash('sha256').update(bytes).digest('hex');
			const identity = runIdentity(ci, { clientKey: meta.idempotencyKey, contentHash });

			const clusters: ClusterDelta[] = [];
			const { runId, created } = await transaction(app.db.pool, async (client) => {
				const run = await openRun(client, {
					projectId: principal.projectId,
					identity,
					source: 'json_upload',
					ci,
					playwrightVersion: parsed.playwrightVersion,
					startedAt: parsed.startedAt,
					contentHash
				});
				if (!run.created) {
					refuseReusedKey(meta.idempotencyKey, run.contentHash, contentHash);
					return { runId: run.id, created: false };
				}
				for (let i = 0; i < parsed.results.length; i += STORE_CHUNK) {
					const batch = await storeResults(client, principal.projectId, run.id, parsed.results.slice(i, i + STORE_CHUNK), { deferClusters: true });
					clusters.push(...batch.clusters);
				}
				await completeRun(client, run.id, { status: parsed.status, durationMs: parsed.durationMs ?? spanOf(parsed) });
				return { runId: run.id, created: true };
			});
			// After the commit: the clusters' rows are shared by every upload of the project.
			if (created) await errorClustersOf(request, principal.projectId, mergeClusterDeltas(clusters));
			const run = await findRun(app.db.pool, runId);
			app.metrics.runsIngested.inc({ source: 'json_upload', created: String(created) });
			if (created) app.metrics.resultsIngested.inc({ source: 'json_upload' }, run?.total ?? 0);
			app.metrics.bytesIngested.inc({ encoding: String(request.headers['content-encoding'] ?? 'identity') === 'identity' ? 'identity' : 'gzip' }, Number(request.headers['content-length'] ?? bytes.length));
			request.log.info({ event: 'report.ingested', runId, created, results: run?.total }, 'report ingested');
			return reply.code(created ? 201 : 200).send(receiptOf(run!, created, publicUrl(app.config)));
		}
	);
};

export default reports;
