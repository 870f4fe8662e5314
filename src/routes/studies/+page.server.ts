import { studiesOf } from '$lib/server/auth/accounts.service';
import { requireUser } from '$lib/server/auth/guard';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => ({
	studies: await studiesOf(event.locals.app.database.db, requireUser(event).id)
});
