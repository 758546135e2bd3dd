/**
 * Seeded fuzzing of ingestion against PostgreSQL's limits (text, jsonb, timestamptz, int4, uuid):
 * real Playwright JSON reports and streamed batches, mutated at random places, posted to a
 * listening server. No answer may be a 5xx, and a 2xx must have stored exactly what it reports.
 * FUZZ_SEED picks another seed (printed on failure); FUZZ_CASES the number of cases per kind.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePlaywrightReport } from '../../src/ingest/playwright-json.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { ADMIN, newProject } from '../helpers/ingest.js';
import { rng as seeded } from '../helpers/report-factory.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261129);
const CASES = Number(process.env.FUZZ_CASES ?? 120);

type Rng = ReturnType<typeof seeded>;
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;

const ODD_TEXT = ['\ud800', '\udfff', '😀'.slice(0, 1), '😀'.slice(1), '\u0000', 'a\u0000b', '\uffff', '\ufeff', '\u001b[31m', "'; DROP TABLE runs; --", '%00', '\\u0000'];
const ODD_NUMBERS = [2 ** 31, 2 ** 31 - 1, -(2 ** 31) - 1, -1, 0, 0.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER, 2 ** 63, 1e-300];
const ODD_DATES = ['0000-01-01T00:00:00Z', '0000-12-31T23:00:00-05:00', '+275760-09-13T00:00:00Z', '-000001-01-01T00:00:00Z', '10000-01-01T00:00:00Z', '9999-12-31T23:59:59.999Z', '0001-01-01T00:00:00Z', '2026-02-30T00:00:00Z', '1970-01-01T00:00:00Z', 'not a date'];
const ODD_VALUES: unknown[] = [null, true, [], {}, '', [[[]]], { $ref: '#' }];

/** A new value for `value` that PostgreSQL or the schemas might not take. */
function mutateValue(rng: Rng, value: unknown): unknown {
	const roll = rng();
	if (typeof value === 'string') {
		if (roll < 0.4) {
			const at = Math.floor(rng() * (value.length + 1));
			return value.slice(0, at) + pick(rng, ODD_TEXT) + value.slice(at);
		}
		if (roll < 0.6) return pick(rng, ODD_DATES);
		if (roll < 0.7) return value + 'x'.repeat(pick(rng, [255, 1025, 2049, 70_000]));
		if (roll < 0.85) return pick(rng, ODD_NUMBERS);
		return pick(rng, ODD_VALUES);
	}
	if (typeof value === 'number') {
		if (roll < 0.7) return pick(rng, ODD_NUMBERS);
		if (roll < 0.85) return String(value);
		return pick(rng, ODD_VALUES);
	}
	if (Array.isArray(value)) {
		if (roll < 0.3) return [...value, ...value];
		if (roll < 0.5) return deep(pick(rng, [10, 60, 500]), value);
		if (roll < 0.7) return [];
		return pick(rng, [...ODD_VALUES, 'text', 7]);
	}
	if (value && typeof value === 'object') {
		if (roll < 0.4) return { ...value, [pick(rng, ODD_TEXT)]: pick(rng, ODD_TEXT) };
		if (roll < 0.6) return deep(pick(rng, [10, 60, 500]), value);
		return pick(rng, [...ODD_VALUES, 'text', 7]);
	}
	return pick(rng, [...ODD_TEXT, ...ODD_NUMBERS, ...ODD_DATES, ...ODD_VALUES]);
}

function deep(levels: number, inner: unknown): unknown {
	let out = inner;
	for (let i = 0; i < levels; i++) out = [out];
	return out;
}

/** Every place in a JSON tree, as the container and key that hold it. */
function places(root: unknown): Array<{ parent: Record<string, unknown> | unknown[]; key: string | number }> {
	const out: Array<{ parent: Record<string, unknown> | unknown[]; key: string | number }> = [];
	const walk = (node: unknown) => {
		if (Array.isArray(node)) node.forEach((child, i) => (out.push({ parent: node, key: i }), walk(child)));
		else if (node && typeof node === 'object') {
			for (const [k, child] of Object.entries(node)) {
				out.push({ parent: node as Record<string, unknown>, key: k });
				walk(child);
			}
		}
	};
	walk(root);
	return out;
}

