#!/usr/bin/env node
// Serves the built app (`build/`): what `npm start` runs once the build is current.
//
// Why not adapter-node's own `build/index.js`: without ORIGIN it assumes every request came over
// https, so on a plain http://localhost (or http://127.0.0.1) the request's origin and the
// browser's never match, and SvelteKit refuses every form post as cross-site (403). This entry
// serves the same handler but, when neither ORIGIN nor PROTOCOL_HEADER is set, tells it the truth
// about the socket: it is plain HTTP, at whatever host the browser used. The cross-site check
// still holds: a page on another origin sends its own Origin, which never equals ours.
// Behind a reverse proxy, set ORIGIN (or PROTOCOL_HEADER and HOST_HEADER) as adapter-node documents.
import cluster from 'node:cluster';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';

// Every core: on PostgreSQL, one worker process per core (BEDSIDE_WORKERS to choose), all on the
// same port (Node's cluster hands connections out in turn). Nothing in a worker's memory is needed
// by another: sessions, allocation, limits and chat state live in the database. The embedded
// database belongs to one process, so without DATABASE_URL there is one worker.
const workers = workerCount();
if (cluster.isPrimary && workers > 1) await supervise(workers);
else await serve();

/** @returns {number} */
function workerCount() {
	const raw = process.env.BEDSIDE_WORKERS;
	const requested = raw ? Number(raw) : null;
	if (requested !== null && !(Number.isInteger(requested) && requested >= 1 && requested <= 64)) {
		console.error(`BEDSIDE_WORKERS: must be a whole number from 1 to 64 (got "${raw}")`);
		process.exit(1);
	}
	if (!process.env.DATABASE_URL) {
		if (requested !== null && requested > 1)
			console.log(
				`  BEDSIDE_WORKERS=${requested} ignored: the embedded database is one process's (set DATABASE_URL to use several)`
			);
		return 1;
	}
	return requested ?? os.availableParallelism();
}

/**
 * The primary: starts one worker (which migrates, seeds and prints where to sign in), then the
 * others; replaces a worker that dies; on SIGTERM/SIGINT stops them all and exits when they have.
 * @param {number} count
 */
async function supervise(count) {
	let stopping = false;
	/** @param {number} index */
	const fork = (index) => {
		const worker = cluster.fork({ BEDSIDE_WORKER: String(index) });
		worker.on('exit', (code, signal) => {
			if (stopping) return;
			console.error(`  worker ${index} exited (${signal ?? code}); starting another`);
			setTimeout(() => fork(index), 1000);
		});
		return worker;
	};
	const first = fork(1);
	await new Promise((resolve, reject) => {
		first.once('listening', resolve);
		first.once('exit', (code) => reject(new Error(`the first worker exited (${code})`)));
	}).catch((e) => {
		console.error(e.message);
		process.exit(1);
	});
	for (let i = 2; i <= count; i++) fork(i);
	console.log(`  ${count} worker processes (BEDSIDE_WORKERS; default: one per core)`);
	/** @param {NodeJS.Signals} signal */
	const stop = (signal) => {
		if (stopping) return;
		stopping = true;
		for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(signal);
		const check = setInterval(() => {
			if (Object.keys(cluster.workers ?? {}).length === 0) {
				clearInterval(check);
				process.exit(0);
			}
		}, 100);
	};
	process.on('SIGTERM', () => stop('SIGTERM'));
	process.on('SIGINT', () => stop('SIGINT'));
}

async function serve() {
	let stopping = false;
	// A worker whose primary is gone (killed) stops too: nobody hands it connections any more.
	if (cluster.isWorker) process.on('disconnect', () => stopping || process.exit(0));
	const SOCKET_PROTOCOL_HEADER = 'x-bedside-socket-protocol';
	const trustSocket = !process.env.ORIGIN && !process.env.PROTOCOL_HEADER;
	if (trustSocket) process.env.PROTOCOL_HEADER = SOCKET_PROTOCOL_HEADER;
	// adapter-node refuses bodies over 512 kB unless told otherwise; outcome files may be 5 MB.
	process.env.BODY_SIZE_LIMIT ??= '6M';

	const buildDir = path.resolve(import.meta.dirname, '../build');
	// The handler starts the app (the server's init hook) when it is imported.
	const { handler } = await import(path.join(buildDir, 'handler.js'));

	const host = process.env.HOST || '0.0.0.0';
	const port = Number(process.env.PORT || 3000);
	const shutdownSeconds = Number(process.env.SHUTDOWN_TIMEOUT || 30);

	const server = http.createServer((req, res) => {
		// Whatever a client sent in this header is replaced: only the socket decides.
		if (trustSocket) req.headers[SOCKET_PROTOCOL_HEADER] = 'http';
		handler(req, res);
	});

	server.listen({ host, port }, () => {
		const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
		// One line for the whole server, not one per worker.
		if ((process.env.BEDSIDE_WORKER ?? '1') === '1')
			console.log(`Listening on http://${shown}:${port}`);
	});

	/** @param {string} reason */
	function shutdown(reason) {
		if (stopping) return;
		stopping = true;
		// Stop accepting connections, let requests in flight finish, then tell the app to close its
		// database (the init hook listens for this event, as under adapter-node's own server). A
		// worker also lets go of its channel to the primary, which would keep it alive.
		server.close(() => {
			// @ts-expect-error adapter-node's own event name, which Node's types do not list
			process.emit('sveltekit:shutdown', reason);
			if (cluster.isWorker) cluster.worker?.disconnect();
		});
		server.closeIdleConnections();
		setTimeout(() => server.closeAllConnections(), shutdownSeconds * 1000).unref();
	}
	process.on('SIGTERM', () => shutdown('SIGTERM'));
	process.on('SIGINT', () => shutdown('SIGINT'));
}
