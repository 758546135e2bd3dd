import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { secretBox } from '../bootstrap.js';
import { ConfigError, loadConfig } from '../config.js';
import { generateSecretsKey, parseSecretsKey, SecretBox, SecretError } from './secrets.js';

const box = () => new SecretBox(randomBytes(32));

describe('SecretBox', () => {
	it('seals and opens, and never puts the plain text in the sealed value', () => {
		const b = box();
		const sealed = b.seal('glpat-very-secret-token-value', 'row:1');
		expect(sealed.startsWith(`fks1.${b.keyId}.`)).toBe(true);
		expect(sealed).not.toContain('very-secret');
		expect(Buffer.from(sealed.split('.')[3]!, 'base64url').toString('utf8')).not.toContain('very-secret');
		expect(b.open(sealed, 'row:1')).toBe('glpat-very-secret-token-value');
	});

	it('seals the same text differently every time (random IV)', () => {
		const b = box();
		expect(b.seal('same', 'c')).not.toBe(b.seal('same', 'c'));
	});

	it('refuses with a clear error under another key, naming both key ids', () => {
		const a = box();
		const other = box();
		const sealed = a.seal('token', 'c');
		expect(() => other.open(sealed, 'c')).toThrow(SecretError);
		expect(() => other.open(sealed, 'c')).toThrow(new RegExp(`another key \\(id ${a.keyId}.*id ${other.keyId}`));
	});

	it('refuses a value moved to another record, or altered', () => {
		const b = box();
		const sealed = b.seal('token', 'project:a');
		expect(() => b.open(sealed, 'project:b')).toThrow(/does not decrypt/);
		const parts = sealed.split('.');
		const body = Buffer.from(parts[3]!, 'base64url');
		body[0] = body[0]! ^ 1;
		parts[3] = body.toString('base64url');
		expect(() => b.open(parts.join('.'), 'project:a')).toThrow(/does not decrypt/);
		expect(() => b.open('plain text', 'project:a')).toThrow(/not in a format/);
		expect(() => b.open(sealed.replace('fks1', 'fks9'), 'project:a')).toThrow(/not in a format/);
	});

	it('takes 32-byte keys only', () => {
		expect(() => new SecretBox(randomBytes(16))).toThrow(/32 bytes/);
	});
});

describe('parseSecretsKey', () => {
	it('reads base64, base64url and hex of 32 bytes, nothing else', () => {
		const key = randomBytes(32);
		expect(parseSecretsKey(key.toString('base64'))).toEqual(key);
		expect(parseSecretsKey(key.toString('base64url'))).toEqual(key);
		expect(parseSecretsKey(key.toString('hex'))).toEqual(key);
		expect(parseSecretsKey(generateSecretsKey())).toHaveLength(32);
		expect(parseSecretsKey(randomBytes(16).toString('base64'))).toBeNull();
		expect(parseSecretsKey('correct horse battery staple, correct horse')).toBeNull();
	});

	it('is checked by the configuration, which never echoes the value', () => {
		const bad = 'not-a-key-but-secret-material';
		let err: unknown;
		try {
			loadConfig({ SECRETS_KEY: bad });
		} catch (e) {
			err = e;
		}
		expect(err).toBeInstanceOf(ConfigError);
		expect((err as ConfigError).problems[0]).toMatch(/^SECRETS_KEY: must be 32 bytes/);
		expect((err as ConfigError).message).not.toContain(bad);
		expect(loadConfig({ SECRETS_KEY: generateSecretsKey() }).SECRETS_KEY).toBeDefined();
	});
});

describe('secretBox', () => {
	it('uses SECRETS_KEY when set, so that instances sharing it read each other', async () => {
		const key = generateSecretsKey();
		const a = await secretBox(loadConfig({ SECRETS_KEY: key, DATA_DIR: '/nonexistent/never-written' }));
		const b = await secretBox(loadConfig({ SECRETS_KEY: key, DATA_DIR: '/nonexistent/never-written' }));
		expect(b.open(a.seal('x', 'c'), 'c')).toBe('x');
	});

	it('without SECRETS_KEY, creates one key in DATA_DIR once and keeps it across restarts', async () => {
		const dir = await mkdtemp(path.join(tmpdir(), 'fk-secrets-'));
		try {
			const config = loadConfig({ DATA_DIR: dir });
			const [a, b] = await Promise.all([secretBox(config), secretBox(config)]);
			expect(a.keyId).toBe(b.keyId);
			const again = await secretBox(config);
			expect(again.open(a.seal('kept', 'c'), 'c')).toBe('kept');
			expect(parseSecretsKey(await readFile(path.join(dir, 'secrets-key'), 'utf8'))).toHaveLength(32);
		} finally {
			await rm(dir, { recursive: true, force: true });
		}
	});
});
