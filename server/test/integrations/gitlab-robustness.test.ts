import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectPathFromLink } from '../../src/integrations/gitlab.js';
import { generateSecretsKey } from '../../src/lib/secrets.js';
import { deleteGitlabIntegration, findGitlabIntegration, recordGitlabCheck, saveGitlabIntegration } from '../../src/repositories/gitlab.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createPostgresDatabase, type TestDatabase } from '../helpers/db.js';
import { ACCESS, FakeGitlab } from '../helpers/fake-gitlab.js';
import { makeReport } from '../helpers/report-factory.js';
import { startServer } from '../helpers/server-process.js';

const ADMIN = 'gitlab-robust-admin-token-0123456789abcdef';
const GOOD = 'glpat-RobustGoodToken-api-scope-0123456789';
const OTHER = 'glpat-RobustOtherToken-api-scope-012345678';
const JWT_SECRET = 'a-jwt-secret-of-at-least-32-characters-0123456789';
const h = { authorization: `Bearer ${ADMIN}` };

async function newProject(app: TestApp, slug: string): Promise<string> {
	const r = await app.app.inject({ method: 'POST', url: '/api/v1/admin/projects', headers: h, payload: { slug } });
	expect(r.statusCode).toBe(201);
	return r.json().token as string;
}

async function projectId(app: TestApp, slug: string): Promise<string> {
	const p = await app.db.prisma.project.findUniqueOrThrow({ where: { slug } });
	return p.id;
}

