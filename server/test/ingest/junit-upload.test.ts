import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { BACKENDS } from '../helpers/db.js';
import { ADMIN, counts, newProject } from '../helpers/ingest.js';
import { runJunitSuite, type JunitRun } from '../fixtures/junit/run-suite.js';

let outDir = '';
let run: JunitRun;

beforeAll(async () => {
	outDir = await mkdtemp(path.join(os.tmpdir(), 'flackyness-junit-upload-'));
	run = await runJunitSuite(outDir);
	// One real Playwright run; generous because CI machines share their CPUs.
}, 180_000);

afterAll(async () => {
	if (outDir) await rm(outDir, { recursive: true, force: true });
});

interface StoredRow {
	file: string;
	title_path: string[];
	project_name: string;
	outcome: string;
	expected_status: string;
	status: string;
	attempts: number;
	failed_attempts: number;
}

describe.each(BACKENDS)('JUnit XML through POST /api/v1/reports over HTTP on %s', (backend) => {
	let t: TestApp;
	let base = '';

	beforeAll(async () => {
		t = await buildTestApp(backend, { ADMIN_TOKEN: ADMIN, PUBLIC_URL: 'https://flackyness.example.com' });
		base = await t.app.listen({ host: '127.0.0.1', port: 0 });
	});
	afterAll(async () => t?.close());

	/** Each upload goes to a project of its own: the same bytes twice would be one idempotent run. */
	async function upload(slug: string, body: Uint8Array | FormData, headers: Record<string, string> = {}) {
		const { token } = await newProject(t, slug);
		const res = await fetch(`${base}/api/v1/reports`, {
			method: 'POST',
			headers: { authorization: `Bearer ${token}`, 'x-flackyness-branch': 'main', ...headers },
			body
		});
		return { status: res.status, body: (await res.json()) as { runId: string; message?: string } };
	}

	async function stored(runId: string): Promise<StoredRow[]> {
		const { rows } = await t.db.pool.query<StoredRow>(
			`SELECT t.file, t.title_path, t.project_name, r.outcome::text AS outcome, r.expected_status, r.status, r.attempts, r.failed_attempts
			 FROM test_results r JOIN tests t ON t.id = r.test_id WHERE r.run_id = $1`,
			[runId]
		);
		return rows.sort((a, b) => JSON.stringify([a.file, a.title_path, a.project_name]).localeCompare(JSON.stringify([b.file, b.title_path, b.project_name])));
	}

	const multipart = (file: Buffer, name: string) => {
		const form = new FormData();
		form.append('commitSha', 'abc1234');
		form.append('report', new Blob([new Uint8Array(file)]), name);
		return form;
	};

	it('stores the same results from the includeRetries JUnit file (raw, gzipped, multipart) as from the JSON report', async () => {
		const json = await upload(`json-${backend}`, new Uint8Array(run.jsonBytes), { 'content-type': 'application/json' });
		expect(json.status).toBe(201);
		const expected = await stored(json.body.runId);
		expect(expected.length).toBeGreaterThan(10);

		const junit = run.junitWithRetries;
		const uploads = [
			await upload(`raw-${backend}`, new Uint8Array(junit), { 'content-type': 'application/xml' }),
			await upload(`gzip-${backend}`, new Uint8Array(gzipSync(junit)), { 'content-type': 'text/xml; charset=utf-8', 'content-encoding': 'gzip' }),
			await upload(`form-${backend}`, multipart(junit, 'junit.xml')),
			await upload(`form-gz-${backend}`, multipart(gzipSync(junit), 'junit.xml.gz'))
		];
		for (const [index, res] of uploads.entries()) {
			expect(res.status, `upload ${index}: ${res.body.message}`).toBe(201);
			expect(await stored(res.body.runId), `upload ${index}`).toEqual(expected);
		}
	});

	it('stores the JUnit file without retries with the same tests and outcomes, a flaky test reading as passed', async () => {
		const json = await upload(`json-plain-${backend}`, new Uint8Array(run.jsonBytes), { 'content-type': 'application/json' });
		const expected = await stored(json.body.runId);
		const res = await upload(`plain-${backend}`, new Uint8Array(run.junit), { 'content-type': 'application/xml' });
		expect(res.status, res.body.message).toBe(201);
		const actual = await stored(res.body.runId);
		expect(actual.map((r) => [r.file, r.title_path, r.project_name, r.expected_status])).toEqual(
			expected.map((r) => [r.file, r.title_path, r.project_name, r.expected_status])
		);
		expect(actual.map((r) => r.outcome)).toEqual(expected.map((r) => (r.outcome === 'flaky' ? 'expected' : r.outcome)));
		expect(expected.some((r) => r.outcome === 'flaky')).toBe(true);
	});

	it('answers 400 naming the problem for hostile or broken XML, and stores nothing', async () => {
		const { token } = await newProject(t, `hostile-${backend}`);
		const laughs = ['<!ENTITY a "lol">', ...Array.from({ length: 9 }, (_, i) => `<!ENTITY ${'b'.repeat(i + 1)} "${`&${i ? 'b'.repeat(i) : 'a'};`.repeat(10)}">`)];
		const cases: [string, Buffer | Uint8Array, RegExp][] = [
			['billion laughs', Buffer.from(`<!DOCTYPE testsuites [${laughs.join('')}]><testsuites name="&bbbbbbbbb;"/>`), /DOCTYPE/],
			['XXE', Buffer.from('<!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]><testsuite name="&x;"/>'), /DOCTYPE/],
			['deep nesting', Buffer.from(`${'<testsuite name="s">'.repeat(5000)}${'</testsuite>'.repeat(5000)}`), /nested more than/],
			['huge attribute', Buffer.from(`<testsuite name="s"><testcase name="${'x'.repeat(1_000_000)}"/></testsuite>`), /attribute "name" is longer/],
			['invalid UTF-8', Buffer.concat([Buffer.from('<testsuite name="'), Buffer.from([0xff, 0xfe]), Buffer.from('"/>')]), /UTF-8/],
			['lone surrogate', Buffer.from('<testsuite name="&#xDC00;"/>'), /not well-formed/],
			['not JUnit', Buffer.from('<html><body>hello</body></html>'), /root element is <html>/],
			['date out of range', Buffer.from('<testsuite name="s" timestamp="0000-01-01T00:00:00"><testcase name="a"/></testsuite>'), /timestamp/]
		];
		const before = await counts(t);
		for (const [name, body, message] of cases) {
			for (const gzip of [false, true]) {
				const res = await fetch(`${base}/api/v1/reports`, {
					method: 'POST',
					headers: { authorization: `Bearer ${token}`, 'content-type': 'application/xml', ...(gzip ? { 'content-encoding': 'gzip' } : {}) },
					body: new Uint8Array(gzip ? gzipSync(body) : body)
				});
				const answer = (await res.json()) as { message: string };
				expect(res.status, `${name}${gzip ? ' (gzip)' : ''}`).toBe(400);
				expect(answer.message, name).toMatch(/^Not a JUnit XML report: /);
				expect(answer.message, name).toMatch(message);
			}
		}
		const form = await fetch(`${base}/api/v1/reports`, {
			method: 'POST',
			headers: { authorization: `Bearer ${token}` },
			body: multipart(Buffer.from('<!DOCTYPE x [<!ENTITY y "z">]><testsuite/>'), 'junit.xml')
		});
		expect(form.status).toBe(400);
		expect(await counts(t)).toEqual(before);
	});
});
