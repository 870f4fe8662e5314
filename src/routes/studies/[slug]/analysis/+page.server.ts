import { error } from '@sveltejs/kit';
import { analyseStudy } from '$lib/server/analysis/study-analysis.service';
import { requireStudyAccess } from '$lib/server/auth/guard';
import { RunningConfigError } from '$lib/server/prereg/prereg.service';
import { ExportError } from '../../../../../analysis/io/export-reader';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
	const { study, user } = await requireStudyAccess(event, event.params.slug, 'study.analyse');
	try {
		const { markdown } = await analyseStudy(event.locals.app.database.db, study.slug, {
			kind: 'user',
			id: user.id
		});
		return { study: { slug: study.slug, title: study.title }, markdown, problem: null };
	} catch (e) {
		if (e instanceof RunningConfigError) error(409, 'Only a preregistered study can be analysed.');
		if (e instanceof ExportError)
			return {
				study: { slug: study.slug, title: study.title },
				markdown: null,
				problem: e.message
			};
		throw e;
	}
};
