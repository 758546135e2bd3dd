import { createGzip } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase, type TestDatabase } from '../helpers/db.js';
import { peakRssMiB } from '../helpers/process-memory.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';

/** About 1 MB of gzip that expands to `expanded` bytes of spaces, built without holding them. */
async function gzipBomb(expanded: number): Promise<Buffer> {
	const gzip = createGzip({ level: 9 });
	const chunks: Buffer[] = [];
	gzip.on('data', (c: Buffer) => chunks.push(c));
	const done = new Promise((resolve) => gzip.on('end', resolve));
	const block = Buffer.alloc(1024 * 1024, 0x20);
	for (let written = 0; written < expanded; written += block.length) {
		if (!gzip.write(block)) await new Promise((resolve) => gzip.once('drain', resolve));
	}
	gzip.end();
	await done;
	return Buffer.concat(chunks);
}

describe('ten concurrent gzip bombs against a server process', () => {
	const admin = 'bomb-admin-token-0123456789abcdef';
	let db: TestDatabase;
	let server: ServerProcess;
	let token: string;
	beforeAll(async () => {
		db = await createPostgresDatabase();
		server = await startServer({ DATABASE_URL: db.url, ADMIN_TOKEN: admin, DEMO: 'false' });
		const created = await fetch(`${server.url}/api/v1/admin/projects`, {
			method: 'POST',
			headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
			body: JSON.stringify({ slug: 'bombs' })
		});
		({ token } = (await created.json()) as { token: string });
	}, 90_000);
	afterAll(async () => {
		await server?.stop();
		await db?.destroy();
	});

	it('stays within a bounded peak RSS, answering 413 or 503 with Retry-After, never 500', async () => {
		const bomb = await gzipBomb(1024 * 1024 * 1024);
		expect(bomb.length).toBeLessThan(1.5 * 1024 * 1024);
		const before = peakRssMiB(server.proc.pid);
		const answers = await Promise.all(
			Array.from({ length: 10 }, () =>
				fetch(`${server.url}/api/v1/reports`, {
					method: 'POST',
					headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-encoding': 'gzip' },
					body: bomb
				}).then(async (res) => ({ status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as { message: string } }))
			)
		);
		const peak = peakRssMiB(server.proc.pid);
		for (const a of answers) {
			expect([413, 503]).toContain(a.status);
			if (a.status === 413) expect(a.body.message).toMatch(/DECOMPRESSED_LIMIT/);
			else expect(a.retryAfter).toBe('5');
		}
		expect(answers.some((a) => a.status === 413)).toBe(true);
		console.log(`peak RSS ${before.toFixed(0)} MiB before, ${peak.toFixed(0)} MiB after ten 1 GB gzip bombs; statuses ${answers.map((a) => a.status).join(' ')}`);
		// The default limits (DECOMPRESSED_LIMIT 100 MiB, BODY_LIMIT 10 MiB) allow 140 MiB of bodies
		// in flight; ten unbounded bombs took the process past 1.2 GB.
		expect(peak).toBeLessThan(before + 450);
		// The server still answers, and stored nothing.
		expect((await fetch(`${server.url}/health`)).status).toBe(200);
	}, 120_000);
});
