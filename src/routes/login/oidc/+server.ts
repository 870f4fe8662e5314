import { error, redirect } from '@sveltejs/kit';
import { safeNext } from '$lib/server/auth/guard';
import { beginSignIn } from '$lib/server/auth/oidc-client';
import { OIDC_COOKIE, oidcRedirectUri } from '$lib/server/auth/oidc-cookie';
import type { RequestHandler } from './$types';

/** Sends the browser to the institution's sign-in, keeping state, nonce and PKCE for the way back. */
export const GET: RequestHandler = async (event) => {
	const oidc = event.locals.app.config.oidc;
	if (!oidc) error(404, 'Institutional sign-in is not configured on this instance.');
	let started;
	try {
		started = await beginSignIn(
			oidc,
			oidcRedirectUri(event),
			safeNext(event.url.searchParams.get('next'))
		);
	} catch (e) {
		console.error(`[oidc] discovery failed: ${(e as Error).message}`);
		error(502, `${oidc.name} cannot be reached for sign-in right now. Try again in a minute.`);
	}
	event.cookies.set(OIDC_COOKIE, JSON.stringify(started.pending), {
		path: '/login/oidc',
		httpOnly: true,
		sameSite: 'lax',
		secure: event.url.protocol === 'https:',
		maxAge: 600
	});
	redirect(303, started.url.href);
};
