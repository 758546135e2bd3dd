import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Password hashing with node:crypto's scrypt. The stored form names its parameters, so they can
 * be raised later without invalidating older hashes: `scrypt$N$r$p$<salt b64>$<key b64>`.
 */
const PARAMS = { N: 16384, r: 8, p: 1 } as const;
const KEY_LENGTH = 64;
// 128 · N · r bytes (16 MiB here) must fit under scrypt's memory cap, with room.
const MAX_MEM = 64 * 1024 * 1024;

function derive(password: string, salt: Buffer, params: { N: number; r: number; p: number }, length: number): Promise<Buffer> {
	const options: ScryptOptions = { ...params, maxmem: MAX_MEM };
	return new Promise((resolve, reject) =>
		scrypt(password.normalize('NFC'), salt, length, options, (err, key) => (err ? reject(err) : resolve(key)))
	);
}

export async function hashPassword(password: string): Promise<string> {
	const salt = randomBytes(16);
	const key = await derive(password, salt, PARAMS, KEY_LENGTH);
	return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64'), key.toString('base64')].join('$');
}

interface Parsed {
	N: number;
	r: number;
	p: number;
	salt: Buffer;
	key: Buffer;
}

function parse(stored: string): Parsed | null {
	const parts = stored.split('$');
	if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
	const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
	if (![N, r, p].every((n) => Number.isInteger(n) && n > 0) || 128 * N * r > MAX_MEM) return null;
	const salt = Buffer.from(parts[4]!, 'base64');
	const key = Buffer.from(parts[5]!, 'base64');
	if (salt.length < 8 || key.length < 32) return null;
	return { N, r, p, salt, key };
}

// Checked against when the e-mail is unknown, so that an unknown user costs as much time as a
// known one with a wrong password.
const DUMMY: Parsed = { ...PARAMS, salt: Buffer.alloc(16, 7), key: Buffer.alloc(KEY_LENGTH, 0) };

/**
 * Constant-time check of a password against a stored hash. Pass null when there is no such user:
 * the same work is done and the answer is false.
 */
export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
	const parsed = stored ? parse(stored) : null;
	const target = parsed ?? DUMMY;
	const key = await derive(password, target.salt, target, target.key.length);
	return timingSafeEqual(key, target.key) && parsed !== null;
}

/** A password for people to type once and change: 20 characters from an unambiguous alphabet. */
export function generatePassword(): string {
	const alphabet = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789';
	const bytes = randomBytes(40);
	let out = '';
	// Rejection sampling keeps every character equally likely.
	for (const b of bytes) {
		if (b >= Math.floor(256 / alphabet.length) * alphabet.length) continue;
		out += alphabet[b % alphabet.length];
		if (out.length === 20) return out;
	}
	return out + generatePassword().slice(out.length);
}
