import type { Handle, HandleServerError, ServerInit } from '@sveltejs/kit';
import { getApp, startApp, stopApp } from '$lib/server/app';
import { validateSessionToken } from '$lib/server/auth/auth.service';
import { deleteSessionCookie, SESSION_COOKIE, setSessionCookie } from '$lib/server/auth/cookies';
import { ConfigError } from '$lib/server/config';
import { bundledDemoSources } from '$lib/server/demo/bundled-sources';

export const init: ServerInit = async () => {
	try {
		await startApp(bundledDemoSources);
	} catch (error) {
		// A bad environment is the operator's to fix: say what is wrong, without a stack trace.
		console.error(error instanceof ConfigError ? error.message : error);
		process.exit(1);
	}
	// adapter-node emits this after it stops accepting connections (SIGINT/SIGTERM). Closing the
	// database lets the process end; an open PGlite or pool would keep it alive.
	process.once('sveltekit:shutdown', () => {
		void stopApp();
	});
};

export const handle: Handle = async ({ event, resolve }) => {
	event.locals.app = await getApp();
	event.locals.user = null;
	event.locals.sessionToken = null;
	const token = event.cookies.get(SESSION_COOKIE);
	if (token) {
		const secure = event.url.protocol === 'https:';
		const session = await validateSessionToken(event.locals.app.database.db, token);
		if (session) {
			event.locals.user = session.user;
			event.locals.sessionToken = token;
			if (session.renewed) setSessionCookie(event.cookies, token, session.expiresAt, secure);
		} else {
			deleteSessionCookie(event.cookies, secure);
		}
	}
	const response = await resolve(event);
	response.headers.set('x-content-type-options', 'nosniff');
	response.headers.set('referrer-policy', 'strict-origin-when-cross-origin');
	response.headers.set('permissions-policy', 'camera=(), microphone=(), geolocation=()');
	return response;
};

export const handleError: HandleServerError = ({ error, status, message }) => {
	if (status >= 500) console.error(error);
	return {
		message: status >= 500 ? 'Something went wrong on our side. Please try again.' : message
	};
};
