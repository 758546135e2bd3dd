import { createServer, type Server, type Socket } from 'node:net';
import type { PGlite } from '@electric-sql/pglite';

// Request codes that arrive in place of a startup message (PostgreSQL protocol, "Message Formats").
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const PROTOCOL_3 = 196608;

const READY_FOR_QUERY = 0x5a; // 'Z'
const IDLE = 0x49; // 'I': outside any transaction block
const SYNC = Buffer.from([0x53, 0, 0, 0, 4]);
const EXTENDED = new Set(['P', 'B', 'D', 'E', 'C', 'H'].map((c) => c.charCodeAt(0)));

/**
 * Gives PGlite's one session to one client connection at a time, like PgBouncer's transaction
 * mode: a client holds it from its first message until the session reports ReadyForQuery idle,
 * so one client's transaction or Parse/Bind/Execute/Sync sequence never meets another's.
 */
class SessionLock {
	private held = false;
	private readonly waiters: Array<() => void> = [];

	get contended(): boolean {
		return this.waiters.length > 0;
	}

	acquire(): Promise<void> {
		if (!this.held) {
			this.held = true;
			return Promise.resolve();
		}
		return new Promise((resolve) => this.waiters.push(resolve));
	}

	release(): void {
		const next = this.waiters.shift();
		if (next) next();
		else this.held = false;
	}
}

/** Follows the backend's message stream across chunks and remembers the last ReadyForQuery status. */
class ReadyScanner {
	status: number | null = null;
	private readonly header = Buffer.alloc(5);
	private headerLen = 0;
	private type = 0;
	private remaining = 0;
	private bodyPos = 0;

	feed(chunk: Uint8Array): void {
		let i = 0;
		while (i < chunk.length) {
			if (this.remaining === 0) {
				this.header[this.headerLen++] = chunk[i++]!;
				if (this.headerLen === 5) {
					this.type = this.header[0]!;
					this.remaining = this.header.readInt32BE(1) - 4;
					this.headerLen = 0;
					this.bodyPos = 0;
				}
				continue;
			}
			if (this.type === READY_FOR_QUERY && this.bodyPos === 0) this.status = chunk[i]!;
			const n = Math.min(this.remaining, chunk.length - i);
			i += n;
			this.remaining -= n;
			this.bodyPos += n;
		}
	}
}

function cstringEnd(buf: Buffer, from: number): number {
	const end = buf.indexOf(0, from);
	if (end < 0) throw new Error('malformed message: unterminated string');
	return end;
}

function withLength(parts: Buffer[]): Buffer {
	const msg = Buffer.concat(parts);
	msg.writeInt32BE(msg.length - 1, 1);
	return msg;
}

function message(type: string, body: Buffer): Buffer {
	return withLength([Buffer.from([type.charCodeAt(0), 0, 0, 0, 0]), body]);
}

/**
 * A client's named prepared statements live in the shared session after its transaction ends, so
 * each client's names get its own prefix: two clients preparing "s1" (or a reconnecting client
 * whose driver cache starts over) never collide, and a closing client's statements can be dropped.
 * Returns the message to run and the statement name it creates or closes, if any.
 */
export function prefixStatementName(msg: Buffer, prefix: Buffer): { msg: Buffer; name?: string } {
	const type = String.fromCharCode(msg[0]!);
	let at: number;
	if (type === 'P') at = 5;
	else if (type === 'B') at = cstringEnd(msg, 5) + 1;
	else if ((type === 'D' || type === 'C') && msg[5] === 0x53 /* 'S' */) at = 6;
	else return { msg };
	const end = cstringEnd(msg, at);
	if (end === at) return { msg }; // the unnamed statement ends with the client's Sync
	const renamed = withLength([msg.subarray(0, at), prefix, msg.subarray(at)]);
	return { msg: renamed, name: renamed.toString('latin1', at, end + prefix.length) };
}

type Incoming = { startup: true; code: number; bytes: Buffer } | { startup: false; type: number; bytes: Buffer };

