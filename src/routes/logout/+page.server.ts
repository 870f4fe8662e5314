import { redirect } from '@sveltejs/kit';
import { signOut } from '$lib/server/auth/auth.service';
import { deleteSessionCookie } from '$lib/server/auth/cookies';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = () => redirect(303, '/');

export const actions: Actions = {
	default: async ({ locals, cookies, url }) => {
		if (locals.user && locals.sessionToken)
			await signOut(locals.app.database.db, locals.sessionToken, locals.user.id);
		deleteSessionCookie(cookies, url.protocol === 'https:');
		redirect(303, '/');
	}
};
