import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
	it('has working defaults for an empty environment', () => {
		const c = loadConfig({});
		expect(c).toMatchObject({ HOST: '127.0.0.1', PORT: 3000, DATA_DIR: './.flackyness', BODY_LIMIT: 10 * 1024 * 1024, DEMO: true });
		expect(c.DATABASE_URL).toBeUndefined();
		expect(c.CORS_ORIGINS).toEqual([]);
	});

	it('parses sizes, booleans and lists', () => {
		const c = loadConfig({ BODY_LIMIT: '2mb', DECOMPRESSED_LIMIT: '512kb', DEMO: 'no', CORS_ORIGINS: 'https://a.example, https://b.example' });
		expect(c.BODY_LIMIT).toBe(2 * 1024 * 1024);
		expect(c.DECOMPRESSED_LIMIT).toBe(512 * 1024);
		expect(c.DEMO).toBe(false);
		expect(c.CORS_ORIGINS).toEqual(['https://a.example', 'https://b.example']);
	});

	it('lists every problem at once and never echoes secrets', () => {
		let err: unknown;
		try {
			loadConfig({ PORT: '99999', DATABASE_URL: 'mysql://u:secretpw@h/db', ADMIN_TOKEN: 'short', BODY_LIMIT: 'lots' });
		} catch (e) {
			err = e;
		}
		expect(err).toBeInstanceOf(ConfigError);
		const e = err as ConfigError;
		expect(e.problems.map((p) => p.split(':')[0]).sort()).toEqual(['ADMIN_TOKEN', 'BODY_LIMIT', 'DATABASE_URL', 'PORT']);
		expect(e.message).not.toContain('secretpw');
		expect(e.message).not.toContain('short');
	});
});
