#!/usr/bin/env node
/**
 * `flackyness-admin`: the admin API from a terminal. Talks HTTP to a running server, with the
 * admin token from FLACKYNESS_ADMIN_TOKEN (never a command-line argument, which `ps` would show).
 *
 *   FLACKYNESS_URL=http://127.0.0.1:3000 FLACKYNESS_ADMIN_TOKEN=… npx flackyness-admin projects list
 *
 * With --json, stdout holds one JSON document and nothing else (messages go to stderr), so that
 * it can be piped.
 */
import { parseArgs } from 'node:util';

const USAGE = `usage: flackyness-admin <command> [arguments] [--json]

  projects list                         projects with runs, tests and last run
  projects create <slug> [--name N]     prints the ingestion token once
  projects rename <project> [--name N] [--slug S]
  projects delete <project> --yes       deletes the project and all its data
  projects recompute <project>          queues a fresh analysis of every test
  tokens list <project>
  tokens rotate <project> [--revoke-others]
  tokens revoke <project> <token-id>
  users list
  users create <email> [--role admin|viewer]   prints a generated password once
  users role <user-id> <admin|viewer>
  users reset-password <user-id>        prints a generated password once
  users delete <user-id> --yes
  health                                database, tables, partitions, queue

environment: FLACKYNESS_URL (default http://127.0.0.1:3000), FLACKYNESS_ADMIN_TOKEN (required)`;

class CliError extends Error {}

interface Ctx {
	url: string;
	token: string;
	json: boolean;
}

