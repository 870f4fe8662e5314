import { error } from '@sveltejs/kit';
import { preregistrationMarkdown } from '$lib/server/prereg/prereg-markdown';
import { preregistrationDocument } from '$lib/server/prereg/prereg.service';
import { isPublicStatus } from '$lib/server/registry/registry.service';
import { findStudyBySlug } from '$lib/server/studies/studies.repository';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async ({ locals, params }) => {
	const db = locals.app.database.db;
	const study = await findStudyBySlug(db, params.slug);
	if (!study || !isPublicStatus(study.status)) error(404, 'No such preregistered study');
	const doc = await preregistrationDocument(db, params.slug);
	const markdown = preregistrationMarkdown(doc, { concealAnswerKey: study.status !== 'closed' });
	return new Response(markdown, {
		headers: { 'content-type': 'text/markdown; charset=utf-8' }
	});
};
