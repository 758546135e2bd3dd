import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { PgliteWireServer } from '../../src/db/pglite-wire.js';
import { createPgliteDatabase } from '../helpers/db.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
	while (cleanups.length) await cleanups.pop()!();
});

async function setup(clients: number) {
	const db = await createPgliteDatabase();
	cleanups.push(() => db.destroy());
	const conns: pg.Client[] = [];
	for (let i = 0; i < clients; i++) {
		const c = new pg.Client({ connectionString: db.url });
		c.on('error', () => undefined);
		await c.connect();
		cleanups.push(() => c.end().catch(() => undefined));
		conns.push(c);
	}
	return conns;
}

// Each test creates a PGlite (initdb in WebAssembly): tens of seconds on a busy machine.
describe('the embedded database served to several connections', { timeout: 120_000 }, () => {
	it("keeps one client's transaction whole: another's query waits for it and never runs inside it", async () => {
		const [a, b] = await setup(2);
		await a!.query('BEGIN');
		await a!.query('CREATE TABLE only_in_a (x int)');
		let settled = false;
		const fromB = b!.query('SELECT count(*)::int AS n FROM only_in_a').finally(() => (settled = true));
		fromB.catch(() => undefined);
		await new Promise((r) => setTimeout(r, 200));
		expect(settled).toBe(false);
		await a!.query('ROLLBACK');
		await expect(fromB).rejects.toThrow(/only_in_a" does not exist/);
	});

	it('gives each connection its own named prepared statements', async () => {
		const [a, b] = await setup(2);
		const [ra, rb] = await Promise.all([
			a!.query({ name: 'same', text: 'SELECT $1::int + 1 AS n', values: [1] }),
			b!.query({ name: 'same', text: "SELECT $1::text || '!' AS s", values: ['b'] })
		]);
		expect(ra.rows).toEqual([{ n: 2 }]);
		expect(rb.rows).toEqual([{ s: 'b!' }]);
		// Reused from each connection's cache, still its own.
		expect((await b!.query({ name: 'same', text: "SELECT $1::text || '!' AS s", values: ['c'] })).rows).toEqual([{ s: 'c!' }]);
		expect((await a!.query({ name: 'same', text: 'SELECT $1::int + 1 AS n', values: [5] })).rows).toEqual([{ n: 6 }]);
	});

	it('rolls back and forgets a connection that goes away, and lets the others through', async () => {
		const [a, b, c] = await setup(3);
		await a!.query('CREATE TABLE kept (x int)');
		await b!.query({ name: 'left-behind', text: 'SELECT 1' });
		await b!.query('BEGIN');
		await b!.query('INSERT INTO kept VALUES (1)');
		const waiting = a!.query('SELECT count(*)::int AS n FROM kept');
		(b as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
		expect((await waiting).rows).toEqual([{ n: 0 }]);
		const { rows } = await c!.query(
			`SELECT (SELECT count(*)::int FROM pg_prepared_statements WHERE name LIKE '%left-behind') AS statements,
			        now() = statement_timestamp() AS outside_transaction`
		);
		expect(rows).toEqual([{ statements: 0, outside_transaction: true }]);
	});

	it('disconnects a connection that sits in a transaction while another waits, and only then', async () => {
		const db = await PGlite.create();
		const wire = new PgliteWireServer(db, { idleHoldMs: 300 });
		const port = await wire.listen(0, '127.0.0.1');
		cleanups.push(() => wire.close().then(() => db.close()));
		const connect = async () => {
			const c = new pg.Client({ connectionString: `postgresql://postgres@127.0.0.1:${port}/postgres` });
			c.on('error', () => undefined);
			await c.connect();
			cleanups.push(() => c.end().catch(() => undefined));
			return c;
		};
		const [lone, idle, waiting] = [await connect(), await connect(), await connect()];
		// Alone, a slow transaction keeps the session for as long as it likes.
		await lone.query('BEGIN');
		await new Promise((r) => setTimeout(r, 700));
		await lone.query('CREATE TABLE t (x int)');
		await lone.query('COMMIT');

		await idle.query('BEGIN');
		await idle.query('INSERT INTO t VALUES (1)');
		const started = Date.now();
		expect((await waiting.query('SELECT count(*)::int AS n FROM t')).rows).toEqual([{ n: 0 }]);
		expect(Date.now() - started).toBeGreaterThanOrEqual(250);
		await expect(idle.query('COMMIT')).rejects.toThrow();
	});

	it('takes a large message arriving in many chunks, and leaves a waiting connection unread', async () => {
		const db = await PGlite.create();
		const wire = new PgliteWireServer(db);
		const port = await wire.listen(0, '127.0.0.1');
		cleanups.push(() => wire.close().then(() => db.close()));
		const connect = async () => {
			const c = new pg.Client({ connectionString: `postgresql://postgres@127.0.0.1:${port}/postgres` });
			c.on('error', () => undefined);
			await c.connect();
			cleanups.push(() => c.end().catch(() => undefined));
			return c;
		};
		const [holder, sender] = [await connect(), await connect()];
		const big = 'x'.repeat(16 * 1024 * 1024);
		await holder.query('BEGIN');
		const fromSender = sender.query<{ n: number }>('SELECT length($1::text) AS n', [big]);
		fromSender.catch(() => undefined);
		await new Promise((r) => setTimeout(r, 500));
		// The session is the holder's: the server stopped reading the sender, whose bytes wait on its side.
		const stream = (sender as unknown as { connection: { stream: { writableLength: number } } }).connection.stream;
		expect(stream.writableLength).toBeGreaterThan(4 * 1024 * 1024);
		await holder.query('COMMIT');
		expect((await fromSender).rows).toEqual([{ n: big.length }]);
		// Once served, the connection reads again.
		expect((await sender.query<{ n: number }>('SELECT 1 AS n')).rows).toEqual([{ n: 1 }]);
	});
});
