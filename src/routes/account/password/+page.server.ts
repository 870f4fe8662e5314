import { fail, redirect } from '@sveltejs/kit';
import { changePassword } from '$lib/server/auth/auth.service';
import { setSessionCookie } from '$lib/server/auth/cookies';
import { requireUser } from '$lib/server/auth/guard';
import { ValidationError } from '$lib/server/validation/problems';
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
			if (error instanceof ValidationError)
				return fail(400, {
					problems: error.problems.map(({ path, message }) => ({ path, message }))
				});
			throw error;
		}
		redirect(303, '/studies');
	}
};
