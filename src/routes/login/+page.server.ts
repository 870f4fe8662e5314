import { fail, redirect } from '@sveltejs/kit';
import { signIn } from '$lib/server/auth/auth.service';
import { DEVICE_COOKIE, setDeviceCookie, setSessionCookie } from '$lib/server/auth/cookies';
import { safeNext } from '$lib/server/auth/guard';
import type { Actions, PageServerLoad } from './$types';

const OIDC_MESSAGES: Record<string, string> = {
	no_invitation:
		'Your institution signed you in, but there is no Bedside account for your email. Ask an administrator to invite you, then sign in again.',
	unverified_email:
		'Your institution did not confirm your email address, so Bedside cannot match you to an invitation.',
	disabled: 'This account is disabled. Ask an administrator.',
	expired: 'The sign-in took too long or was started elsewhere. Please try again.',
	cancelled: 'The sign-in was cancelled.',
	failed: 'Your institution’s answer could not be verified. Please try again.'
};

export const load: PageServerLoad = ({ locals, url }) => {
	if (locals.user) redirect(303, safeNext(url.searchParams.get('next')));
	const oidc = locals.app.config.oidc;
	const reason = url.searchParams.get('oidc');
	return {
		oidc: oidc ? { name: oidc.name } : null,
		oidcMessage: reason ? (OIDC_MESSAGES[reason] ?? null) : null,
		next: safeNext(url.searchParams.get('next'))
	};
};

export const actions: Actions = {
	default: async ({ request, locals, cookies, url, getClientAddress }) => {
		const form = await request.formData();
		const email = String(form.get('email') ?? '');
		const password = String(form.get('password') ?? '');
		if (!email || !password) return fail(400, { email, message: 'Enter your email and password.' });
		const result = await signIn(locals.app.database.db, {
			email,
			password,
			ip: getClientAddress(),
			deviceToken: cookies.get(DEVICE_COOKIE) ?? null
		});
		if (!result.ok) {
			return fail(result.reason === 'locked' ? 429 : 400, {
				email,
				message: {
					locked: 'Too many failed attempts. Wait 15 minutes and try again.',
					expired:
						'This one-time password has expired. Ask an admin for a new one (npx bedside user reset-password).',
					invalid: 'That email and password do not match an account.'
				}[result.reason]
			});
		}
		setSessionCookie(cookies, result.token, result.expiresAt, url.protocol === 'https:');
		setDeviceCookie(cookies, result.deviceToken, url.protocol === 'https:');
		redirect(
			303,
			result.user.mustChangePassword ? '/account/password' : safeNext(url.searchParams.get('next'))
		);
	}
};
