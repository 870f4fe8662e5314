import type { Cookies } from '@sveltejs/kit';

export const SESSION_COOKIE = 'bedside_session';

/** HttpOnly, SameSite=Lax, Secure whenever the site is served over HTTPS (set ORIGIN behind a proxy). */
export function setSessionCookie(
	cookies: Cookies,
	token: string,
	expiresAt: Date,
	secure: boolean
): void {
	cookies.set(SESSION_COOKIE, token, {
		path: '/',
		httpOnly: true,
		sameSite: 'lax',
		secure,
		expires: expiresAt
	});
}

export function deleteSessionCookie(cookies: Cookies, secure: boolean): void {
	cookies.delete(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure });
}

/** Marks a browser that has signed in before (see signIn): a random token, a year, HttpOnly. */
export const DEVICE_COOKIE = 'bedside_device';

export function setDeviceCookie(cookies: Cookies, token: string, secure: boolean): void {
	cookies.set(DEVICE_COOKIE, token, {
		path: '/login',
		httpOnly: true,
		sameSite: 'lax',
		secure,
		maxAge: 60 * 60 * 24 * 365
	});
}
