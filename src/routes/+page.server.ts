import { listStudies } from '$lib/server/studies/studies.repository';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals }) => {
	const studies = await listStudies(locals.app.database.db);
	return {
		studies: studies.map((s) => ({ slug: s.slug, title: s.title, status: s.status })),
		database: locals.app.database.kind
	};
};
