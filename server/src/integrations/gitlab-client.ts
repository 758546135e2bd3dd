import { Agent, errors as undiciErrors, request } from 'undici';

/*
 * Why undici and not @gitbeaker/rest: we call five GitLab endpoints, and what we need around them is
 * control a general client hides — hard timeouts per call (a hung GitLab must not hold a job), never
 * following redirects (the PRIVATE-TOKEN header must not travel to another host), a size limit on the
 * answers, and the status and Retry-After of every failure, typed, for the retry queue and for
 * explaining a failed "test connection" in words. Gitbeaker wraps errors in its own shapes, retries
 * on its own terms and brings a large dependency tree; undici is Node's own HTTP client (the reporter
 * already uses it), so this small typed layer is the whole cost.
 */

/** What went wrong, in the terms the settings panel and the retry queue need. */
export type GitlabFailure =
	| 'bad_url' // not a GitLab API there (HTML, 404 without GitLab's JSON, a redirect)
	| 'unreachable' // DNS, refused, reset, TLS
	| 'timeout'
	| 'bad_token' // 401
	| 'missing_scope' // 403 insufficient_scope
	| 'no_access' // 403 otherwise
	| 'not_found' // GitLab's own 404
	| 'rate_limited' // 429
	| 'server_error'; // 5xx

export class GitlabError extends Error {
	constructor(
		readonly kind: GitlabFailure,
		message: string,
		readonly status?: number,
		/** From Retry-After on 429/503, when GitLab sent one. */
		readonly retryAfterMs?: number
	) {
		super(message);
		this.name = 'GitlabError';
	}

	/** Worth trying again later: the same call may succeed without anyone changing anything. */
	get retryable(): boolean {
		return this.kind === 'unreachable' || this.kind === 'timeout' || this.kind === 'rate_limited' || this.kind === 'server_error';
	}
}

export interface GitlabProject {
	id: number;
	name: string;
	path_with_namespace: string;
	web_url: string;
	permissions?: {
		project_access: { access_level: number } | null;
		group_access: { access_level: number } | null;
	};
}

export interface GitlabNote {
	id: number;
	body: string;
}

export interface GitlabIssue {
	id: number;
	iid: number;
	state: 'opened' | 'closed';
	web_url: string;
}

export interface GitlabTokenInfo {
	scopes: string[];
	active?: boolean;
	expires_at?: string | null;
}

export type CommitState = 'pending' | 'running' | 'success' | 'failed' | 'canceled';

export interface GitlabClientOptions {
	/** The GitLab instance, e.g. https://gitlab.example.com (a relative URL root such as /gitlab too). */
	baseUrl: string;
	token: string;
	/** Per call, from connecting to the last byte of the answer. */
	timeoutMs?: number;
	dispatcher?: Agent;
	/** Told of every call's outcome, for /metrics. */
	observe?: (operation: string, outcome: 'ok' | GitlabFailure) => void;
}

const MAX_ANSWER_BYTES = 1024 * 1024;

/** "group/app" or 42, as GitLab's `:id` path parameter takes it. */
export function projectRef(idOrPath: string | number): string {
	return typeof idOrPath === 'number' || /^\d+$/.test(idOrPath) ? String(idOrPath) : encodeURIComponent(idOrPath);
}

