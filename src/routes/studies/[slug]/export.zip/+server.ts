import { errorFor } from '$lib/server/http-errors';
import { error } from '@sveltejs/kit';
import { requireStudyAccess } from '$lib/server/auth/guard';
import { studyExport } from '$lib/server/export/export.service';
import { exportZipStream } from '$lib/server/export/writers';
import type { RequestHandler } from './$types';

/**
 * The study export as a zip, streamed. `?free_text=0` leaves out free text; `?scrub=1` scrubs it;
 * `?raw=1` leaves text cells as stored (no spreadsheet-formula protection).
 */
export const GET: RequestHandler = async (event) => {
	const { study, user } = await requireStudyAccess(event, event.params.slug, 'study.export');
	const flag = (name: string, fallback: boolean) => {
		const v = event.url.searchParams.get(name);
		if (v === null) return fallback;
		if (v !== '0' && v !== '1') error(400, `${name} must be 0 or 1`);
		return v === '1';
	};
	const options = {
		freeText: flag('free_text', true),
		scrub: flag('scrub', false),
		raw: flag('raw', false)
	};
	try {
		const handle = await studyExport(event.locals.app.database.db, study.slug, options, {
			kind: 'user',
			id: user.id
		});
		const stamp = new Date().toISOString().slice(0, 10);
		return new Response(exportZipStream(handle), {
			headers: {
				'content-type': 'application/zip',
				'content-disposition': `attachment; filename="${study.slug}-export-${stamp}.zip"`,
				'cache-control': 'no-store'
			}
		});
	} catch (e) {
		errorFor(e);
	}
};
