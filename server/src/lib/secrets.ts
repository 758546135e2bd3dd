import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Secrets other systems issued (a GitLab access token) must be usable again, so they cannot be
 * hashed like our own tokens: they are sealed with AES-256-GCM. A sealed value reads
 * `fks1.<key id>.<iv>.<ciphertext>.<tag>` (base64url parts): the version names the format so that a
 * later one can coexist while keys rotate, and the key id lets a server holding another key say so
 * in words instead of failing on the tag. The caller's context (for example the table and row) is
 * bound as additional data, so a sealed value copied into another row does not open there.
 */
const VERSION = 'fks1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SecretError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'SecretError';
	}
}

/** 32 bytes from 64 hex digits or from base64/base64url (44 characters with padding); null otherwise. */
export function parseSecretsKey(text: string): Buffer | null {
	const s = text.trim();
	if (/^[0-9a-f]{64}$/i.test(s)) return Buffer.from(s, 'hex');
	if (/^[A-Za-z0-9+/_-]{43}=?$/.test(s)) {
		const key = Buffer.from(s, 'base64');
		return key.length === 32 ? key : null;
	}
	return null;
}

export const SECRETS_KEY_HELP = 'must be 32 bytes as base64 (44 characters) or hex (64 characters), e.g. from `openssl rand -base64 32`';

/** A short, non-secret fingerprint of the key, to tell keys apart in a sealed value and in errors. */
function keyIdOf(key: Buffer): string {
	return createHash('sha256').update('flackyness-secrets-key-id').update(key).digest('base64url').slice(0, 8);
}

export class SecretBox {
	readonly keyId: string;
	readonly #key: Buffer;

	constructor(key: Buffer) {
		if (key.length !== 32) throw new SecretError('The secrets key must be 32 bytes (AES-256).');
		this.#key = Buffer.from(key);
		this.keyId = keyIdOf(key);
	}

	seal(plain: string, context: string): string {
		const iv = randomBytes(IV_BYTES);
		const cipher = createCipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
		cipher.setAAD(Buffer.from(context, 'utf8'));
		const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
		return [VERSION, this.keyId, iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
	}

	/** The plain text, or a SecretError saying why it cannot be had; never garbage. */
	open(sealed: string, context: string): string {
		const parts = sealed.split('.');
		if (parts[0] !== VERSION || parts.length !== 5) {
			throw new SecretError(`The stored secret is not in a format this server reads (expected ${VERSION}).`);
		}
		const [, keyId, iv, body, tag] = parts as [string, string, string, string, string];
		if (keyId !== this.keyId) {
			throw new SecretError(
				`The stored secret was encrypted with another key (id ${keyId}; this server's SECRETS_KEY has id ${this.keyId}): give every instance the same SECRETS_KEY, or enter the secret again.`
			);
		}
		try {
			const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES });
			decipher.setAAD(Buffer.from(context, 'utf8'));
			decipher.setAuthTag(Buffer.from(tag, 'base64url'));
			return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
		} catch {
			throw new SecretError('The stored secret does not decrypt with this key: it was altered, or belongs to another record. Enter it again.');
		}
	}
}

/** A new random key in the form SECRETS_KEY takes. */
export function generateSecretsKey(): string {
	return randomBytes(32).toString('base64');
}