/** Mutates 1 to 4 random places of a copy of `doc`. */
function mutate<T>(rng: Rng, doc: T): T {
	const copy = structuredClone(doc);
	const all = places(copy);
	const n = 1 + Math.floor(rng() * 4);
	for (let i = 0; i < n && all.length > 0; i++) {
		const { parent, key } = pick(rng, all);
		(parent as Record<string | number, unknown>)[key] = mutateValue(rng, (parent as Record<string | number, unknown>)[key]);
	}
	return copy;
}

/** JSON text with, now and then, bytes that are not UTF-8 at all. */
function encode(rng: Rng, doc: unknown): Buffer {
	const bytes = Buffer.from(JSON.stringify(doc));
	if (rng() > 0.05) return bytes;
	const at = Math.floor(rng() * bytes.length);
	return Buffer.concat([bytes.subarray(0, at), Buffer.from([0xc3, 0x28, 0xff, 0xed, 0xa0, 0x80]), bytes.subarray(at)]);
}

const FIXTURES = new URL('../fixtures/playwright-json/', import.meta.url);
const reports = readdirSync(FIXTURES)
	.filter((f) => f.endsWith('.json'))
	.map((f) => ({ name: f, json: JSON.parse(readFileSync(new URL(f, FIXTURES), 'utf8')) as unknown }));

const baseResult = {
	file: 'checkout/cart.spec.ts',
	titlePath: ['cart', 'adds an item'],
	projectName: 'chromium',
	tags: ['cart'],
	outcome: 'unexpected',
	expectedStatus: 'passed',
	status: 'failed',
	attempts: 2,
	failedAttempts: 2,
	durationMs: 1234,
	startedAt: '2026-11-20T10:00:00.000Z',
	error: { message: 'Error: expected 1, got 2', stack: 'at cart.spec.ts:12:3', location: 'cart.spec.ts:12:3' },
	annotations: [{ type: 'issue', description: 'https://example.com/1' }]
};
const baseOpen = {
	idempotencyKey: 'fuzz-run-00000000',
	ci: { provider: 'gitlab', branch: 'main', pipelineUrl: 'https://gitlab.example.com/g/p/-/pipelines/77', commitSha: 'a1b2c3d4e5f6', commitTimestamp: '2026-11-20T09:00:00Z', pipelineId: '77', jobId: '7701', jobName: 'e2e 1/2', mrIid: 5, shardIndex: 1, shardTotal: 2 },
	playwrightVersion: '1.65.1',
	startedAt: '2026-11-20T10:00:00Z'
};
const baseComplete = { status: 'failed', durationMs: 4321, stats: { expected: 1, unexpected: 1, flaky: 0, skipped: 0 } };

