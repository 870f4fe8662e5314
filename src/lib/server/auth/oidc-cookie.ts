import type { RequestEvent } from '@sveltejs/kit';
import type { PendingSignIn } from './oidc-client.ts';

/** The sign-in in progress (state, nonce, PKCE verifier, where to go after), for ten minutes. */
export const OIDC_COOKIE = 'bedside_oidc';

/** Where the provider sends the browser back: this instance's public origin. */
export function oidcRedirectUri(event: RequestEvent): string {
	return `${event.locals.app.config.origin ?? event.url.origin}/login/oidc/callback`;
}

export function pendingOf(value: string | undefined): PendingSignIn | null {
	if (!value) return null;
	try {
		const p = JSON.parse(value) as Partial<PendingSignIn>;
		return typeof p.state === 'string' &&
			typeof p.nonce === 'string' &&
			typeof p.verifier === 'string' &&
			typeof p.next === 'string'
			? (p as PendingSignIn)
			: null;
	} catch {
		return null;
	}
}
