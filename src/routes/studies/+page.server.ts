import { requireUser } from '$lib/server/auth/guard';
import { studiesOfUser } from '$lib/server/auth/users.repository';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
	const user = requireUser(event);
	const studies = await studiesOfUser(event.locals.app.database.db, user.id);
	return {
		studies: studies.map(({ slug, title, status, role }) => ({ slug, title, status, role }))
	};
};
