import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * A local stand-in for GitLab's REST API (v4), on loopback, implementing exactly the endpoints
 * Flackyness calls, as GitLab's documentation defines them:
 *   GET    /api/v4/projects/:id                                 (numeric id or URL-encoded path)
 *   GET    /api/v4/personal_access_tokens/self
 *   POST   /api/v4/projects/:id/merge_requests/:iid/notes       {body}
 *   GET    /api/v4/projects/:id/merge_requests/:iid/notes/:note_id
 *   PUT    /api/v4/projects/:id/merge_requests/:iid/notes/:note_id {body}
 *   DELETE /api/v4/projects/:id/merge_requests/:iid/notes/:note_id
 *   POST   /api/v4/projects/:id/statuses/:sha                   {state, name, target_url, description, ...}
 *   POST   /api/v4/projects/:id/issues                          {title, description, labels}
 *   PUT    /api/v4/projects/:id/issues/:issue_iid               {title, description, labels, state_event}
 * Authentication is the PRIVATE-TOKEN header; access follows GitLab's roles (notes need Reporter,
 * statuses Developer) and token scopes (reads need read_api or api, writes api). Faults (any status,
 * Retry-After, a hang) are queued on demand; every request is recorded.
 */

export const ACCESS = { guest: 10, reporter: 20, developer: 30, maintainer: 40, owner: 50 } as const;

export interface FakeToken {
	scopes: string[];
	/** Role per project id. */
	access: Record<number, number>;
}

export interface FakeProject {
	id: number;
	path: string;
	name: string;
	mergeRequests: number[];
}

export interface FakeNote {
	id: number;
	body: string;
	projectId: number;
	mrIid: number;
}

export interface FakeStatus {
	id: number;
	projectId: number;
	sha: string;
	state: string;
	name: string;
	description: string | null;
	targetUrl: string | null;
}

export interface FakeIssue {
	iid: number;
	projectId: number;
	title: string;
	description: string;
	labels: string[];
	state: 'opened' | 'closed';
}

export interface RecordedRequest {
	method: string;
	/** As sent, still URL-encoded. */
	path: string;
	token: string | undefined;
	body: unknown;
}

export interface Fault {
	status?: number;
	retryAfter?: string;
	/** Never answer: the connection stays open until the server closes. */
	hang?: boolean;
	/** Only requests whose path matches; default: every request. */
	path?: RegExp;
	/** How many requests it hits (default 1). */
	times?: number;
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable' };
const COMMIT_STATES = new Set(['pending', 'running', 'success', 'failed', 'canceled', 'skipped']);

export class FakeGitlab {
	readonly requests: RecordedRequest[] = [];
	readonly tokens = new Map<string, FakeToken>();
	readonly projects: FakeProject[] = [];
	readonly notes: FakeNote[] = [];
	readonly statuses: FakeStatus[] = [];
	readonly issues: FakeIssue[] = [];
	#faults: Fault[] = [];
	#nextId = 1000;
	#server: Server;
	#sockets = new Set<Socket>();
	url = '';

	constructor() {
		this.#server = createServer((req, res) => void this.#handle(req, res));
		this.#server.on('connection', (s) => {
			this.#sockets.add(s);
			s.on('close', () => this.#sockets.delete(s));
		});
	}

	async start(): Promise<this> {
		await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
		const { port } = this.#server.address() as { port: number };
		this.url = `http://127.0.0.1:${port}`;
		return this;
	}

