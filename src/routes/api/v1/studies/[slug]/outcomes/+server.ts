import { ApiError, apiRoute, apiStudy, jsonNoStore } from '$lib/server/api/api-handler';
import { importOutcomes, MAX_IMPORT_BYTES } from '$lib/server/outcomes/outcome-import.service';
import type { RequestHandler } from './$types';

/** Imports outcomes from a CSV body (docs/export-and-outcomes.md): every row or none; audited. */
export const POST: RequestHandler = apiRoute(async (event) => {
	const { study, actor } = await apiStudy(event, 'study.import');
	const type = event.request.headers.get('content-type') ?? '';
	if (!/^text\/csv\b/i.test(type))
		throw new ApiError(415, 'send the outcomes as a CSV body with Content-Type: text/csv');
	const length = Number(event.request.headers.get('content-length') ?? '0');
	if (length > MAX_IMPORT_BYTES)
		throw new ApiError(413, `the file is larger than ${MAX_IMPORT_BYTES / 1024 / 1024} MB`);
	const text = await event.request.text();
	const result = await importOutcomes(event.locals.app.database.db, study.slug, text, actor);
	return jsonNoStore(
		{ imported: result.imported, measures: result.measures, sha256: result.sha256 },
		201
	);
});
