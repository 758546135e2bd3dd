import { readdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePlaywrightReport } from '../../src/ingest/playwright-json.js';
import { BACKENDS } from '../helpers/db.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { ADMIN, counts, newProject } from '../helpers/ingest.js';
import { makeReport } from '../helpers/report-factory.js';

const FIXTURES = new URL('../fixtures/playwright-json/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES));

describe.each(BACKENDS)('POST /api/v1/reports on %s', (backend) => {
	let t: TestApp;
	let token: string;
	beforeAll(async () => {
		// The fixtures are real reports, some over a year old: kept for a century here, not refused as older than the default RETENTION_DAYS.
		t = await buildTestApp(backend, { ADMIN_TOKEN: ADMIN, PUBLIC_URL: 'https://flackyness.example.com', RETENTION_DAYS: '36500' });
		({ token } = await newProject(t, 'web'));
	});
	afterAll(async () => t.close());

	it('stores every fixture with the counts of its own stats, and answers 200 with the same run the second time', async () => {
		for (const name of readdirSync(FIXTURES).filter((f) => f.endsWith('.json'))) {
			const body = fixture(name);
			const json = JSON.parse(body.toString('utf8'));
			let expected;
			try {
				expected = parsePlaywrightReport(json);
			} catch {
				// A fixture that is not a valid report must be refused without storing anything.
				const before = await counts(t);
				const res = await t.app.inject({
					method: 'POST',
					url: '/api/v1/reports',
					headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
					payload: body
				});
				expect(res.statusCode, name).toBe(400);
				expect(await counts(t)).toEqual(before);
				continue;
			}
			const first = await t.app.inject({
				method: 'POST',
				url: '/api/v1/reports',
				headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-flackyness-branch': 'main' },
				payload: body
			});
			expect(first.statusCode, name).toBe(201);
			const receipt = first.json();
			const outcomes = { expected: 0, unexpected: 0, flaky: 0, skipped: 0 };
			for (const r of expected.results) outcomes[r.outcome]++;
			expect(receipt.counts, name).toEqual({ total: expected.results.length, ...outcomes });
			if (json.stats) {
				expect(receipt.counts, name).toMatchObject({
					expected: json.stats.expected,
					unexpected: json.stats.unexpected,
					flaky: json.stats.flaky,
					skipped: json.stats.skipped
				});
			}
			expect(receipt.url).toBe(`https://flackyness.example.com/runs/${receipt.runId}`);
			const stored = await t.db.pool.query('SELECT count(*)::int AS n FROM test_results WHERE run_id = $1', [receipt.runId]);
			expect(stored.rows[0].n).toBe(expected.results.length);

			const before = await counts(t);
			const again = await t.app.inject({
				method: 'POST',
				url: '/api/v1/reports',
				headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-flackyness-branch': 'main' },
				payload: body
			});
			expect(again.statusCode, name).toBe(200);
			expect(again.json()).toMatchObject({ runId: receipt.runId, created: false });
			expect(await counts(t)).toEqual(before);
		}
	});

	it('takes gzip bodies, and multipart uploads with metadata fields, storing the metadata on the run', async () => {
		const report = JSON.stringify(makeReport({ tests: 30, projects: ['chromium', 'firefox'], retries: 1, failRate: 0.1, flakyRate: 0.1, seed: 7 }));
		const gz = await t.app.inject({
			method: 'POST',
			url: '/api/v1/reports?pipelineId=101&jobId=5001&jobName=e2e%201%2F2&commitSha=ABCDEF1234567&shardIndex=1&shardTotal=2',
			headers: {
				authorization: `Bearer ${token}`,
				'content-type': 'application/json',
				'content-encoding': 'gzip',
				'x-flackyness-branch': 'feature/x',
				'x-flackyness-mr-iid': '42',
				'x-flackyness-provider': 'gitlab'
			},
			payload: gzipSync(report)
		});
		expect(gz.statusCode).toBe(201);
		expect(gz.json().counts.total).toBe(60);
		const run = await t.db.pool.query('SELECT * FROM runs WHERE id = $1', [gz.json().runId]);
		expect(run.rows[0]).toMatchObject({
			branch: 'feature/x',
			commit_sha: 'abcdef1234567',
			pipeline_id: '101',
			job_id: '5001',
			job_name: 'e2e 1/2',
			group_key: 'gitlab:101:e2e',
			mr_iid: 42,
			shard_index: 1,
			shard_total: 2,
			source: 'json_upload'
		});

		const boundary = '----flackyness';
		const part = (name: string, value: string) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
		const multipart = Buffer.concat([
			Buffer.from(part('branch', 'main') + part('pipelineId', '101') + part('jobId', '5002') + part('job-name', 'e2e 2/2')),
			Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="report"; filename="results.json"\r\nContent-Type: application/json\r\n\r\n`),
			gzipSync(report),
			Buffer.from(`\r\n--${boundary}--\r\n`)
		]);
		const mp = await t.app.inject({
			method: 'POST',
			url: '/api/v1/reports',
			headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
			payload: multipart
		});
		expect(mp.statusCode).toBe(201);
		const run2 = await t.db.pool.query('SELECT branch, job_name, group_key FROM runs WHERE id = $1', [mp.json().runId]);
		expect(run2.rows[0]).toEqual({ branch: 'main', job_name: 'e2e 2/2', group_key: 'other:101:e2e' });
	});
});

describe('ingestion rules (PostgreSQL)', () => {
	let t: TestApp;
	let web: { id: string; token: string };
	let other: { id: string; token: string };
	beforeAll(async () => {
		t = await buildTestApp('postgres', { ADMIN_TOKEN: ADMIN, BODY_LIMIT: '10mb', DECOMPRESSED_LIMIT: '100mb' });
		web = await newProject(t, 'web');
		other = await newProject(t, 'other');
	});
	afterAll(async () => t.close());

	const upload = (payload: string | Buffer, headers: Record<string, string> = {}, tok = web.token) =>
		t.app.inject({
			method: 'POST',
			url: '/api/v1/reports',
			headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json', ...headers },
			payload
		});

	it('stores one run for concurrent duplicate uploads of one job', async () => {
		const report = JSON.stringify(makeReport({ tests: 200, projects: ['chromium', 'webkit'], retries: 1, flakyRate: 0.05, seed: 3 }));
		const headers = { 'x-flackyness-pipeline-id': '900', 'x-flackyness-job-id': '9001' };
		const answers = await Promise.all(Array.from({ length: 8 }, () => upload(report, headers)));
		const codes = answers.map((a) => a.statusCode).sort();
		expect(codes).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);
		expect(new Set(answers.map((a) => a.json().runId)).size).toBe(1);
		const { rows } = await t.db.pool.query(
			`SELECT count(*)::int AS n FROM test_results WHERE run_id = $1`,
			[answers[0]!.json().runId]
		);
		expect(rows[0].n).toBe(400);
		const runs = await t.db.pool.query(`SELECT count(*)::int AS n FROM runs WHERE job_id = '9001'`);
		expect(runs.rows[0].n).toBe(1);
	});

	it('refuses requests without a valid token, and tokens of other projects', async () => {
		const report = JSON.stringify(makeReport({ tests: 2 }));
		const none = await t.app.inject({ method: 'POST', url: '/api/v1/reports', headers: { 'content-type': 'application/json' }, payload: report });
		expect(none.statusCode).toBe(401);
		expect(none.json().message).toMatch(/Missing Authorization header/);
		expect((await upload(report, {}, 'flk_p_nope')).json()).toMatchObject({ statusCode: 401, message: 'Invalid token.' });
		const admin = await upload(report, {}, ADMIN);
		expect(admin.statusCode).toBe(403);
		const wrongProject = await upload(report, { 'x-flackyness-project': 'web' }, other.token);
		expect(wrongProject.statusCode).toBe(403);
		expect(wrongProject.json().message).toContain('belongs to project "other", not "web"');

		const rotated = await t.app.inject({
			method: 'POST',
			url: `/api/v1/admin/projects/other/rotate-token?revokeOthers=true`,
			headers: { authorization: `Bearer ${ADMIN}` }
		});
		expect(rotated.statusCode).toBe(201);
		const revoked = await upload(report, {}, other.token);
		expect(revoked.statusCode).toBe(401);
		expect(revoked.json().message).toMatch(/revoked/);
		other.token = rotated.json().token;
		expect((await upload(report, { 'x-flackyness-project': 'other' }, other.token)).statusCode).toBe(201);
	});

	const titled = (title: string) => {
		const r = makeReport({ tests: 1 }) as { suites: Array<{ suites: Array<{ specs: Array<{ title: string }> }> }> };
		r.suites[0]!.suites[0]!.specs[0]!.title = title;
		return JSON.stringify(r);
	};

	const hostile: Array<[string, () => string | Buffer, Record<string, string>, number, RegExp]> = [
		['malformed JSON', () => '{"suites": [', {}, 400, /not valid JSON/],
		['an empty body', () => '', {}, 400, /empty/],
		['JSON that is not a report', () => JSON.stringify({ hello: 'world' }), {}, 400, /Not a Playwright JSON report: suites/],
		['a report that is an array', () => '[1,2,3]', {}, 400, /Not a Playwright JSON report/],
		['deeply nested JSON', () => `{"suites":${'['.repeat(100_000)}${']'.repeat(100_000)}}`, {}, 400, /Not a Playwright JSON report/],
		['deeply nested suites', () => {
			let suite: Record<string, unknown> = { title: 'leaf', specs: [], suites: [] };
			for (let i = 0; i < 200; i++) suite = { title: `s${i}`, file: 'a.spec.ts', specs: [], suites: [suite] };
			return JSON.stringify({ config: {}, suites: [suite] });
		}, {}, 400, /Not a Playwright JSON report/],
		['a 100k-character title', () => titled('x'.repeat(100_000)), {}, 400, /Not a Playwright JSON report: .*suites\[0\]/],
		['a start time PostgreSQL cannot store', () => {
			const r = makeReport({ tests: 1 }) as { stats: { startTime: string } };
			r.stats.startTime = '0000-01-01T00:00:00Z';
			return JSON.stringify(r);
		}, {}, 400, /stats\.startTime: must be a date between the years 1 and 9999/],
		['invalid UTF-8', () => Buffer.concat([Buffer.from('{"suites":[],"x":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]), {}, 400, /UTF-8/],
		['numbers as strings', () => {
			const r = makeReport({ tests: 1 }) as { suites: Array<{ suites: Array<{ specs: Array<{ tests: Array<{ results: Array<{ duration: unknown }> }> }> }> }> };
			r.suites[0]!.suites[0]!.specs[0]!.tests[0]!.results[0]!.duration = '12';
			return JSON.stringify(r);
		}, {}, 400, /duration/],
		['missing fields', () => JSON.stringify({ config: {} }), {}, 400, /suites/],
		['an unknown metadata field', () => titled('ok'), { 'x-flackyness-colour': 'blue' }, 400, /Unknown metadata "colour"/],
		['a malformed commit sha', () => titled('ok'), { 'x-flackyness-commit-sha': "1'; DROP TABLE runs; --" }, 400, /metadata.commitSha/],
		['a non-numeric merge request', () => titled('ok'), { 'x-flackyness-mr-iid': '12abc' }, 400, /metadata.mrIid/],
		['an unsupported encoding', () => titled('ok'), { 'content-encoding': 'br' }, 415, /Content-Encoding "br"/],
		['corrupt gzip', () => Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3, 4]), { 'content-encoding': 'gzip' }, 400, /gzip/],
		['an 11 MB body', () => Buffer.alloc(11 * 1024 * 1024, 0x20), {}, 413, /BODY_LIMIT/],
		['a gzip bomb', () => gzipSync(Buffer.alloc(150 * 1024 * 1024, 0x20)), { 'content-encoding': 'gzip' }, 413, /DECOMPRESSED_LIMIT/]
	];

	it.each(hostile)('answers %s with the right 4xx and stores nothing', async (_name, body, headers, status, message) => {
		const before = await counts(t);
		const res = await upload(body(), headers);
		expect(res.statusCode).toBe(status);
		expect(res.json().message).toMatch(message);
		expect(await counts(t)).toEqual(before);
	});

	it('stores script tags, event handlers and SQL-looking strings literally', async () => {
		const nasty = `<script>alert(1)</script><img src=x onerror="alert(2)"> '; DROP TABLE tests; --`;
		const r = makeReport({ tests: 1, failRate: 1, seed: 1 }) as {
			suites: Array<{ suites: Array<{ specs: Array<{ title: string; tests: Array<{ results: Array<{ errors: Array<{ message: string }> }> }> }> }> }>;
		};
		const spec = r.suites[0]!.suites[0]!.specs[0]!;
		spec.title = nasty;
		spec.tests[0]!.results[0]!.errors[0]!.message = `Error: ${nasty}`;
		const res = await upload(JSON.stringify(r));
		expect(res.statusCode).toBe(201);
		const { rows } = await t.db.pool.query(
			`SELECT t.title, r.error_message FROM test_results r JOIN tests t ON t.id = r.test_id WHERE r.run_id = $1`,
			[res.json().runId]
		);
		expect(rows).toEqual([{ title: nasty, error_message: `Error: ${nasty}` }]);
		const tables = await t.db.pool.query(`SELECT to_regclass('tests') AS t`);
		expect(tables.rows[0].t).toBe('tests');
	});

	it('stores a test that appears twice in one report once', async () => {
		const r = makeReport({ tests: 3, perFile: 3 }) as { suites: Array<{ suites: Array<{ specs: unknown[] }> }> };
		const specs = r.suites[0]!.suites[0]!.specs;
		specs.push(structuredClone(specs[0]));
		const res = await upload(JSON.stringify(r));
		expect(res.statusCode).toBe(201);
		expect(res.json().counts.total).toBe(3);
	});

	it('limits opening runs per token to 60 a minute, with Retry-After and X-RateLimit headers', async () => {
		const p = await newProject(t, 'limited');
		const report = (i: number) => JSON.stringify(makeReport({ tests: 1, seed: i, titlePrefix: `r${i} ` }));
		const codes: number[] = [];
		let last;
		for (let i = 0; i < 61; i++) {
			last = await upload(report(i), {}, p.token);
			codes.push(last.statusCode);
		}
		expect(codes.slice(0, 60).every((c) => c === 201)).toBe(true);
		expect(last!.statusCode).toBe(429);
		expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0);
		expect(last!.headers['x-ratelimit-limit']).toBe('60');
		expect(last!.json().message).toMatch(/Rate limit/);
		// Another token is not affected.
		expect((await upload(report(99), {}, web.token)).statusCode).toBe(201);
	});
});
