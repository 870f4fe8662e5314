import { failFor } from '$lib/server/http-errors';
import { error, redirect } from '@sveltejs/kit';
import { requireStudyAccess } from '$lib/server/auth/guard';
import {
	codingQueue,
	conversationToRead,
	recordPersonCoding
} from '$lib/server/coding/person-coding.service';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
	const { study, user } = await requireStudyAccess(event, event.params.slug, 'study.code');
	const conversation = await conversationToRead(
		event.locals.app.database.db,
		study.slug,
		event.params.episode,
		user.id
	);
	if (!conversation) error(404, 'No such conversation in this study');
	return { study: { slug: study.slug, title: study.title }, conversation };
};

export const actions: Actions = {
	default: async (event) => {
		const { study, user } = await requireStudyAccess(event, event.params.slug, 'study.code');
		const form = await event.request.formData();
		const db = event.locals.app.database.db;
		try {
			await recordPersonCoding(db, study.slug, event.params.episode, user.id, {
				disposition: String(form.get('disposition') ?? ''),
				conditions: form.getAll('conditions').map(String),
				note: String(form.get('note') ?? '')
			});
		} catch (e) {
			return failFor(e);
		}
		const next = (await codingQueue(db, study.slug, user.id)).toCode[0];
		redirect(
			303,
			next ? `/studies/${study.slug}/coding/${next.episodeId}` : `/studies/${study.slug}/coding`
		);
	}
};
