import type pg from 'pg';

/** Dashboard users. E-mails are stored and compared in lower case. */

type Db = pg.Pool | pg.ClientBase;

export type UserRole = 'admin' | 'viewer';
export const USER_ROLES = ['admin', 'viewer'] as const;

export interface UserRow {
	id: string;
	email: string;
	role: UserRole;
	createdAt: Date;
	updatedAt: Date;
	lastLoginAt: Date | null;
}

export interface UserWithHash extends UserRow {
	passwordHash: string;
}

const COLUMNS = `id, email, role, created_at AS "createdAt", updated_at AS "updatedAt", last_login_at AS "lastLoginAt"`;

export const normaliseEmail = (email: string) => email.trim().toLowerCase();

export async function findUserByEmail(db: Db, email: string): Promise<UserWithHash | null> {
	const { rows } = await db.query<UserWithHash>(`SELECT ${COLUMNS}, password_hash AS "passwordHash" FROM users WHERE email = $1`, [
		normaliseEmail(email)
	]);
	return rows[0] ?? null;
}

export async function findUserById(db: Db, id: string): Promise<UserWithHash | null> {
	const { rows } = await db.query<UserWithHash>(`SELECT ${COLUMNS}, password_hash AS "passwordHash" FROM users WHERE id = $1`, [id]);
	return rows[0] ?? null;
}

export async function listUsers(db: Db): Promise<UserRow[]> {
	const { rows } = await db.query<UserRow>(`SELECT ${COLUMNS} FROM users ORDER BY role, email`);
	return rows;
}

export async function countUsers(db: Db): Promise<number> {
	const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM users`);
	return rows[0]!.n;
}

/** null when the e-mail is taken. */
export async function createUser(db: Db, input: { email: string; passwordHash: string; role: UserRole }): Promise<UserRow | null> {
	const { rows } = await db.query<UserRow>(
		`INSERT INTO users (email, password_hash, role, updated_at) VALUES ($1, $2, $3, now())
		 ON CONFLICT (email) DO NOTHING RETURNING ${COLUMNS}`,
		[normaliseEmail(input.email), input.passwordHash, input.role]
	);
	return rows[0] ?? null;
}

export async function setUserRole(db: Db, id: string, role: UserRole): Promise<UserRow | null> {
	const { rows } = await db.query<UserRow>(`UPDATE users SET role = $2, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`, [id, role]);
	return rows[0] ?? null;
}

export async function setUserPassword(db: Db, id: string, passwordHash: string): Promise<boolean> {
	const r = await db.query(`UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1`, [id, passwordHash]);
	return (r.rowCount ?? 0) > 0;
}

export async function deleteUser(db: Db, id: string): Promise<boolean> {
	const r = await db.query(`DELETE FROM users WHERE id = $1`, [id]);
	return (r.rowCount ?? 0) > 0;
}

export async function recordLogin(db: Db, id: string): Promise<void> {
	await db.query(`UPDATE users SET last_login_at = now() WHERE id = $1`, [id]);
}

/**
 * Admins other than this user, locking the admin rows, so that two concurrent demotions cannot
 * both see "another admin remains" and leave none. Call inside a transaction.
 */
export async function otherAdmins(db: pg.ClientBase, exceptId: string): Promise<number> {
	const { rows } = await db.query<{ id: string }>(`SELECT id FROM users WHERE role = 'admin' ORDER BY id FOR UPDATE`);
	return rows.filter((r) => r.id !== exceptId).length;
}
