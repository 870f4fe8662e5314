import { apiRoute, apiStudy, jsonNoStore } from '$lib/server/api/api-handler';
import { benchmarkRuns } from '$lib/server/api/study-api.service';
import type { RequestHandler } from './$types';

/** The LLM-alone runs of the study and whether each finished. */
export const GET: RequestHandler = apiRoute(async (event) => {
	const { study } = await apiStudy(event, 'study.view');
	return jsonNoStore({ runs: await benchmarkRuns(event.locals.app.database.db, study) });
});