/** Seconds or an HTTP date → milliseconds; undefined when absent or unreadable. */
export function retryAfterMs(value: string | string[] | undefined): number | undefined {
	const v = Array.isArray(value) ? value[0] : value;
	if (!v) return undefined;
	if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
	const at = Date.parse(v);
	return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

export class GitlabClient {
	readonly #api: string;
	readonly #token: string;
	readonly #timeoutMs: number;
	readonly #dispatcher: Agent | undefined;
	readonly #observe: GitlabClientOptions['observe'];

	constructor(opts: GitlabClientOptions) {
		this.#api = `${opts.baseUrl.replace(/\/+$/, '')}/api/v4`;
		this.#token = opts.token;
		this.#timeoutMs = opts.timeoutMs ?? 10_000;
		this.#dispatcher = opts.dispatcher;
		this.#observe = opts.observe;
	}

	getProject(idOrPath: string | number): Promise<GitlabProject> {
		return this.#call<GitlabProject>('getProject', 'GET', `/projects/${projectRef(idOrPath)}`);
	}

	/** The token's own record (scopes); works for personal, project and group access tokens. */
	getTokenSelf(): Promise<GitlabTokenInfo> {
		return this.#call<GitlabTokenInfo>('getTokenSelf', 'GET', '/personal_access_tokens/self');
	}

	createMrNote(project: string | number, mrIid: number, body: string): Promise<GitlabNote> {
		return this.#call<GitlabNote>('createMrNote', 'POST', `/projects/${projectRef(project)}/merge_requests/${mrIid}/notes`, { body });
	}

	getMrNote(project: string | number, mrIid: number, noteId: number): Promise<GitlabNote> {
		return this.#call<GitlabNote>('getMrNote', 'GET', `/projects/${projectRef(project)}/merge_requests/${mrIid}/notes/${noteId}`);
	}

	updateMrNote(project: string | number, mrIid: number, noteId: number, body: string): Promise<GitlabNote> {
		return this.#call<GitlabNote>('updateMrNote', 'PUT', `/projects/${projectRef(project)}/merge_requests/${mrIid}/notes/${noteId}`, { body });
	}

	async deleteMrNote(project: string | number, mrIid: number, noteId: number): Promise<void> {
		await this.#call<unknown>('deleteMrNote', 'DELETE', `/projects/${projectRef(project)}/merge_requests/${mrIid}/notes/${noteId}`);
	}

	createIssue(project: string | number, issue: { title: string; description: string; labels?: string }): Promise<GitlabIssue> {
		return this.#call<GitlabIssue>('createIssue', 'POST', `/projects/${projectRef(project)}/issues`, issue);
	}

	updateIssue(
		project: string | number,
		iid: number,
		change: { title?: string; description?: string; labels?: string; state_event?: 'close' | 'reopen' }
	): Promise<GitlabIssue> {
		return this.#call<GitlabIssue>('updateIssue', 'PUT', `/projects/${projectRef(project)}/issues/${iid}`, change);
	}

	setCommitStatus(
		project: string | number,
		sha: string,
		status: { state: CommitState; name: string; description?: string; target_url?: string; ref?: string; pipeline_id?: number }
	): Promise<{ id: number; status: string }> {
		return this.#call('setCommitStatus', 'POST', `/projects/${projectRef(project)}/statuses/${encodeURIComponent(sha)}`, status);
	}

	async #call<T>(operation: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
		try {
			const answer = await this.#send<T>(method, path, body);
			this.#observe?.(operation, 'ok');
			return answer;
		} catch (err) {
			if (err instanceof GitlabError) {
				this.#observe?.(operation, err.kind);
				// GitLab's words are logged and shown: a server that echoes the token must not leak it there.
				if (err.message.includes(this.#token)) err.message = err.message.split(this.#token).join('[token]');
			}
			throw err;
		}
	}

	async #send<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
		const url = this.#api + path;
		const headers: Record<string, string> = { 'private-token': this.#token, accept: 'application/json' };
		if (body !== undefined) headers['content-type'] = 'application/json';
		let res: Awaited<ReturnType<typeof request>>;
		try {
			res = await request(url, {
				method,
				headers,
				body: body === undefined ? undefined : JSON.stringify(body),
				headersTimeout: this.#timeoutMs,
				bodyTimeout: this.#timeoutMs,
				signal: AbortSignal.timeout(this.#timeoutMs),
				dispatcher: this.#dispatcher
			});
		} catch (err) {
			throw this.#networkError(err);
		}
		const text = await readCapped(res.body).catch((err: unknown) => {
			throw this.#networkError(err);
		});
		if (res.statusCode >= 200 && res.statusCode < 300) return parseJson<T>(text, this.#api);
		throw answerError(res.statusCode, res.headers, text, this.#api);
	}

	#networkError(err: unknown): GitlabError {
		const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } };
		const timedOut =
			err instanceof undiciErrors.HeadersTimeoutError ||
			err instanceof undiciErrors.BodyTimeoutError ||
			e.name === 'TimeoutError' ||
			e.name === 'AbortError' ||
			e.code === 'UND_ERR_CONNECT_TIMEOUT';
		if (timedOut) return new GitlabError('timeout', `GitLab at ${this.#api} did not answer within ${Math.round(this.#timeoutMs / 1000)} s.`);
		const code = e.code ?? e.cause?.code;
		const why = code === 'ENOTFOUND' ? 'the host name does not resolve' : code === 'ECONNREFUSED' ? 'the connection was refused' : (e.cause?.message ?? e.message ?? 'network error');
		return new GitlabError('unreachable', `Cannot reach GitLab at ${this.#api}: ${why}${code ? ` (${code})` : ''}. Check the URL and that this server can reach it.`);
	}
}

async function readCapped(body: AsyncIterable<Buffer>): Promise<string> {
	const chunks: Buffer[] = [];
	let size = 0;
	for await (const chunk of body) {
		size += chunk.length;
		if (size > MAX_ANSWER_BYTES) throw new Error(`answer larger than ${MAX_ANSWER_BYTES} bytes`);
		chunks.push(chunk);
	}
	return Buffer.concat(chunks).toString('utf8');
}

function parseJson<T>(text: string, api: string): T {
	try {
		return (text ? JSON.parse(text) : null) as T;
	} catch {
		throw new GitlabError('bad_url', `${api} answered something that is not GitLab's JSON API: check the URL (the address of GitLab itself, without /api/v4).`);
	}
}

/** GitLab's error body: {"message": "..."} or {"error": "...", "error_description": "..."}. */
function gitlabMessage(text: string): { message?: string; error?: string } | null {
	try {
		const v = JSON.parse(text) as unknown;
		if (!v || typeof v !== 'object') return null;
		const o = v as { message?: unknown; error?: unknown };
		return {
			...(o.message !== undefined ? { message: typeof o.message === 'string' ? o.message : JSON.stringify(o.message) } : {}),
			...(typeof o.error === 'string' ? { error: o.error } : {})
		};
	} catch {
		return null;
	}
}

function answerError(status: number, headers: Record<string, string | string[] | undefined>, text: string, api: string): GitlabError {
	const said = gitlabMessage(text);
	const detail = (said?.message ?? said?.error ?? '').slice(0, 200);
	const suffix = detail ? `: "${detail}"` : '';
	if (status >= 300 && status < 400) {
		const to = headers.location ? ` to ${String(headers.location)}` : '';
		return new GitlabError('bad_url', `GitLab answered a redirect (${status})${to}: use the final address (https, no trailing path) as the URL.`, status);
	}
	if (status === 401) return new GitlabError('bad_token', `GitLab refused the token (401${suffix}): it is wrong, expired or revoked.`, status);
	if (status === 403 && said?.error === 'insufficient_scope') {
		return new GitlabError('missing_scope', `The token lacks the scope this needs (403 insufficient_scope): create it with the "api" scope.`, status);
	}
	if (status === 403) return new GitlabError('no_access', `The token has no access to this (403${suffix}): give its user or bot at least the Developer role on the project.`, status);
	if (status === 404 && said) return new GitlabError('not_found', `GitLab found no such project (404${suffix}), or the token cannot see it.`, status);
	if (status === 404) return new GitlabError('bad_url', `${api} is not a GitLab API (404 without GitLab's answer): check the URL.`, status);
	if (status === 429) {
		const wait = retryAfterMs(headers['retry-after']);
		return new GitlabError('rate_limited', `GitLab is rate limiting this token (429)${wait !== undefined ? `; retry in ${Math.ceil(wait / 1000)} s` : ''}.`, status, wait);
	}
	if (status >= 500) return new GitlabError('server_error', `GitLab failed (${status}${suffix}); try again later.`, status, retryAfterMs(headers['retry-after']));
	return new GitlabError('bad_url', `GitLab answered ${status}${suffix}.`, status);
}
