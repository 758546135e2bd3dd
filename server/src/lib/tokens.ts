import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export type TokenKind = 'project' | 'admin';

const PREFIXES: Record<TokenKind, string> = { project: 'flk_p_', admin: 'flk_a_' };

/** A new bearer token: only its hash and a short visible prefix are ever stored. */
export function generateToken(kind: TokenKind): { token: string; hash: string; prefix: string } {
	const token = PREFIXES[kind] + randomBytes(24).toString('base64url');
	return { token, hash: hashToken(token), prefix: token.slice(0, 12) };
}

export function hashToken(token: string): string {
	return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function sameSecret(a: string, b: string): boolean {
	const ha = createHash('sha256').update(a).digest();
	const hb = createHash('sha256').update(b).digest();
	return timingSafeEqual(ha, hb);
}
