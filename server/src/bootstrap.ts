import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import { generatePassword, hashPassword } from './lib/passwords.js';
import { generateSecretsKey, parseSecretsKey, SecretBox } from './lib/secrets.js';
import { generateToken } from './lib/tokens.js';

export interface BootstrapResult {
	/** Set only when the server just created it: shown once, never stored in clear. */
	adminToken?: string;
	demoProject?: { id: string; slug: string; token: string };
	/** Set only when the server just created the first dashboard user. */
	adminUser?: { email: string; /** Only when generated: shown once. */ password?: string };
}

export function publicUrl(config: Config): string {
	if (config.PUBLIC_URL) return config.PUBLIC_URL.replace(/\/+$/, '');
	const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST;
	return `http://${host.includes(':') ? `[${host}]` : host}:${config.PORT}`;
}

/**
 * First start on an empty database: an admin token (unless ADMIN_TOKEN is set) and, with DEMO on,
 * a demo project with its ingestion token. Runs under an advisory lock so that two instances
 * starting together bootstrap once.
 */
export async function bootstrap(db: Database, config: Config): Promise<BootstrapResult> {
	const client = await db.pool.connect();
	try {
		await client.query('BEGIN');
		await client.query('SELECT pg_advisory_xact_lock(72707370)');
		const result: BootstrapResult = {};
		const { rows } = await client.query<{ projects: string; admin_tokens: string }>(
			`SELECT (SELECT count(*) FROM projects) AS projects,
			        (SELECT count(*) FROM api_tokens WHERE project_id IS NULL) AS admin_tokens`
		);
		const empty = rows[0]!.projects === '0' && rows[0]!.admin_tokens === '0';
		if (empty && !config.ADMIN_TOKEN) {
			const t = generateToken('admin');
			await client.query(`INSERT INTO api_tokens (label, token_hash, prefix) VALUES ($1, $2, $3)`, [
				'first-start admin token',
				t.hash,
				t.prefix
			]);
			result.adminToken = t.token;
		}
		const users = await client.query<{ n: string }>(`SELECT count(*) AS n FROM users`);
		if (users.rows[0]!.n === '0') {
			// Also on an existing installation without users: whoever holds the database gets a way in.
			const email = (config.ADMIN_EMAIL ?? 'admin@localhost').trim().toLowerCase();
			const password = config.ADMIN_PASSWORD ?? generatePassword();
			await client.query(`INSERT INTO users (email, password_hash, role, updated_at) VALUES ($1, $2, 'admin', now())`, [
				email,
				await hashPassword(password)
			]);
			result.adminUser = config.ADMIN_PASSWORD ? { email } : { email, password };
		}
		if (empty && config.DEMO) {
			const t = generateToken('project');
			const { rows: created } = await client.query<{ id: string }>(
				`INSERT INTO projects (slug, name, is_demo, updated_at) VALUES ('demo', 'Demo project', true, now()) RETURNING id`
			);
			const id = created[0]!.id;
			await client.query(`INSERT INTO api_tokens (project_id, label, token_hash, prefix) VALUES ($1, $2, $3, $4)`, [
				id,
				'demo ingestion token',
				t.hash,
				t.prefix
			]);
			result.demoProject = { id, slug: 'demo', token: t.token };
		}
		await client.query('COMMIT');
		return result;
	} catch (err) {
		await client.query('ROLLBACK').catch(() => undefined);
		throw err;
	} finally {
		client.release();
	}
}

/** The lines a newcomer needs, printed once on the first start. */
export function firstStartBanner(result: BootstrapResult, url: string): string {
	const lines: string[] = [];
	if (result.adminUser) {
		const { email, password } = result.adminUser;
		lines.push(
			'',
			`  Dashboard: ${url}  — sign in as ${email}`,
			password ? `    password (shown once; change it under Account): ${password}` : '    with the password from ADMIN_PASSWORD'
		);
	}
	if (result.adminToken) {
		lines.push(
			'',
			'  Admin token (shown once; keep it safe — only its hash is stored):',
			`    ${result.adminToken}`
		);
	}
	if (result.demoProject) {
		const { token, slug } = result.demoProject;
		lines.push(
			'',
			`  Demo project "${slug}" ingestion token (shown once):`,
			`    ${token}`,
			'',
			'  playwright.config.ts:',
			`    reporter: [['list'], ['flackyness-reporter', { url: '${url}' }]],`,
			`    # and in CI: FLACKYNESS_TOKEN=${token}`,
			'',
			'  or upload a JSON report with curl:',
			`    npx playwright test --reporter=json > results.json`,
			`    curl -sS --fail-with-body -X POST '${url}/api/v1/reports' \\`,
			`      -H 'Authorization: Bearer ${token}' -H 'Content-Type: application/json' \\`,
			`      -H "X-Flackyness-Branch: $(git rev-parse --abbrev-ref HEAD)" -H "X-Flackyness-Commit-Sha: $(git rev-parse HEAD)" \\`,
			`      --data-binary @results.json`
		);
	}
	if (lines.length === 0) return '';
	return ['', '  ── Flackyness first start ─────────────────────────────────────', ...lines, ''].join('\n') + '\n';
}

/**
 * The key that signs dashboard sessions: JWT_SECRET, or a random one created on the first start and
 * kept in DATA_DIR so that restarts keep sessions. Several instances must share JWT_SECRET.
 */
export async function sessionSecret(config: Config): Promise<string> {
	if (config.JWT_SECRET) return config.JWT_SECRET;
	return keptInDataDir(config, 'session-secret', () => randomBytes(48).toString('base64url'), (s) => s.length >= 32);
}

/**
 * What seals secrets other systems issued (GitLab tokens): SECRETS_KEY, or a key created on the first
 * start and kept in DATA_DIR. Several instances must share SECRETS_KEY, or they cannot read each
 * other's secrets.
 */
export async function secretBox(config: Config): Promise<SecretBox> {
	const text = config.SECRETS_KEY ?? (await keptInDataDir(config, 'secrets-key', generateSecretsKey, (s) => parseSecretsKey(s) !== null));
	return new SecretBox(parseSecretsKey(text)!);
}

/**
 * A secret created once into DATA_DIR/name by `make` and read back on every later start; `usable`
 * tells a good file from a truncated or foreign one.
 */
export async function keptInDataDir(config: Config, name: string, make: () => string, usable: (secret: string) => boolean): Promise<string> {
	const dir = path.resolve(config.DATA_DIR);
	const file = path.join(dir, name);
	const existing = await readFile(file, 'utf8').catch(() => null);
	if (existing && usable(existing.trim())) return existing.trim();
	await mkdir(dir, { recursive: true });
	// Written aside and linked into place: two processes starting together agree on one secret.
	const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
	await writeFile(temp, make() + '\n', { mode: 0o600 });
	try {
		await link(temp, file);
	} catch (err) {
		if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
	} finally {
		await rm(temp, { force: true });
	}
	const secret = (await readFile(file, 'utf8')).trim();
	if (!usable(secret)) throw new Error(`${file} holds no usable secret; delete it and start again`);
	return secret;
}