class ClientConnection {
	/** Received bytes not yet split into messages, joined only once a whole message is there. */
	private chunks: Buffer[] = [];
	private buffered = 0;
	private readonly pending: Incoming[] = [];
	private wake: (() => void) | null = null;
	private started = false;
	private closed = false;
	private holding = false;
	private inTransaction = false;
	private unsynced = false;
	private readonly statements = new Set<string>();
	private readonly prefix: Buffer;
	private idleTimer: NodeJS.Timeout | undefined;
	readonly done: Promise<void>;

	constructor(
		private readonly socket: Socket,
		private readonly db: PGlite,
		private readonly lock: SessionLock,
		id: number,
		private readonly idleHoldMs: number
	) {
		this.prefix = Buffer.from(`fk${id}_`);
		socket.setNoDelay(true);
		socket.on('data', (chunk: Buffer) => this.receive(chunk));
		socket.on('error', () => undefined);
		socket.on('close', () => {
			this.closed = true;
			this.wake?.();
		});
		this.done = this.run();
	}

	private receive(chunk: Buffer): void {
		clearTimeout(this.idleTimer);
		this.chunks.push(chunk);
		this.buffered += chunk.length;
		try {
			for (let next = this.split(); next; next = this.split()) this.pending.push(next);
		} catch {
			this.socket.destroy();
		}
		this.wake?.();
	}

	/** The first `n` buffered bytes as one buffer; joins the chunks only when the first is too short. */
	private head(n: number): Buffer {
		if (this.chunks[0]!.length < n) this.chunks = [Buffer.concat(this.chunks, this.buffered)];
		return this.chunks[0]!;
	}

	private take(len: number): Buffer {
		const b = this.head(len);
		if (b.length === len) this.chunks.shift();
		else this.chunks[0] = b.subarray(len);
		this.buffered -= len;
		return b.subarray(0, len);
	}

	private split(): Incoming | null {
		if (!this.started) {
			if (this.buffered < 8) return null;
			const len = this.head(8).readInt32BE(0);
			if (len < 8) throw new Error('malformed startup message');
			if (this.buffered < len) return null;
			const bytes = this.take(len);
			const code = bytes.readInt32BE(4);
			if (code === PROTOCOL_3) this.started = true;
			return { startup: true, code, bytes };
		}
		if (this.buffered < 5) return null;
		const len = 1 + this.head(5).readInt32BE(1);
		if (len < 5) throw new Error('malformed message length');
		if (this.buffered < len) return null;
		const bytes = this.take(len);
		return { startup: false, type: bytes[0]!, bytes };
	}

	private async nextMessage(): Promise<Incoming | null> {
		while (!this.closed) {
			const next = this.pending.shift();
			if (next) return next;
			await new Promise<void>((resolve) => (this.wake = resolve));
			this.wake = null;
		}
		return null;
	}

	private async run(): Promise<void> {
		try {
			for (let msg = await this.nextMessage(); msg; msg = await this.nextMessage()) {
				await this.handle(msg);
				if (!this.pending.length) this.watchIdleHold();
			}
		} catch {
			this.socket.destroy();
		} finally {
			clearTimeout(this.idleTimer);
			await this.cleanup().catch(() => undefined);
		}
	}

	private async handle(msg: Incoming): Promise<void> {
		if (msg.startup) {
			if (msg.code === SSL_REQUEST || msg.code === GSSENC_REQUEST) this.socket.write('N');
			else if (msg.code === PROTOCOL_3) await this.send(msg.bytes, 0);
			else this.socket.destroy(); // CancelRequest (PGlite has no backend to signal) or unknown
			return;
		}
		if (msg.type === 0x58 /* 'X' Terminate */) {
			this.socket.end();
			this.closed = true;
			return;
		}
		const { msg: bytes, name } = prefixStatementName(msg.bytes, this.prefix);
		if (name && msg.type === 0x50) this.statements.add(name);
		if (name && msg.type === 0x43) this.statements.delete(name);
		await this.send(bytes, msg.type);
	}

