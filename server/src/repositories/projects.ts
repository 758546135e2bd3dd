import type pg from 'pg';
import { generateToken } from '../lib/tokens.js';
import { withoutTimeouts } from '../db/database.js';

export interface ProjectRow {
	id: string;
	slug: string;
	name: string;
	isDemo: boolean;
	createdAt: Date;
}

export interface ProjectWithStats extends ProjectRow {
	runs: number;
	tests: number;
	lastRunAt: Date | null;
	activeTokens: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A project by id or slug; null when there is none. */
export async function findProject(db: pg.Pool | pg.ClientBase, idOrSlug: string): Promise<ProjectRow | null> {
	const column = UUID.test(idOrSlug) ? 'id' : 'slug';
	const { rows } = await db.query<ProjectRow>(
		`SELECT id, slug, name, is_demo AS "isDemo", created_at AS "createdAt" FROM projects WHERE ${column} = $1`,
		[idOrSlug]
	);
	return rows[0] ?? null;
}

export async function listProjects(db: pg.Pool): Promise<ProjectWithStats[]> {
	const { rows } = await db.query<ProjectWithStats>(
		`SELECT p.id, p.slug, p.name, p.is_demo AS "isDemo", p.created_at AS "createdAt",
		        (SELECT count(*)::int FROM runs r WHERE r.project_id = p.id) AS runs,
		        (SELECT count(*)::int FROM tests t WHERE t.project_id = p.id) AS tests,
		        (SELECT max(started_at) FROM runs r WHERE r.project_id = p.id) AS "lastRunAt",
		        (SELECT count(*)::int FROM api_tokens k WHERE k.project_id = p.id AND k.revoked_at IS NULL) AS "activeTokens"
		 FROM projects p ORDER BY p.created_at`
	);
	return rows;
}

/** Creates the project and its first ingestion token; null when the slug is taken. */
export async function createProject(
	client: pg.ClientBase,
	input: { slug: string; name: string }
): Promise<{ project: ProjectRow; token: string; tokenPrefix: string } | null> {
	const { rows } = await client.query<ProjectRow>(
		`INSERT INTO projects (slug, name, updated_at) VALUES ($1, $2, now()) ON CONFLICT (slug) DO NOTHING
		 RETURNING id, slug, name, is_demo AS "isDemo", created_at AS "createdAt"`,
		[input.slug, input.name]
	);
	const project = rows[0];
	if (!project) return null;
	const t = await addToken(client, project.id, 'ingestion token');
	return { project, token: t.token, tokenPrefix: t.prefix };
}

/** Renames a project; null when the new slug is taken. */
export async function renameProject(db: pg.Pool, id: string, change: { name?: string | undefined; slug?: string | undefined }): Promise<ProjectRow | null> {
	const { rows } = await db.query<ProjectRow>(
		`UPDATE projects SET name = COALESCE($2, name), slug = COALESCE($3, slug), updated_at = now()
		 WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM projects o WHERE o.slug = $3 AND o.id <> $1)
		 RETURNING id, slug, name, is_demo AS "isDemo", created_at AS "createdAt"`,
		[id, change.name ?? null, change.slug ?? null]
	);
	return rows[0] ?? null;
}

export async function addToken(client: pg.ClientBase | pg.Pool, projectId: string, label: string) {
	const t = generateToken('project');
	const { rows } = await client.query<{ id: string }>(
		`INSERT INTO api_tokens (project_id, label, token_hash, prefix) VALUES ($1, $2, $3, $4) RETURNING id`,
		[projectId, label, t.hash, t.prefix]
	);
	return { id: rows[0]!.id, token: t.token, prefix: t.prefix };
}

export async function listTokens(db: pg.Pool | pg.ClientBase, projectId: string) {
	const { rows } = await db.query<{
		id: string;
		label: string;
		prefix: string;
		createdAt: Date;
		lastUsedAt: Date | null;
		revokedAt: Date | null;
	}>(
		`SELECT id, label, prefix, created_at AS "createdAt", last_used_at AS "lastUsedAt", revoked_at AS "revokedAt"
		 FROM api_tokens WHERE project_id = $1 ORDER BY created_at`,
		[projectId]
	);
	return rows;
}

/** Revokes a project token; false when the project has no such active token. */
export async function revokeToken(db: pg.Pool, projectId: string, tokenId: string): Promise<boolean> {
	const { rowCount } = await db.query(
		`UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND project_id = $2 AND revoked_at IS NULL`,
		[tokenId, projectId]
	);
	return rowCount === 1;
}

/**
 * Deletes the project and everything it owns; results have no foreign key, so they go first. Without
 * timeouts: a big project's results take longer than any request's bound to delete.
 */
export async function deleteProject(pool: pg.Pool, id: string): Promise<boolean> {
	return withoutTimeouts(pool, async (client) => {
		await client.query(`DELETE FROM test_results WHERE project_id = $1`, [id]);
		await client.query(`DELETE FROM analysis_jobs WHERE project_id = $1`, [id]);
		const { rowCount } = await client.query(`DELETE FROM projects WHERE id = $1`, [id]);
		return rowCount === 1;
	});
}

/** Revokes every live token of the project but `keepId`; answers how many were revoked. */
export async function revokeOtherTokens(client: pg.ClientBase | pg.Pool, projectId: string, keepId: string): Promise<number> {
	const r = await client.query(`UPDATE api_tokens SET revoked_at = now() WHERE project_id = $1 AND id <> $2 AND revoked_at IS NULL`, [
		projectId,
		keepId
	]);
	return r.rowCount ?? 0;
}
