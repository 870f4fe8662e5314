import { error } from '@sveltejs/kit';
import { accountsOverview, inviteUser } from '$lib/server/auth/accounts.service';
import { failFor } from '$lib/server/http-errors';
import { requireUser } from '$lib/server/auth/guard';
import type { Actions, PageServerLoad, RequestEvent } from './$types';

function requireAdmin(event: RequestEvent) {
	const user = requireUser(event);
	if (!user.isAdmin) error(403, 'Only admins manage accounts');
	return user;
}

export const load: PageServerLoad = async (event) => {
	return accountsOverview(event.locals.app.database.db, requireAdmin(event));
};

export const actions: Actions = {
	invite: async (event) => {
		const admin = requireAdmin(event);
		const form = await event.request.formData();
		const values = {
			email: String(form.get('email') ?? ''),
			displayName: String(form.get('name') ?? ''),
			slug: String(form.get('study') ?? '') || undefined,
			role: String(form.get('role') ?? '') || undefined
		};
		try {
			const invited = await inviteUser(event.locals.app.database.db, admin, values);
			return { invited };
		} catch (e) {
			return failFor(e, { values });
		}
	}
};
