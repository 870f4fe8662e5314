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
import http from 'node:http';
import path from 'node:path';
import process from 'node:process';

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
	console.log(`Listening on http://${shown}:${port}`);
});

let stopping = false;
/** @param {string} reason */
function shutdown(reason) {
	if (stopping) return;
	stopping = true;
	// Stop accepting connections, let requests in flight finish, then tell the app to close its
	// database (the init hook listens for this event, as under adapter-node's own server).
	// @ts-expect-error adapter-node's own event name, which Node's types do not list
	server.close(() => process.emit('sveltekit:shutdown', reason));
	server.closeIdleConnections();
	setTimeout(() => server.closeAllConnections(), shutdownSeconds * 1000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
