import { error, redirect, type Cookies } from '@sveltejs/kit';
import { apiBase } from './config';
import { endSession, loginUrl } from './session';

interface ApiEvent {
	cookies: Cookies;
	url: URL;
	locals: App.Locals;
}

export interface ApiAnswer<T> {
	status: number;
	ok: boolean;
	data: T;
	/** The API's message for a refused request. */
	message: string;
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Calls the API as the signed-in user. A 401 means the session ended (expired, password reset,
 * user deleted): the cookie goes and the person is sent to sign in again.
 */
export async function call<T = unknown>(
	event: ApiEvent,
	method: Method,
	path: string,
	body?: unknown,
	extraHeaders: Record<string, string> = {}
): Promise<ApiAnswer<T>> {
	const headers: Record<string, string> = { accept: 'application/json', ...extraHeaders };
	if (event.locals.session) headers.authorization = `Bearer ${event.locals.session.token}`;
	if (body !== undefined) headers['content-type'] = 'application/json';
	let res: Response;
	try {
		res = await fetch(`${apiBase()}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
	} catch (err) {
		console.error(`flackyness dashboard: the API at ${apiBase()} cannot be reached: ${(err as Error).message}`);
		error(503, 'The Flackyness API cannot be reached right now. Try again in a moment.');
	}
	const text = await res.text();
	let data: unknown = null;
	try {
		data = text ? JSON.parse(text) : null;
	} catch {
		data = null;
	}
	if (res.status === 401 && event.locals.session) {
		endSession(event);
		redirect(303, loginUrl(event.url));
	}
	const message = (data as { message?: unknown } | null)?.message;
	return {
		status: res.status,
		ok: res.ok,
		data: data as T,
		message: typeof message === 'string' ? message : `The API answered ${res.status}.`
	};
}

/** For loads: the answer, or SvelteKit's error page with the API's message. */
export async function get<T>(event: ApiEvent, path: string): Promise<T> {
	const r = await call<T>(event, 'GET', path);
	if (r.ok) return r.data;
	if (r.status === 404 || r.status === 403 || r.status === 429 || r.status === 400) error(r.status, r.message);
	console.error(`flackyness dashboard: GET ${path} answered ${r.status}: ${r.message}`);
	error(502, 'The Flackyness API could not answer. Try again in a moment.');
}

/** Builds a query string from the defined, non-empty values. */
export function query(params: Record<string, string | number | undefined | null>): string {
	const q = new URLSearchParams();
	for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
	const s = q.toString();
	return s ? `?${s}` : '';
}
