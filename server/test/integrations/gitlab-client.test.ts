import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitlabClient, GitlabError, projectRef, retryAfterMs } from '../../src/integrations/gitlab-client.js';
import { ACCESS, FakeGitlab } from '../helpers/fake-gitlab.js';

const TOKEN = 'glpat-client-test-token-0123456789';
const READ_ONLY = 'glpat-read-only-token-0123456789';

async function failure(p: Promise<unknown>): Promise<GitlabError> {
	const err = await p.then(
		() => null,
		(e: unknown) => e
	);
	expect(err).toBeInstanceOf(GitlabError);
	return err as GitlabError;
}

describe('GitlabClient against the fake GitLab', () => {
	let gl: FakeGitlab;
	let client: GitlabClient;
	beforeAll(async () => {
		gl = await new FakeGitlab().start();
		gl.addProject({ id: 7, path: 'group/sub/app', name: 'App', mergeRequests: [3] });
		gl.addToken(TOKEN, { scopes: ['api'], access: { 7: ACCESS.developer } });
		gl.addToken(READ_ONLY, { scopes: ['read_api'], access: { 7: ACCESS.developer } });
		client = new GitlabClient({ baseUrl: gl.url, token: TOKEN, timeoutMs: 500 });
	});
	afterAll(async () => {
		await gl.close();
	});

	it('reads a project by URL-encoded path or numeric id, sending PRIVATE-TOKEN', async () => {
		const byPath = await client.getProject('group/sub/app');
		expect(byPath).toMatchObject({ id: 7, name: 'App', path_with_namespace: 'group/sub/app', permissions: { project_access: { access_level: 30 } } });
		expect(gl.requests.at(-1)).toMatchObject({ method: 'GET', path: '/api/v4/projects/group%2Fsub%2Fapp', token: TOKEN });
		expect((await client.getProject(7)).path_with_namespace).toBe('group/sub/app');
		expect(projectRef('42')).toBe('42');
	});

	it('creates, reads, updates and deletes a merge request note, and sets a commit status', async () => {
		const note = await client.createMrNote('group/sub/app', 3, 'first');
		expect((await client.getMrNote(7, 3, note.id)).body).toBe('first');
		expect((await client.updateMrNote(7, 3, note.id, 'second')).body).toBe('second');
		expect(gl.requests.at(-1)).toMatchObject({ method: 'PUT', body: { body: 'second' } });
		await client.deleteMrNote(7, 3, note.id);
		expect((await failure(client.getMrNote(7, 3, note.id))).kind).toBe('not_found');
		const status = await client.setCommitStatus(7, 'abc1234def', { state: 'failed', name: 'flackyness', description: '1 new failure', target_url: 'http://x/run' });
		expect(status.status).toBe('failed');
		expect(gl.statuses.at(-1)).toMatchObject({ sha: 'abc1234def', state: 'failed', name: 'flackyness', targetUrl: 'http://x/run' });
	});

	it('names every failure: bad token, scope, access, not found, rate limit with Retry-After, server error, hang, unreachable, not GitLab', async () => {
		expect((await failure(new GitlabClient({ baseUrl: gl.url, token: 'glpat-wrong-000000000000' }).getProject(7))).kind).toBe('bad_token');
		expect((await failure(new GitlabClient({ baseUrl: gl.url, token: READ_ONLY }).createMrNote(7, 3, 'x'))).kind).toBe('missing_scope');
		expect((await failure(client.getProject('other/app'))).kind).toBe('not_found');
		gl.fault({ status: 403 });
		expect((await failure(client.getProject(7))).kind).toBe('no_access');
		gl.fault({ status: 429, retryAfter: '7' });
		const limited = await failure(client.getProject(7));
		expect(limited).toMatchObject({ kind: 'rate_limited', status: 429, retryAfterMs: 7000, retryable: true });
		gl.fault({ status: 500 });
		expect(await failure(client.getProject(7))).toMatchObject({ kind: 'server_error', retryable: true });
		gl.fault({ hang: true });
		const started = Date.now();
		expect(await failure(client.getProject(7))).toMatchObject({ kind: 'timeout', retryable: true });
		expect(Date.now() - started).toBeLessThan(3000);
		expect((await failure(new GitlabClient({ baseUrl: 'http://127.0.0.1:1', token: TOKEN }).getProject(7))).kind).toBe('unreachable');
		expect((await failure(new GitlabClient({ baseUrl: `${gl.url}/not-gitlab`, token: TOKEN }).getProject(7))).kind).toBe('bad_url');
	});

	it('reads Retry-After as seconds or as a date', () => {
		expect(retryAfterMs('3')).toBe(3000);
		expect(retryAfterMs(new Date(Date.now() + 60_000).toUTCString())).toBeGreaterThan(55_000);
		expect(retryAfterMs('soon')).toBeUndefined();
		expect(retryAfterMs(undefined)).toBeUndefined();
	});
});