	/** Runs one message on the session, taking it first if needed and giving it back once idle. */
	private async send(bytes: Buffer, type: number): Promise<void> {
		if (!this.holding) {
			// Another connection has the session: read no more of this one meanwhile, so what it
			// sends waits in the kernel's buffers and in the client, not in this process's memory.
			this.socket.pause();
			await this.lock.acquire();
			this.holding = true;
			this.socket.resume();
		}
		if (this.closed) return;
		const status = await this.exec(bytes, (data) => {
			if (!this.socket.destroyed) this.socket.write(Buffer.from(data));
		});
		if (status === null) {
			if (EXTENDED.has(type)) this.unsynced = true;
			return;
		}
		this.unsynced = false;
		this.inTransaction = status !== IDLE;
		if (!this.inTransaction) this.giveBack();
	}

	/**
	 * A client that keeps the session while silent (a transaction left open in Studio's console)
	 * would stall the server: like idle_in_transaction_session_timeout, it is disconnected, and
	 * so rolled back, once it has been silent for idleHoldMs while another connection waits.
	 */
	private watchIdleHold(): void {
		clearTimeout(this.idleTimer);
		if (!this.holding || this.closed) return;
		this.idleTimer = setTimeout(() => {
			if (this.lock.contended) this.socket.destroy();
			else this.watchIdleHold();
		}, this.idleHoldMs);
		this.idleTimer.unref();
	}

	private async exec(bytes: Uint8Array, out?: (data: Uint8Array) => void): Promise<number | null> {
		const scanner = new ReadyScanner();
		await this.db.runExclusive(() =>
			this.db.execProtocolRawStream(bytes, {
				onRawData: (data) => {
					scanner.feed(data);
					out?.(data);
				}
			})
		);
		return scanner.status;
	}

	private giveBack(): void {
		this.holding = false;
		this.lock.release();
	}

	/** Leaves the session as a new client expects it: no open transaction, none of our statements. */
	private async cleanup(): Promise<void> {
		if (!this.holding && this.statements.size === 0) return;
		if (!this.holding) {
			await this.lock.acquire();
			this.holding = true;
		}
		try {
			if (this.unsynced) await this.exec(SYNC);
			if (this.inTransaction) await this.exec(message('Q', Buffer.from('ROLLBACK\0')));
			if (this.statements.size) {
				for (const name of this.statements) await this.exec(message('C', Buffer.from(`S${name}\0`, 'latin1')));
				await this.exec(SYNC);
			}
		} finally {
			this.statements.clear();
			this.giveBack();
		}
	}
}

export interface PgliteWireOptions {
	/** How long a connection may hold the session while silent before it yields to a waiting one. */
	idleHoldMs?: number;
}

/** Serves one PGlite instance over the PostgreSQL wire protocol to any number of client connections. */
export class PgliteWireServer {
	private server: Server | null = null;
	private readonly clients = new Set<ClientConnection>();
	private readonly sockets = new Set<Socket>();
	private readonly lock = new SessionLock();
	private nextId = 1;

	private readonly idleHoldMs: number;

	constructor(
		private readonly db: PGlite,
		opts: PgliteWireOptions = {}
	) {
		this.idleHoldMs = opts.idleHoldMs ?? 30_000;
	}

	/** Resolves with the port listened on (useful with port 0). */
	async listen(port: number, host: string): Promise<number> {
		await this.db.waitReady;
		const server = createServer((socket) => {
			const client = new ClientConnection(socket, this.db, this.lock, this.nextId++, this.idleHoldMs);
			this.clients.add(client);
			this.sockets.add(socket);
			void client.done.then(() => {
				this.clients.delete(client);
				this.sockets.delete(socket);
			});
		});
		await new Promise<void>((resolve, reject) => {
			server.once('error', reject);
			server.listen(port, host, () => {
				server.off('error', reject);
				resolve();
			});
		});
		this.server = server;
		return (server.address() as { port: number }).port;
	}

	/** Disconnects every client and waits until each has rolled back and left the session. */
	async close(): Promise<void> {
		const server = this.server;
		this.server = null;
		const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
		for (const socket of this.sockets) socket.destroy();
		await Promise.all([...this.clients].map((c) => c.done));
		await closed;
	}
}