describe('GitLab connection against odd stored text and racing requests (PostgreSQL)', () => {
	let gl: FakeGitlab;
	let app: TestApp;

	beforeAll(async () => {
		gl = await new FakeGitlab().start();
		gl.addProject({ id: 7, path: 'group/app', name: 'The App' });
		gl.addProject({ id: 9, path: 'group/nul', name: 'Nul\u0000App' });
		gl.addToken(GOOD, { scopes: ['api'], access: { 7: ACCESS.developer, 9: ACCESS.developer } });
		gl.addToken(OTHER, { scopes: ['api'], access: { 7: ACCESS.developer } });
		app = await buildTestApp('postgres', { ADMIN_TOKEN: ADMIN, SECRETS_KEY: generateSecretsKey(), ANALYSIS_WORKER: 'false', RATE_LIMIT_ADMIN: '10000' });
	}, 60_000);
	afterAll(async () => {
		await app?.close();
		await gl?.close();
	});

	it('reads no project from a link with bad percent-encoding', () => {
		expect(projectPathFromLink('https://gitlab.example.com/group/%zz/-/pipelines/1', 'https://gitlab.example.com')).toBeNull();
		expect(projectPathFromLink('https://gitlab.example.com/group/%E0%A4%A/-/jobs/2', 'https://gitlab.example.com')).toBeNull();
		expect(projectPathFromLink('https://gitlab.example.com/group/my%20app/-/jobs/2', 'https://gitlab.example.com')).toBe('group/my app');
	});

	it('answers GET, PUT and test when the latest run has a pipeline URL with bad percent-encoding', async () => {
		const ingest = await newProject(app, 'badlink');
		const report = await app.app.inject({
			method: 'POST',
			url: '/api/v1/reports',
			headers: { authorization: `Bearer ${ingest}`, 'x-flackyness-pipeline-url': `${gl.url}/group/%zz/-/pipelines/1` },
			payload: makeReport({ tests: 1 })
		});
		expect(report.statusCode).toBe(201);
		const url = '/api/v1/projects/badlink/integrations/gitlab';
		const put = await app.app.inject({ method: 'PUT', url, headers: h, payload: { url: gl.url, token: GOOD } });
		expect(put.statusCode).toBe(200);
		expect(put.json()).toMatchObject({ gitlabProject: null, effectiveProject: null });
		const again = await app.app.inject({ method: 'PUT', url, headers: h, payload: { url: gl.url, mrNotes: false } });
		expect(again.statusCode).toBe(200);
		const get = await app.app.inject({ method: 'GET', url, headers: h });
		expect(get.statusCode).toBe(200);
		expect(get.json()).toMatchObject({ effectiveProject: null, mrNotes: false });
		const test = await app.app.inject({ method: 'POST', url: `${url}/test`, headers: h });
		expect(test.statusCode).toBe(200);
		expect(test.json()).toMatchObject({ ok: false, status: 'no_project' });
	});

	it('stores the parsed GitLab address: tabs and newlines dropped, NUL percent-encoded', async () => {
		await newProject(app, 'ctrl');
		const url = '/api/v1/projects/ctrl/integrations/gitlab';
		const tabbed = await app.app.inject({ method: 'PUT', url, headers: h, payload: { url: `${gl.url}/git\tla\nb/`, token: GOOD } });
		expect(tabbed.statusCode).toBe(200);
		expect(tabbed.json().url).toBe(`${gl.url}/gitlab`);
		const nul = await app.app.inject({ method: 'PUT', url, headers: h, payload: { url: `${gl.url}/git\u0000lab`, token: GOOD } });
		expect(nul.statusCode).toBe(200);
		expect(nul.json().url).toBe(`${gl.url}/git%00lab`);
		const row = await findGitlabIntegration(app.db.prisma, await projectId(app, 'ctrl'));
		expect(row?.url).toBe(`${gl.url}/git%00lab`);
		// Without a token the same address, typed with a tab, still counts as the same one.
		const flags = await app.app.inject({ method: 'PUT', url, headers: h, payload: { url: `${gl.url}/git\u0000la\tb`, commitStatus: false } });
		expect(flags.statusCode).toBe(200);
		expect(flags.json()).toMatchObject({ url: `${gl.url}/git%00lab`, commitStatus: false });
	});

	it("keeps GitLab's words even when they hold a NUL", async () => {
		await newProject(app, 'nulname');
		const url = '/api/v1/projects/nulname/integrations/gitlab';
		expect((await app.app.inject({ method: 'PUT', url, headers: h, payload: { url: gl.url, token: GOOD, gitlabProject: 'group/nul' } })).statusCode).toBe(200);
		const test = await app.app.inject({ method: 'POST', url: `${url}/test`, headers: h });
		expect(test.statusCode).toBe(200);
		expect(test.json()).toMatchObject({ ok: true, status: 'ok' });
		const last = (await app.app.inject({ method: 'GET', url, headers: h })).json().lastCheck;
		expect(last).toMatchObject({ ok: true, status: 'ok' });
		expect(last.message).toContain('Nul\uFFFDApp');
		expect(last.message).not.toContain('\u0000');
	});

	it('saves nothing over a connection removed or moved since it was read', async () => {
		await newProject(app, 'gone');
		const id = await projectId(app, 'gone');
		const fields = { url: gl.url, gitlabProject: null, mrNotes: true, commitStatus: true };
		const first = await saveGitlabIntegration(app.db.prisma, id, { ...fields, tokenSealed: 'fks1.sealed-for-gl' }, true);
		expect(first).not.toBeNull();
		// Another request moved it to another GitLab with another token: a save without a token that
		// read the old address must not pair the new token with it.
		const moved = await saveGitlabIntegration(app.db.prisma, id, { ...fields, url: 'https://elsewhere.example.com', tokenSealed: 'fks1.sealed-for-elsewhere' }, true);
		expect(moved?.url).toBe('https://elsewhere.example.com');
		expect(await saveGitlabIntegration(app.db.prisma, id, { ...fields, mrNotes: false }, false, gl.url)).toBeNull();
		expect(await findGitlabIntegration(app.db.prisma, id)).toMatchObject({ url: 'https://elsewhere.example.com', tokenSealed: 'fks1.sealed-for-elsewhere', mrNotes: true });
		// A check of the old connection is not kept on the new one.
		expect(await recordGitlabCheck(app.db.prisma, first!, { status: 'ok', message: 'fine' })).toBeNull();
		expect((await findGitlabIntegration(app.db.prisma, id))?.checkStatus).toBeNull();
		expect(await deleteGitlabIntegration(app.db.prisma, id)).toBe(true);
		expect(await saveGitlabIntegration(app.db.prisma, id, fields, false, gl.url)).toBeNull();
		expect(await recordGitlabCheck(app.db.prisma, moved!, { status: 'ok', message: 'fine' })).toBeNull();
		expect(await findGitlabIntegration(app.db.prisma, id)).toBeNull();
	});

	it('never answers 500 when PUT, DELETE and test race each other', async () => {
		await newProject(app, 'race');
		const url = '/api/v1/projects/race/integrations/gitlab';
		const seen = new Set<number>();
		for (let i = 0; i < 15; i++) {
			const connected = await app.app.inject({ method: 'PUT', url, headers: h, payload: { url: gl.url, token: GOOD, gitlabProject: 'group/app' } });
			expect(connected.statusCode).toBe(200);
			const answers = await Promise.all([
				app.app.inject({ method: 'PUT', url, headers: h, payload: { url: gl.url, mrNotes: i % 2 === 0 } }),
				app.app.inject({ method: 'DELETE', url, headers: h }),
				app.app.inject({ method: 'POST', url: `${url}/test`, headers: h }),
				app.app.inject({ method: 'PUT', url, headers: h, payload: { url: `${gl.url}/`, token: OTHER } }),
				app.app.inject({ method: 'GET', url, headers: h })
			]);
			for (const a of answers) {
				seen.add(a.statusCode);
				expect([200, 204, 400, 404, 409], a.body).toContain(a.statusCode);
			}
			// Whatever won, a stored connection holds a token sealed for its own address.
			const row = await findGitlabIntegration(app.db.prisma, await projectId(app, 'race'));
			if (row) expect(row.url).toBe(gl.url);
		}
		expect(seen.has(200)).toBe(true);
	}, 60_000);
});