	async close(): Promise<void> {
		for (const s of this.#sockets) s.destroy();
		await new Promise<void>((resolve) => this.#server.close(() => resolve()));
	}

	addProject(p: { id: number; path: string; name?: string; mergeRequests?: number[] }): FakeProject {
		const project = { id: p.id, path: p.path, name: p.name ?? p.path.split('/').pop()!, mergeRequests: p.mergeRequests ?? [] };
		this.projects.push(project);
		return project;
	}

	addToken(token: string, t: FakeToken): void {
		this.tokens.set(token, t);
	}

	/** The next matching request(s) get this fault instead of an answer. */
	fault(f: Fault): void {
		this.#faults.push({ times: 1, ...f });
	}

	#takeFault(path: string): Fault | undefined {
		const f = this.#faults.find((x) => !x.path || x.path.test(path));
		if (!f) return undefined;
		f.times = (f.times ?? 1) - 1;
		if (f.times <= 0) this.#faults.splice(this.#faults.indexOf(f), 1);
		return f;
	}

	async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
		const raw = await readBody(req);
		const path = (req.url ?? '/').split('?')[0]!;
		const header = req.headers['private-token'];
		const token = Array.isArray(header) ? header[0] : header;
		const body = parseBody(raw, req.headers['content-type']);
		this.requests.push({ method: req.method ?? 'GET', path, token, body });
		const fault = this.#takeFault(path);
		if (fault?.hang) return; // left open on purpose
		if (fault?.status) {
			const headers: Record<string, string> = fault.retryAfter ? { 'retry-after': fault.retryAfter } : {};
			return send(res, fault.status, { message: `${fault.status} ${STATUS_TEXT[fault.status] ?? 'Error'}` }, headers);
		}
		if (!path.startsWith('/api/v4/')) return send(res, 404, '<html><body>Not found</body></html>', { 'content-type': 'text/html' });
		const who = token ? this.tokens.get(token) : undefined;
		if (!who) return send(res, 401, { message: '401 Unauthorized' });
		this.#route(req.method ?? 'GET', path.slice('/api/v4'.length).split('/').slice(1), who, body, res, token!);
	}

	#route(method: string, parts: string[], who: FakeToken, body: unknown, res: ServerResponse, token: string): void {
		const write = method !== 'GET';
		if (!who.scopes.includes('api') && !(who.scopes.includes('read_api') && !write)) {
			return send(res, 403, {
				error: 'insufficient_scope',
				error_description: 'The request requires higher privileges than provided by the access token.',
				scope: write ? 'api' : 'api read_api'
			});
		}
		if (method === 'GET' && parts.length === 2 && parts[0] === 'personal_access_tokens' && parts[1] === 'self') {
			return send(res, 200, { id: 1, name: 'flackyness', revoked: false, active: true, scopes: who.scopes, user_id: 2, expires_at: null, token_hint: token.slice(-2) });
		}
		if (parts[0] !== 'projects' || !parts[1]) return send(res, 404, { error: '404 Not Found' });
		const ref = decodeURIComponent(parts[1]);
		const project = this.projects.find((p) => (/^\d+$/.test(ref) ? p.id === Number(ref) : p.path.toLowerCase() === ref.toLowerCase()));
		const level = project ? (who.access[project.id] ?? 0) : 0;
		if (!project || level === 0) return send(res, 404, { message: '404 Project Not Found' });
		const rest = parts.slice(2);
		if (rest.length === 0 && method === 'GET') return send(res, 200, projectJson(project, level, this.url));
		if (rest[0] === 'statuses' && rest.length === 2 && method === 'POST') return this.#status(project, level, decodeURIComponent(rest[1]!), body, res);
		if (rest[0] === 'merge_requests' && rest[2] === 'notes') return this.#notes(method, project, level, Number(rest[1]), rest[3], body, res);
		if (rest[0] === 'issues' && rest.length <= 2) return this.#issue(method, project, level, rest[1], body, res);
		return send(res, 404, { error: '404 Not Found' });
	}

	#status(project: FakeProject, level: number, sha: string, body: unknown, res: ServerResponse): void {
		if (level < ACCESS.developer) return send(res, 403, { message: '403 Forbidden' });
		const b = (body ?? {}) as Record<string, unknown>;
		if (typeof b.state !== 'string' || !COMMIT_STATES.has(b.state)) return send(res, 400, { error: 'state does not have a valid value' });
		if (!/^[0-9a-f]{7,64}$/i.test(sha)) return send(res, 404, { message: '404 Commit Not Found' });
		const status: FakeStatus = {
			id: this.#nextId++,
			projectId: project.id,
			sha,
			state: b.state,
			name: typeof b.name === 'string' ? b.name : typeof b.context === 'string' ? b.context : 'default',
			description: typeof b.description === 'string' ? b.description : null,
			targetUrl: typeof b.target_url === 'string' ? b.target_url : null
		};
		this.statuses.push(status);
		send(res, 201, { id: status.id, sha, ref: null, status: status.state, name: status.name, target_url: status.targetUrl, description: status.description, created_at: new Date().toISOString() });
	}

	/** Issues need the Planner role (15) or more to be created and edited, as GitLab's permissions say. */
	#issue(method: string, project: FakeProject, level: number, iid: string | undefined, body: unknown, res: ServerResponse): void {
		if (level < 15) return send(res, 403, { message: '403 Forbidden' });
		const b = (body ?? {}) as Record<string, unknown>;
		const labels = (v: unknown) => (typeof v === 'string' ? v.split(',').filter(Boolean) : []);
		const json = (i: FakeIssue) => ({ id: i.iid + 100_000, iid: i.iid, project_id: i.projectId, title: i.title, description: i.description, labels: i.labels, state: i.state, web_url: `${this.url}/${project.path}/-/issues/${i.iid}` });
		if (iid === undefined) {
			if (method !== 'POST') return send(res, 405, { message: '405 Method Not Allowed' });
			if (typeof b.title !== 'string' || b.title === '') return send(res, 400, { error: 'title is missing' });
			const issue: FakeIssue = { iid: this.issues.filter((i) => i.projectId === project.id).length + 1, projectId: project.id, title: b.title, description: typeof b.description === 'string' ? b.description : '', labels: labels(b.labels), state: 'opened' };
			this.issues.push(issue);
			return send(res, 201, json(issue));
		}
		const issue = this.issues.find((i) => i.projectId === project.id && i.iid === Number(iid));
		if (!issue) return send(res, 404, { message: '404 Not found' });
		if (method === 'GET') return send(res, 200, json(issue));
		if (method !== 'PUT') return send(res, 405, { message: '405 Method Not Allowed' });
		if (typeof b.title === 'string') issue.title = b.title;
		if (typeof b.description === 'string') issue.description = b.description;
		if (b.labels !== undefined) issue.labels = labels(b.labels);
		if (b.state_event === 'close') issue.state = 'closed';
		if (b.state_event === 'reopen') issue.state = 'opened';
		send(res, 200, json(issue));
	}

	#notes(method: string, project: FakeProject, level: number, iid: number, noteId: string | undefined, body: unknown, res: ServerResponse): void {
		if (!project.mergeRequests.includes(iid)) return send(res, 404, { message: '404 Not found' });
		if (level < ACCESS.reporter && method !== 'GET') return send(res, 403, { message: '403 Forbidden' });
		const text = (body as { body?: unknown } | null)?.body;
		if (noteId === undefined) {
			if (method !== 'POST') return send(res, 405, { message: '405 Method Not Allowed' });
			if (typeof text !== 'string' || text === '') return send(res, 400, { error: 'body is missing' });
			const note: FakeNote = { id: this.#nextId++, body: text, projectId: project.id, mrIid: iid };
			this.notes.push(note);
			return send(res, 201, noteJson(note));
		}
		const note = this.notes.find((n) => n.id === Number(noteId) && n.projectId === project.id && n.mrIid === iid);
		if (!note) return send(res, 404, { message: '404 Not found' });
		if (method === 'GET') return send(res, 200, noteJson(note));
		if (method === 'DELETE') {
			this.notes.splice(this.notes.indexOf(note), 1);
			return send(res, 204, null);
		}
		if (method !== 'PUT') return send(res, 405, { message: '405 Method Not Allowed' });
		if (typeof text !== 'string' || text === '') return send(res, 400, { error: 'body is missing' });
		note.body = text;
		send(res, 200, noteJson(note));
	}
}

