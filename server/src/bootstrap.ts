import type { Config } from './config.js';
import type { Database } from './db/database.js';
import { generateToken } from './lib/tokens.js';

export interface BootstrapResult {
	/** Set only when the server just created it: shown once, never stored in clear. */
	adminToken?: string;
	demoProject?: { id: string; slug: string; token: string };
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
			`    curl -fsS -X POST '${url}/api/v1/reports' \\`,
			`      -H 'Authorization: Bearer ${token}' -H 'Content-Type: application/json' \\`,
			`      -H "X-Flackyness-Branch: $(git rev-parse --abbrev-ref HEAD)" -H "X-Flackyness-Commit-Sha: $(git rev-parse HEAD)" \\`,
			`      --data-binary @results.json`
		);
	}
	if (lines.length === 0) return '';
	return ['', '  ── Flackyness first start ─────────────────────────────────────', ...lines, ''].join('\n') + '\n';
}