describe(`ingestion fuzzing (seed ${SEED}, ${CASES} cases per kind)`, () => {
	let t: TestApp;
	let url: string;
	let token: string;
	const serverErrors: string[] = [];
	beforeAll(async () => {
		// The fixtures are real reports, some over a year old: RETENTION_DAYS keeps them acceptable.
		t = await buildTestApp('postgres', { ADMIN_TOKEN: ADMIN, RATE_LIMIT_RUNS: '100000', RATE_LIMIT_BATCHES: '100000', RETENTION_DAYS: '36500' }, (app) => {
			app.addHook('onResponse', async (request, reply) => {
				if (reply.statusCode >= 500) serverErrors.push(`${reply.statusCode} ${request.method} ${request.url}`);
			});
		});
		({ token } = await newProject(t, 'fuzz'));
		url = await t.app.listen({ host: '127.0.0.1', port: 0 });
	});
	afterAll(async () => t?.close());

	const post = async (path: string, body: Buffer | string, headers: Record<string, string> = {}) => {
		const res = await fetch(`${url}${path}`, {
			method: 'POST',
			headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
			body
		});
		return { status: res.status, json: (await res.json()) as Record<string, unknown> };
	};
	const stored = async (runId: string) =>
		(
			await t.db.pool.query<{ total: number; rows: number }>(
				`SELECT total, (SELECT count(*)::int FROM test_results WHERE run_id = $1) AS rows FROM runs WHERE id = $1`,
				[runId]
			)
		).rows[0];

	it('never answers 5xx to mutated JSON reports, and a 2xx stored every result the report holds', async () => {
		const rng = seeded(SEED);
		const statuses: Record<number, number> = {};
		for (let i = 0; i < CASES; i++) {
			const { name, json } = pick(rng, reports);
			const mutated = mutate(rng, json);
			const headers: Record<string, string> = { 'x-flackyness-idempotency-key': `fuzz-report-${SEED}-${i}` };
			if (rng() < 0.2) headers['x-flackyness-mr-iid'] = String(pick(rng, ODD_NUMBERS));
			if (rng() < 0.2) headers['x-flackyness-commit-timestamp'] = pick(rng, ODD_DATES);
			if (rng() < 0.1) headers['x-flackyness-branch'] = pick(rng, ['%ED%A0%80', '%00', 'a%F0%9F', '%C3%28', 'caf\u00e9', '\u00ff\u00fe']);
			const query = rng() < 0.1 ? `?idempotencyKey=${pick(rng, ['%00%00%00%00%00%00%00%00', '%ED%A0%80xxxxxxxx', `key-${i}-%F0%9F`])}${i}` : '';
			if (query) delete headers['x-flackyness-idempotency-key'];
			const res = await post(`/api/v1/reports${query}`, encode(rng, mutated), headers);
			statuses[res.status] = (statuses[res.status] ?? 0) + 1;
			const where = `case ${i} (${name}, seed ${SEED}): ${res.status} ${String(res.json.message ?? '')}`;
			expect(res.status, where).toBeLessThan(500);
			if (res.status === 201) {
				const expected = parsePlaywrightReport(JSON.parse(JSON.stringify(mutated)));
				const run = await stored(res.json.runId as string);
				expect(run, where).toEqual({ total: expected.results.length, rows: expected.results.length });
			} else expect(res.status, where).toBeGreaterThanOrEqual(400);
		}
		// The mutations must leave some reports valid, or the 2xx check would check nothing.
		expect(statuses[201] ?? 0).toBeGreaterThan(0);
		expect(serverErrors).toEqual([]);
	}, 120_000);

	it('never answers 5xx to mutated open, batch and complete requests, and a 2xx stored the batch', async () => {
		const rng = seeded(SEED + 1);
		let accepted = 0;
		for (let i = 0; i < CASES; i++) {
			const open = mutate(rng, { ...baseOpen, idempotencyKey: `fuzz-run-${SEED}-${i}` });
			const opened = await post('/api/v1/runs', encode(rng, open));
			expect(opened.status, `open ${i}: ${String(opened.json.message)}`).toBeLessThan(500);
			const runId = opened.status < 300 ? (opened.json.runId as string) : (await post('/api/v1/runs', JSON.stringify({ idempotencyKey: `fuzz-run-${SEED}-${i}-ok` }))).json.runId as string;

			const results = Array.from({ length: 1 + Math.floor(rng() * 4) }, (_, k) =>
				mutate(rng, { ...baseResult, titlePath: ['cart', `case ${i} test ${k}`] })
			);
			const batch = await post(`/api/v1/runs/${runId}/results`, encode(rng, { results }));
			const where = `batch ${i} (seed ${SEED + 1}): ${batch.status} ${String(batch.json.message ?? '')}`;
			expect(batch.status, where).toBeLessThan(500);
			if (batch.status === 200) {
				accepted++;
				const { accepted: n, duplicates } = batch.json as { accepted: number; duplicates: number };
				expect(n + duplicates, where).toBe(results.length);
				const run = await stored(runId);
				expect(run, where).toEqual({ total: n, rows: n });
			}
			const done = await post(`/api/v1/runs/${runId}/complete`, encode(rng, mutate(rng, baseComplete)));
			expect(done.status, `complete ${i}: ${String(done.json.message)}`).toBeLessThan(500);
		}
		expect(accepted).toBeGreaterThan(0);
		expect(serverErrors).toEqual([]);
	}, 120_000);
});