function projectJson(p: FakeProject, level: number, url: string) {
	return {
		id: p.id,
		name: p.name,
		path: p.path.split('/').pop(),
		path_with_namespace: p.path,
		web_url: `${url}/${p.path}`,
		default_branch: 'main',
		permissions: { project_access: { access_level: level, notification_level: 3 }, group_access: null }
	};
}

function noteJson(n: FakeNote) {
	return { id: n.id, type: null, body: n.body, author: { id: 2, username: 'project_bot' }, system: false, noteable_type: 'MergeRequest', noteable_iid: n.mrIid, created_at: new Date().toISOString() };
}

async function readBody(req: IncomingMessage): Promise<string> {
	const chunks: Buffer[] = [];
	for await (const c of req) chunks.push(c as Buffer);
	return Buffer.concat(chunks).toString('utf8');
}

/** GitLab takes JSON or form-encoded parameters. */
function parseBody(raw: string, type: string | undefined): unknown {
	if (!raw) return null;
	if (type?.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(raw));
	try {
		return JSON.parse(raw) as unknown;
	} catch {
		return raw;
	}
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
	const text = body === null ? '' : typeof body === 'string' ? body : JSON.stringify(body);
	res.writeHead(status, { 'content-type': 'application/json', ...headers });
	res.end(text);
}
