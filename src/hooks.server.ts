import type { Handle, HandleServerError, ServerInit } from '@sveltejs/kit';
import { getApp, startApp, stopApp } from '$lib/server/app';
import { validateSessionToken } from '$lib/server/auth/auth.service';
import { deleteSessionCookie, SESSION_COOKIE, setSessionCookie } from '$lib/server/auth/cookies';
import { ConfigError } from '$lib/server/config';
import { isDatabaseUnavailable } from '$lib/server/db/unavailable';
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

/** The answer while the database cannot be reached: 503 with Retry-After, nothing half-done. */
function databaseUnavailable(request: Request): Response {
	const body = 'The service is briefly unavailable. Please try again in a few seconds.';
	const wantsJson = !(request.headers.get('accept') ?? '').includes('text/html');
	return new Response(wantsJson ? JSON.stringify({ message: body }) : body, {
		status: 503,
		headers: {
			'retry-after': '5',
			'content-type': wantsJson ? 'application/json' : 'text/plain; charset=utf-8',
			'cache-control': 'no-store'
		}
	});
}

export const handle: Handle = async ({ event, resolve }) => {
	event.locals.app = await getApp();
	event.locals.user = null;
	event.locals.sessionToken = null;
	let response: Response;
	try {
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
		response = await resolve(event);
	} catch (error) {
		if (!isDatabaseUnavailable(error)) throw error;
		console.error(`[db] unavailable: ${(error as Error).message}`);
		return databaseUnavailable(event.request);
	}
	// A load, action or endpoint that failed on the database: 503 rather than 500, so clients
	// (and load balancers) know to retry.
	if (event.locals.databaseUnavailable && response.status >= 500)
		return databaseUnavailable(event.request);
	response.headers.set('x-content-type-options', 'nosniff');
	response.headers.set('referrer-policy', 'strict-origin-when-cross-origin');
	response.headers.set('permissions-policy', 'camera=(), microphone=(), geolocation=()');
	return response;
};

export const handleError: HandleServerError = ({ error, event, status, message }) => {
	if (isDatabaseUnavailable(error)) {
		event.locals.databaseUnavailable = true;
		console.error(`[db] unavailable: ${(error as Error).message}`);
		return { message: 'The service is briefly unavailable. Please try again in a few seconds.' };
	}
	if (status >= 500) console.error(error);
	return {
		message: status >= 500 ? 'Something went wrong on our side. Please try again.' : message
	};
};
