import { redirect } from '@sveltejs/kit';
import { setSessionCookie } from '$lib/server/auth/cookies';
import { safeNext } from '$lib/server/auth/guard';
import { finishSignIn } from '$lib/server/auth/oidc-client';
import { OIDC_COOKIE, oidcRedirectUri, pendingOf } from '$lib/server/auth/oidc-cookie';
import { signInWithIdentity } from '$lib/server/auth/oidc.service';
import type { RequestHandler } from './$types';

const refused: (reason: string) => never = (reason) => redirect(303, `/login?oidc=${reason}`);

/** The provider's answer: checked, mapped to an invited account, and a session started. */
export const GET: RequestHandler = async (event) => {
	const oidc = event.locals.app.config.oidc;
	const pending = pendingOf(event.cookies.get(OIDC_COOKIE));
	event.cookies.delete(OIDC_COOKIE, { path: '/login/oidc' });
	if (!oidc || !pending) refused('expired');
	if (event.url.searchParams.has('error')) refused('cancelled');
	// The callback as the provider addressed it (the public origin, not the proxy's view of it).
	const callback = new URL(oidcRedirectUri(event));
	callback.search = event.url.search;
	let claims;
	try {
		claims = await finishSignIn(oidc, callback, pending);
	} catch (e) {
		console.error(`[oidc] sign-in refused: ${(e as Error).message}`);
		refused('failed');
	}
	const result = await signInWithIdentity(event.locals.app.database.db, claims);
	if (!result.ok) refused(result.reason);
	setSessionCookie(event.cookies, result.token, result.expiresAt, event.url.protocol === 'https:');
	redirect(303, safeNext(pending.next));
};
