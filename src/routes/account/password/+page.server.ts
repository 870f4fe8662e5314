import { fail, redirect } from '@sveltejs/kit';
import { changePassword } from '$lib/server/auth/auth.service';
import { setSessionCookie } from '$lib/server/auth/cookies';
import { requireUser } from '$lib/server/auth/guard';
import { failFor } from '$lib/server/http-errors';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = (event) => {
	const user = requireUser(event);
	return { mustChange: user.mustChangePassword };
};

export const actions: Actions = {
	default: async (event) => {
		const user = requireUser(event);
		const form = await event.request.formData();
		const current = String(form.get('current') ?? '');
		const next = String(form.get('password') ?? '');
		if (next !== String(form.get('confirm') ?? '')) {
			return fail(400, {
				problems: [{ path: 'confirm', message: 'does not match the new password' }]
			});
		}
		try {
			const session = await changePassword(event.locals.app.database.db, user.id, current, next);
			setSessionCookie(
				event.cookies,
				session.token,
				session.expiresAt,
				event.url.protocol === 'https:'
			);
		} catch (error) {
			return failFor(error);
		}
		redirect(303, '/studies');
	}
};
