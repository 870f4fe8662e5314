import { errorFor } from '$lib/server/http-errors';
import { json } from '@sveltejs/kit';
import { requireStudyAccess } from '$lib/server/auth/guard';
import { preregistrationDocument } from '$lib/server/prereg/prereg.service';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async (event) => {
	await requireStudyAccess(event, event.params.slug, 'study.view');
	const doc = await preregistrationDocument(event.locals.app.database.db, event.params.slug).catch(
		(e) => errorFor(e)
	);
	return json(doc, {
		headers: {
			'content-disposition': `attachment; filename="${event.params.slug}-preregistration.json"`
		}
	});
};
