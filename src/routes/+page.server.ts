import { registryView } from '$lib/server/registry/registry.service';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals }) => {
	// Only preregistered studies are public; drafts belong to their researchers.
	const { studies } = await registryView(locals.app.database.db);
	return {
		studies: studies.map((s) => ({ slug: s.slug, title: s.title, status: s.status })),
		database: locals.app.database.kind
	};
};
