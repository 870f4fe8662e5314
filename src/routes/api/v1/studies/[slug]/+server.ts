import { apiRoute, apiStudy, jsonNoStore } from '$lib/server/api/api-handler';
import { studyStatus } from '$lib/server/api/study-api.service';
import type { RequestHandler } from './$types';

/** The study's state: status, protocol version, preregistrations, deviations so far. */
export const GET: RequestHandler = apiRoute(async (event) => {
	const { study } = await apiStudy(event, 'study.view');
	return jsonNoStore(await studyStatus(event.locals.app.database.db, study));
});
