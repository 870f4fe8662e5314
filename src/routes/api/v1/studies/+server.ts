import { apiPrincipal, apiRoute, jsonNoStore } from '$lib/server/api/api-handler';
import { tokenRoleIn } from '$lib/server/auth/access-tokens.service';
import { findStudyById } from '$lib/server/studies/studies.repository';
import type { RequestHandler } from './$types';

/** The studies this token reaches, with its role in each (within its owner's). */
export const GET: RequestHandler = apiRoute(async (event) => {
	const principal = await apiPrincipal(event);
	const db = event.locals.app.database.db;
	const studies = [];
	for (const id of principal.studyIds) {
		const study = await findStudyById(db, id);
		const access = study ? await tokenRoleIn(db, principal, id) : undefined;
		if (study && access)
			studies.push({
				slug: study.slug,
				title: study.title,
				status: study.status,
				token_role: principal.role,
				your_role: access.ownerRole
			});
	}
	studies.sort((a, b) => a.slug.localeCompare(b.slug));
	return jsonNoStore({ studies });
});
