import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const SERVER_ENTRY = fileURLToPath(new URL('../../dist/server.js', import.meta.url));

export async function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const srv = createServer();
		srv.once('error', reject);
		srv.listen(0, '127.0.0.1', () => {
			const { port } = srv.address() as { port: number };
			srv.close(() => resolve(port));
		});
	});
}

export interface ServerProcess {
	url: string;
	port: number;
	proc: ChildProcess;
	output(): { stdout: string; stderr: string };
	/** Sends a signal and resolves with the exit code. */
	stop(signal?: NodeJS.Signals): Promise<number | null>;
	exited: Promise<number | null>;
}

/**
 * Starts the built server (`server/dist/server.js`) as a user would, and resolves once it prints
 * that it is running, or rejects with its output if it exits first.
 */
export async function startServer(
	env: Record<string, string>,
	opts: { cwd?: string; timeoutMs?: number; nodeBinary?: string } = {}
): Promise<ServerProcess> {
	if (!existsSync(SERVER_ENTRY)) throw new Error(`${SERVER_ENTRY} is missing: run \`pnpm build\` first`);
	// A port found free can be taken by another test file before the server binds it: then another one.
	for (let attempt = 1; ; attempt++) {
		try {
			return await launch(env, opts, env.PORT ? Number(env.PORT) : await freePort());
		} catch (err) {
			const taken = /port \d+ is already in use/.test(String((err as { stderr?: string }).stderr ?? '') + String((err as Error).message));
			if (env.PORT || !taken || attempt >= 3) throw err;
		}
	}
}

async function launch(env: Record<string, string>, opts: { cwd?: string; timeoutMs?: number; nodeBinary?: string }, port: number): Promise<ServerProcess> {
	const proc = spawn(opts.nodeBinary ?? process.execPath, [SERVER_ENTRY], {
		cwd: opts.cwd,
		env: {
			PATH: process.env.PATH,
			HOME: process.env.HOME,
			LOG_LEVEL: 'warn',
			HOST: '127.0.0.1',
			PORT: String(port),
			EMBEDDED_DB_PORT: String(await freePort()),
			...env
		},
		stdio: ['ignore', 'pipe', 'pipe']
	});
	let stdout = '';
	let stderr = '';
	proc.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
	proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
	const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
	const output = () => ({ stdout, stderr });
	await new Promise<void>((resolve, reject) => {
		const timer = setTimeout(() => {
			proc.kill('SIGKILL');
			reject(new Error(`server did not start in time\n${stdout}\n${stderr}`));
		}, opts.timeoutMs ?? 60_000);
		const onData = () => {
			if (stdout.includes(' is running at ')) {
				clearTimeout(timer);
				resolve();
			}
		};
		proc.stdout!.on('data', onData);
		void exited.then((code) => {
			clearTimeout(timer);
			reject(Object.assign(new Error(`server exited with ${code}\n${stdout}\n${stderr}`), { code, stdout, stderr }));
		});
	});
	return {
		url: `http://127.0.0.1:${port}`,
		port,
		proc,
		output,
		exited,
		async stop(signal: NodeJS.Signals = 'SIGTERM') {
			if (proc.exitCode !== null) return proc.exitCode;
			proc.kill(signal);
			return exited;
		}
	};
}

/** Runs the server expecting it to refuse to start; resolves with its exit code and output. */
export async function failedStart(env: Record<string, string>, opts: { cwd?: string } = {}) {
	try {
		const s = await startServer(env, opts);
		await s.stop();
		throw new Error('the server started although it should not have');
	} catch (err) {
		const e = err as { code?: number; stdout?: string; stderr?: string };
		if (e.code === undefined) throw err;
		return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
	}
}
