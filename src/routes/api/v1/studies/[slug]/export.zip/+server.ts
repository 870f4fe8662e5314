import { ApiError, apiRoute, apiStudy } from '$lib/server/api/api-handler';
import { studyExport } from '$lib/server/export/export.service';
import { exportZipStream } from '$lib/server/export/writers';
import type { RequestHandler } from './$types';

/** The export (docs/export-format.md) as a zip, streamed; the same options as the page's. */
export const GET: RequestHandler = apiRoute(async (event) => {
	const { study, actor } = await apiStudy(event, 'study.export');
	const flag = (name: string, fallback: boolean) => {
		const v = event.url.searchParams.get(name);
		if (v === null) return fallback;
		if (v !== '0' && v !== '1') throw new ApiError(400, `${name} must be 0 or 1`);
		return v === '1';
	};
	const options = {
		freeText: flag('free_text', true),
		scrub: flag('scrub', false),
		raw: flag('raw', false)
	};
	const handle = await studyExport(event.locals.app.database.db, study.slug, options, actor);
	const stamp = new Date().toISOString().slice(0, 10);
	return new Response(exportZipStream(handle), {
		headers: {
			'content-type': 'application/zip',
			'content-disposition': `attachment; filename="${study.slug}-export-${stamp}.zip"`,
			'cache-control': 'no-store'
		}
	});
});
