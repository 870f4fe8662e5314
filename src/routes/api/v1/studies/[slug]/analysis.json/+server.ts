import { apiRoute, apiStudy, jsonNoStore } from '$lib/server/api/api-handler';
import { analyzeStudy } from '$lib/server/analysis/study-analysis.service';
import type { RequestHandler } from './$types';

/** The analysis JSON (docs/analysis-estimands.md), as the study page's download; audited. */
export const GET: RequestHandler = apiRoute(async (event) => {
	const { study, actor } = await apiStudy(event, 'study.analyze');
	const { result } = await analyzeStudy(event.locals.app.database.db, study.slug, actor);
	return jsonNoStore(result);
});
