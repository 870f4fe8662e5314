import { requireStudyAccess } from '$lib/server/auth/guard';
import { matchPanelIds, panelMatchCsv } from '$lib/server/participants/panel-match.service';
import { failFor } from '$lib/server/http-errors';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
	const { study } = await requireStudyAccess(event, event.params.slug, 'study.panel');
	return { study: { slug: study.slug, title: study.title } };
};

export const actions: Actions = {
	default: async (event) => {
		const { study, user } = await requireStudyAccess(event, event.params.slug, 'study.panel');
		const text = String((await event.request.formData()).get('ids') ?? '');
		try {
			const matches = await matchPanelIds(event.locals.app.database.db, study.slug, text, {
				kind: 'user',
				id: user.id
			});
			return { matches, csv: panelMatchCsv(matches) };
		} catch (e) {
			return failFor(e, { text });
		}
	}
};