async function call(ctx: Ctx, method: string, path: string, body?: unknown): Promise<unknown> {
	let res: Response;
	try {
		res = await fetch(`${ctx.url}${path}`, {
			method,
			headers: { authorization: `Bearer ${ctx.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
			...(body === undefined ? {} : { body: JSON.stringify(body) }),
			signal: AbortSignal.timeout(30_000)
		});
	} catch (err) {
		throw new CliError(`cannot reach ${ctx.url}: ${(err as Error).message}`);
	}
	if (res.status === 204) return null;
	const text = await res.text();
	let data: unknown = text;
	try {
		data = JSON.parse(text);
	} catch {
		// not JSON: shown as it is
	}
	if (!res.ok) {
		const message = (data as { message?: string }).message ?? text;
		throw new CliError(`${method} ${path} answered ${res.status}: ${message}`);
	}
	return data;
}

function table(rows: Array<Record<string, unknown>>, columns: string[]): string {
	const cell = (v: unknown) => (v === null || v === undefined ? '' : v instanceof Date ? v.toISOString() : String(v));
	const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
	const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
	return [line(columns), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))].join('\n');
}

const enc = encodeURIComponent;

async function run(argv: string[]): Promise<string> {
	const { values, positionals } = parseArgs({
		args: argv,
		allowPositionals: true,
		options: {
			name: { type: 'string' },
			slug: { type: 'string' },
			role: { type: 'string' },
			yes: { type: 'boolean', default: false },
			json: { type: 'boolean', default: false },
			'revoke-others': { type: 'boolean', default: false },
			help: { type: 'boolean', short: 'h', default: false }
		}
	});
	const [group, action, a1, a2] = positionals;
	if (values.help || !group) return USAGE;
	const token = process.env.FLACKYNESS_ADMIN_TOKEN;
	if (!token) throw new CliError('set FLACKYNESS_ADMIN_TOKEN to the admin token');
	const ctx: Ctx = { url: (process.env.FLACKYNESS_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, ''), token, json: values.json };
	const need = (v: string | undefined, what: string) => {
		if (!v) throw new CliError(`missing ${what}\n\n${USAGE}`);
		return v;
	};
	const out = (data: unknown, text: () => string) => (ctx.json ? JSON.stringify(data, null, 2) : text());

	switch (`${group} ${action ?? ''}`.trim()) {
		case 'projects list': {
			const d = (await call(ctx, 'GET', '/api/v1/admin/projects')) as { projects: Array<Record<string, unknown>> };
			return out(d, () => table(d.projects, ['slug', 'name', 'runs', 'tests', 'lastRunAt', 'activeTokens', 'id']));
		}
		case 'projects create': {
			const d = (await call(ctx, 'POST', '/api/v1/admin/projects', { slug: need(a1, '<slug>'), ...(values.name ? { name: values.name } : {}) })) as {
				project: { slug: string };
				token: string;
			};
			return out(d, () => `created project ${d.project.slug}\ningestion token (shown once): ${d.token}`);
		}
		case 'projects rename': {
			const d = (await call(ctx, 'PATCH', `/api/v1/admin/projects/${enc(need(a1, '<project>'))}`, {
				...(values.name ? { name: values.name } : {}),
				...(values.slug ? { slug: values.slug } : {})
			})) as { project: { slug: string; name: string } };
			return out(d, () => `renamed: ${d.project.slug} (${d.project.name})`);
		}
		case 'projects delete': {
			const p = need(a1, '<project>');
			if (!values.yes) throw new CliError(`this deletes project ${p} and all its data; add --yes to go on`);
			await call(ctx, 'DELETE', `/api/v1/admin/projects/${enc(p)}`);
			return out({ deleted: { project: p } }, () => `deleted project ${p}`);
		}
		case 'projects recompute': {
			const d = (await call(ctx, 'POST', `/api/v1/admin/projects/${enc(need(a1, '<project>'))}/recompute`)) as { jobs: number; tests: number };
			return out(d, () => `queued ${d.tests} tests in ${d.jobs} analysis jobs`);
		}
		case 'tokens list': {
			const d = (await call(ctx, 'GET', `/api/v1/admin/projects/${enc(need(a1, '<project>'))}/tokens`)) as { tokens: Array<Record<string, unknown>> };
			return out(d, () => table(d.tokens, ['id', 'prefix', 'label', 'createdAt', 'lastUsedAt', 'revokedAt']));
		}
		case 'tokens rotate': {
			const q = values['revoke-others'] ? '?revokeOthers=true' : '';
			const d = (await call(ctx, 'POST', `/api/v1/admin/projects/${enc(need(a1, '<project>'))}/rotate-token${q}`)) as { token: string; revoked: number };
			return out(d, () => `new ingestion token (shown once): ${d.token}${d.revoked ? `\nrevoked ${d.revoked} older token(s)` : ''}`);
		}
		case 'tokens revoke': {
			await call(ctx, 'DELETE', `/api/v1/admin/projects/${enc(need(a1, '<project>'))}/tokens/${enc(need(a2, '<token-id>'))}`);
			return out({ revoked: { project: a1, tokenId: a2 } }, () => `revoked token ${a2}`);
		}
		case 'users list': {
			const d = (await call(ctx, 'GET', '/api/v1/admin/users')) as { users: Array<Record<string, unknown>> };
			return out(d, () => table(d.users, ['id', 'email', 'role', 'createdAt', 'lastLoginAt']));
		}
		case 'users create': {
			const d = (await call(ctx, 'POST', '/api/v1/admin/users', { email: need(a1, '<email>'), role: values.role ?? 'viewer' })) as {
				user: { email: string; role: string };
				password?: string;
			};
			return out(d, () => `created ${d.user.role} ${d.user.email}${d.password ? `\npassword (shown once): ${d.password}` : ''}`);
		}
		case 'users role': {
			const d = (await call(ctx, 'PATCH', `/api/v1/admin/users/${enc(need(a1, '<user-id>'))}`, { role: need(a2, '<admin|viewer>') })) as {
				user: { email: string; role: string };
			};
			return out(d, () => `${d.user.email} is now ${d.user.role}`);
		}
		case 'users reset-password': {
			const d = (await call(ctx, 'POST', `/api/v1/admin/users/${enc(need(a1, '<user-id>'))}/reset-password`, {})) as { password?: string };
			return out(d, () => `new password (shown once): ${d.password ?? '(set)'}`);
		}
		case 'users delete': {
			const id = need(a1, '<user-id>');
			if (!values.yes) throw new CliError(`this deletes user ${id}; add --yes to go on`);
			await call(ctx, 'DELETE', `/api/v1/admin/users/${enc(id)}`);
			return out({ deleted: { userId: id } }, () => `deleted user ${id}`);
		}
		case 'health': {
			const d = (await call(ctx, 'GET', '/api/v1/admin/health')) as {
				databaseBytes: number;
				analysisQueue: { pending: number };
				runningRuns: number;
				tables: Array<Record<string, unknown>>;
				partitions: Array<Record<string, unknown>>;
				retentionDays: number;
			};
			return out(d, () =>
				[
					`database: ${(d.databaseBytes / 1024 / 1024).toFixed(1)} MiB; analysis queue: ${d.analysisQueue.pending}; runs in progress: ${d.runningRuns}; retention: ${d.retentionDays} days`,
					'',
					table(d.tables, ['table', 'rows', 'rowsExact', 'bytes']),
					'',
					table(d.partitions, ['name', 'from', 'to', 'rows', 'rowsExact', 'bytes'])
				].join('\n')
			);
		}
		default:
			throw new CliError(`unknown command "${positionals.join(' ')}"\n\n${USAGE}`);
	}
}

run(process.argv.slice(2)).then(
	(text) => process.stdout.write(`${text}\n`),
	(err: unknown) => {
		process.stderr.write(`flackyness-admin: ${err instanceof CliError ? err.message : (err as Error).stack}\n`);
		process.exitCode = err instanceof CliError ? 2 : 1;
	}
);
