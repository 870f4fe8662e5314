import { errorFor } from '$lib/server/http-errors';
import { requireStudyAccess } from '$lib/server/auth/guard';
import { preregistrationMarkdown } from '$lib/server/prereg/prereg-markdown';
import { preregistrationDocument } from '$lib/server/prereg/prereg.service';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async (event) => {
	await requireStudyAccess(event, event.params.slug, 'study.view');
	const doc = await preregistrationDocument(event.locals.app.database.db, event.params.slug).catch(
		(e) => errorFor(e)
	);
	return new Response(preregistrationMarkdown(doc), {
		headers: {
			'content-type': 'text/markdown; charset=utf-8',
			'content-disposition': `attachment; filename="${event.params.slug}-preregistration.md"`
		}
	});
};
