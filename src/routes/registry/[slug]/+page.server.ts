import { errorFor } from '$lib/server/http-errors';
import { publicPreregistration } from '$lib/server/registry/registry.service';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = ({ locals, params }) =>
	publicPreregistration(locals.app.database.db, params.slug).catch((e) => errorFor(e));
