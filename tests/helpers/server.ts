import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { BUILD_DIR, ensureBuilt, SERVE_ENTRY } from '../../src/cli/build.ts';

/** A built Bedside server running in its own process on a free port. */
export interface RunningServer {
	url: string;
	port: number;
	/** Everything the process printed so far. */
	output(): string;
	/** SIGTERM (or another signal), then wait for the exit; resolves to the exit code. */
	stop(signal?: NodeJS.Signals): Promise<number | null>;
	/** Resolves with the exit code when the process ends by itself. */
	exited: Promise<number | null>;
	process: ChildProcess;
}

export interface ServerOptions {
	/** A PostgreSQL URL, or a folder for embedded PGlite (made fresh when omitted). */
	databaseUrl?: string;
	dataDir?: string;
	env?: Record<string, string>;
	/** Wait until /healthz answers 200 (default) or only until the process exits. */
	waitForHealthy?: boolean;
	port?: number;
	/**
	 * `serve` (default): `bin/serve.js`, the server `npm start` runs, with no ORIGIN, as a newcomer
	 * runs it; `start`: `bin/bedside.js start` itself; `node-build`: adapter-node's own
	 * `node build`, which needs ORIGIN (set to the server's URL unless `env` gives one).
	 */
	entry?: 'serve' | 'start' | 'node-build';
	/** Options for node itself (e.g. --cpu-prof when profiling the benchmark). */
	nodeArgs?: string[];
}

export async function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = net.createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address() as net.AddressInfo;
			server.close(() => resolve(port));
		});
	});
}

export function tempDir(prefix: string): string {
	return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Builds if needed, then starts the server with the given database and waits until it is healthy. */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
	await ensureBuilt(() => {});
	const port = options.port ?? (await freePort());
	const url = `http://127.0.0.1:${port}`;
	const env: Record<string, string> = {
		PATH: process.env.PATH ?? '',
		HOME: process.env.HOME ?? os.tmpdir(),
		PORT: String(port),
		HOST: '127.0.0.1',
		...(options.entry === 'node-build' ? { ORIGIN: url } : {}),
		...(options.databaseUrl
			? { DATABASE_URL: options.databaseUrl }
			: { BEDSIDE_DATA_DIR: options.dataDir ?? tempDir('bedside-data-') }),
		...options.env
	};
	const entry = {
		serve: [SERVE_ENTRY],
		start: [path.resolve('bin/bedside.js'), 'start'],
		'node-build': [path.join(BUILD_DIR, 'index.js')]
	}[options.entry ?? 'serve'];
	const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...entry], {
		env,
		stdio: ['ignore', 'pipe', 'pipe']
	});
	let output = '';
	child.stdout!.on('data', (chunk) => (output += chunk));
	child.stderr!.on('data', (chunk) => (output += chunk));
	const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

	const server: RunningServer = {
		url,
		port,
		process: child,
		output: () => output,
		exited,
		stop: async (signal = 'SIGTERM') => {
			if (child.exitCode === null && child.signalCode === null) child.kill(signal);
			return exited;
		}
	};
	if (options.waitForHealthy === false) return server;

	const deadline = Date.now() + 60_000;
	while (Date.now() < deadline) {
		if (child.exitCode !== null) {
			throw new Error(
				`server exited with code ${child.exitCode} before it was healthy:\n${output}`
			);
		}
		try {
			const response = await fetch(`${url}/healthz`);
			if (response.status === 200) return server;
		} catch {
			// not listening yet
		}
		await new Promise((r) => setTimeout(r, 100));
	}
	await server.stop('SIGKILL');
	throw new Error(`server was not healthy within 60 s:\n${output}`);
}
