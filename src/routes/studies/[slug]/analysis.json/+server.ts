import { analyzeStudy } from '$lib/server/analysis/study-analysis.service';
import { requireStudyAccess } from '$lib/server/auth/guard';
import type { RequestHandler } from './$types';

/** The analysis as the JSON of docs/analysis-estimands.md §7. */
export const GET: RequestHandler = async (event) => {
	const { study, user } = await requireStudyAccess(event, event.params.slug, 'study.analyze');
	const { result } = await analyzeStudy(event.locals.app.database.db, study.slug, {
		kind: 'user',
		id: user.id
	});
	return new Response(`${JSON.stringify(result, null, 2)}\n`, {
		headers: {
			'content-type': 'application/json; charset=utf-8',
			'content-disposition': `attachment; filename="${study.slug}-analysis.json"`,
			'cache-control': 'no-store'
		}
	});
};
