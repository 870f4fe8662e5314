import { registryView } from '$lib/server/registry/registry.service';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, url }) =>
	registryView(locals.app.database.db, (url.searchParams.get('q') ?? '').slice(0, 200));