describe('the GitLab secrets key is made only when a token is stored', () => {
	let t: TestDatabase;
	let dir: string;
	beforeAll(async () => {
		t = await createPostgresDatabase();
		dir = await mkdtemp(path.join(tmpdir(), 'flackyness-secrets-'));
	}, 60_000);
	afterAll(async () => {
		await t?.destroy();
		await rm(dir, { recursive: true, force: true });
	});

	it('starts the built server with JWT_SECRET and a DATA_DIR it cannot write, and says why a token cannot be stored', async () => {
		const blocker = path.join(dir, 'not-a-directory');
		await writeFile(blocker, 'a file where DATA_DIR would need a directory\n');
		const dataDir = path.join(blocker, 'data');
		const s = await startServer({ DATABASE_URL: t.url, ADMIN_TOKEN: ADMIN, JWT_SECRET, DATA_DIR: dataDir, DEMO: 'false', ANALYSIS_WORKER: 'false' });
		try {
			const call = (method: string, url: string, body?: unknown) =>
				fetch(`${s.url}${url}`, { method, headers: { ...h, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
			expect((await call('POST', '/api/v1/admin/projects', { slug: 'ro' })).status).toBe(201);
			expect((await call('GET', '/api/v1/projects/ro/integrations/gitlab')).status).toBe(404);
			expect((await call('DELETE', '/api/v1/projects/ro/integrations/gitlab')).status).toBe(404);
			const put = await call('PUT', '/api/v1/projects/ro/integrations/gitlab', { url: 'https://gitlab.example.com', token: GOOD });
			expect(put.status).toBe(503);
			expect(((await put.json()) as { message: string }).message).toMatch(/SECRETS_KEY is not set .*secrets-key cannot be written/);
		} finally {
			await s.stop();
		}
		expect(s.output().stdout + s.output().stderr).not.toContain(GOOD.slice(6));
	}, 60_000);

	it('writes DATA_DIR/secrets-key on the first saved token, not at start', async () => {
		const dataDir = path.join(dir, 'data');
		const key = path.join(dataDir, 'secrets-key');
		const app = await buildTestApp('postgres', { ADMIN_TOKEN: ADMIN, JWT_SECRET, DATA_DIR: dataDir, ANALYSIS_WORKER: 'false' });
		try {
			await newProject(app, 'lazy');
			const url = '/api/v1/projects/lazy/integrations/gitlab';
			expect((await app.app.inject({ method: 'GET', url, headers: h })).statusCode).toBe(404);
			expect((await app.app.inject({ method: 'PUT', url, headers: h, payload: { url: 'https://gitlab.example.com' } })).statusCode).toBe(400);
			expect(existsSync(key)).toBe(false);
			expect((await app.app.inject({ method: 'PUT', url, headers: h, payload: { url: 'https://gitlab.example.com', token: GOOD } })).statusCode).toBe(200);
			expect(existsSync(key)).toBe(true);
		} finally {
			await app.close();
		}
	});
});
