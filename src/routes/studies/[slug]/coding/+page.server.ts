import { errorFor } from '$lib/server/http-errors';
import { requireStudyAccess } from '$lib/server/auth/guard';
import { codingQueue } from '$lib/server/coding/person-coding.service';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
	const { study, user } = await requireStudyAccess(event, event.params.slug, 'study.code');
	try {
		const queue = await codingQueue(event.locals.app.database.db, study.slug, user.id);
		return { study: { slug: study.slug, title: study.title }, queue };
	} catch (e) {
		errorFor(e);
	}
};
