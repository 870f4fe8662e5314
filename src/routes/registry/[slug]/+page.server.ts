import { error } from '@sveltejs/kit';
import { preregistrationMarkdown } from '$lib/server/prereg/prereg-markdown';
import { preregistrationDocument } from '$lib/server/prereg/prereg.service';
import { isPublicStatus } from '$lib/server/registry/registry.service';
import { findStudyBySlug } from '$lib/server/studies/studies.repository';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, params }) => {
	const db = locals.app.database.db;
	const study = await findStudyBySlug(db, params.slug);
	// A draft is answered like a study that does not exist.
	if (!study || !isPublicStatus(study.status)) error(404, 'No such preregistered study');
	const doc = await preregistrationDocument(db, params.slug);
	return {
		slug: study.slug,
		title: study.title,
		markdown: preregistrationMarkdown(doc, { concealAnswerKey: study.status !== 'closed' }),
		registrations: doc.registrations
	};
};
