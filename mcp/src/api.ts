import { z } from 'zod';

/**
 * A client of the Flackyness server's read API (GET routes under /api/v1 only). What a token may
 * read is the server's business: a project token reads its own project, an admin token all of them.
 * Every failure becomes an ApiError whose message says what went wrong and what to do, without the
 * token.
 */

export class ApiError extends Error {
	constructor(
		message: string,
		/** HTTP status, or null when no answer came. */
		readonly status: number | null
	) {
		super(message);
		this.name = 'ApiError';
	}
}

export interface ApiConfig {
	/** The server's address, e.g. https://flackyness.example.com */
	url: string;
	token: string;
	timeoutMs?: number;
}

const errorBody = z.object({ message: z.string() });

export class FlackynessApi {
	private readonly base: URL;

	constructor(private readonly config: ApiConfig) {
		this.base = new URL(config.url.endsWith('/') ? config.url : `${config.url}/`);
	}

	/** GET `path` (relative to the server, starting with /api/v1/) and parse the answer with `schema`. */
	async get<T extends z.ZodType>(path: string, query: Record<string, string | number | undefined>, schema: T): Promise<z.output<T>> {
		const url = new URL(path.replace(/^\//, ''), this.base);
		for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
		let res: Response;
		try {
			res = await fetch(url, {
				headers: { authorization: `Bearer ${this.config.token}`, accept: 'application/json' },
				signal: AbortSignal.timeout(this.config.timeoutMs ?? 30_000)
			});
		} catch (err) {
			throw new ApiError(`Cannot reach the Flackyness server at ${this.base.origin}: ${networkReason(err)}. Check FLACKYNESS_URL and that the server is up.`, null);
		}
		const text = await res.text();
		if (!res.ok) throw new ApiError(failureMessage(res, path, text), res.status);
		let body: unknown;
		try {
			body = JSON.parse(text);
		} catch {
			throw new ApiError(`The server at ${this.base.origin} answered ${path} with something other than JSON: is FLACKYNESS_URL the Flackyness server?`, res.status);
		}
		const parsed = schema.safeParse(body);
		if (!parsed.success) {
			const issue = parsed.error.issues[0];
			throw new ApiError(
				`The server's answer to ${path} is not what this MCP server expects (${issue?.path.join('.') || 'body'}: ${issue?.message}); server and flackyness-mcp versions may differ.`,
				res.status
			);
		}
		return parsed.data;
	}
}

function networkReason(err: unknown): string {
	if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return 'no answer in time';
	const cause = (err as { cause?: { code?: string; message?: string } }).cause;
	return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}

function serverMessage(text: string): string | null {
	try {
		const parsed = errorBody.safeParse(JSON.parse(text));
		return parsed.success ? parsed.data.message : null;
	} catch {
		return null;
	}
}

function failureMessage(res: Response, path: string, text: string): string {
	const said = serverMessage(text);
	const detail = said ? ` (server: ${said})` : '';
	switch (res.status) {
		case 401:
			return `Flackyness refused the token (401)${detail}: set FLACKYNESS_TOKEN to a valid project token or admin token.`;
		case 403:
			return `This token may not read ${path} (403)${detail}.`;
		case 404:
			// The server answers 404 as well for what exists in a project this token cannot read.
			return `${said ?? `Nothing at ${path}`} (404): it does not exist, or this token cannot read it (a project token reads only its own project).`;
		case 429: {
			const after = res.headers.get('retry-after');
			return `Flackyness is rate limiting this token (429)${after ? `: retry in ${after} s` : ''}.`;
		}
		default:
			if (res.status >= 500) return `The Flackyness server failed (${res.status})${detail}; try again later or look at its logs.`;
			return `Flackyness answered ${res.status} to ${path}${detail}.`;
	}
}
