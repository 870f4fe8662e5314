import { apiRoute, apiStudy, jsonNoStore } from '$lib/server/api/api-handler';
import { studyMonitoring } from '$lib/server/api/study-api.service';
import type { RequestHandler } from './$types';

/** Enrollment so far: the CONSORT counts, per arm and stratum, follow-up answers. */
export const GET: RequestHandler = apiRoute(async (event) => {
	const { study } = await apiStudy(event, 'study.view');
	return jsonNoStore(await studyMonitoring(event.locals.app.database.db, study));
});
