import type pg from 'pg';
import { hashToken } from '../lib/tokens.js';

export interface TokenOwner {
	tokenId: string;
	/** null for admin tokens */
	projectId: string | null;
	projectSlug: string | null;
	revoked: boolean;
}

/** Looks a bearer token up by its hash; null when no such token exists. */
export async function findToken(pool: pg.Pool, token: string): Promise<TokenOwner | null> {
	const { rows } = await pool.query<{ id: string; project_id: string | null; slug: string | null; revoked_at: Date | null }>(
		`SELECT t.id, t.project_id, p.slug, t.revoked_at
		 FROM api_tokens t LEFT JOIN projects p ON p.id = t.project_id
		 WHERE t.token_hash = $1`,
		[hashToken(token)]
	);
	const row = rows[0];
	if (!row) return null;
	return { tokenId: row.id, projectId: row.project_id, projectSlug: row.slug, revoked: row.revoked_at !== null };
}

/** Records use at most once a minute per token, so that hot ingestion paths do not write per request. */
export async function touchToken(pool: pg.Pool, tokenId: string): Promise<void> {
	await pool.query(
		`UPDATE api_tokens SET last_used_at = now() WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
		[tokenId]
	);
}
