import { fail } from '@sveltejs/kit';
import { requireStudyAccess } from '$lib/server/auth/guard';
import { failFor } from '$lib/server/http-errors';
import {
	PanelNotConfiguredError,
	performPanelAction,
	reviewPanel,
	saveProlificStudyId
} from '$lib/server/panel/panel-actions.service';
import { prolificStudyIdOf } from '$lib/server/panel/panel.repository';
import { ProlificClient, ProlificError } from '$lib/server/panel/prolific-client';
import { matchPanelIds, panelMatchCsv } from '$lib/server/participants/panel-match.service';
import type { Actions, PageServerLoad, RequestEvent } from './$types';

const ACTIONS = ['approve', 'reject', 'screen_out', 'bonus'] as const;

function prolificOf(event: RequestEvent): ProlificClient | null {
	const p = event.locals.app.config.prolific;
	return p ? new ProlificClient(p.baseUrl, p.token) : null;
}

/** The panel's failures and a missing setting are shown on the page, never a 500. */
function panelFailure(e: unknown) {
	if (e instanceof ProlificError || e instanceof PanelNotConfiguredError)
		return fail(e instanceof ProlificError ? 502 : 409, {
			problems: [{ path: 'prolific', message: e.message }]
		});
	return failFor(e);
}

export const load: PageServerLoad = async (event) => {
	const { study } = await requireStudyAccess(event, event.params.slug, 'study.panel');
	return {
		study: { slug: study.slug, title: study.title },
		prolific: event.locals.app.config.prolific !== null,
		prolificStudyId: await prolificStudyIdOf(event.locals.app.database.db, study.id)
	};
};

export const actions: Actions = {
	match: async (event) => {
		const { study, user } = await requireStudyAccess(event, event.params.slug, 'study.panel');
		const text = String((await event.request.formData()).get('ids') ?? '');
		try {
			const matches = await matchPanelIds(event.locals.app.database.db, study.slug, text, {
				kind: 'user',
				id: user.id
			});
			return { matches, csv: panelMatchCsv(matches, event.url.origin) };
		} catch (e) {
			return failFor(e, { text });
		}
	},
	prolificStudy: async (event) => {
		const { study, user } = await requireStudyAccess(event, event.params.slug, 'study.panel');
		const id = String((await event.request.formData()).get('prolific_study_id') ?? '');
		try {
			await saveProlificStudyId(event.locals.app.database.db, study.slug, id, {
				kind: 'user',
				id: user.id
			});
			return { saved: true };
		} catch (e) {
			return failFor(e);
		}
	},
	review: async (event) => {
		const { study } = await requireStudyAccess(event, event.params.slug, 'study.panel');
		const client = prolificOf(event);
		if (!client)
			return fail(409, { problems: [{ path: 'prolific', message: 'no Prolific token' }] });
		try {
			return { review: await reviewPanel(event.locals.app.database.db, study.slug, client) };
		} catch (e) {
			return panelFailure(e);
		}
	},
	act: async (event) => {
		const { study, user } = await requireStudyAccess(event, event.params.slug, 'study.panel');
		const client = prolificOf(event);
		if (!client)
			return fail(409, { problems: [{ path: 'prolific', message: 'no Prolific token' }] });
		const action = String((await event.request.formData()).get('action') ?? '');
		if (!(ACTIONS as readonly string[]).includes(action))
			return fail(400, { problems: [{ path: 'action', message: `unknown action "${action}"` }] });
		const db = event.locals.app.database.db;
		try {
			const result = await performPanelAction(
				db,
				study.slug,
				action as (typeof ACTIONS)[number],
				client,
				{ kind: 'user', id: user.id }
			);
			return { result, review: await reviewPanel(db, study.slug, client).catch(() => null) };
		} catch (e) {
			return panelFailure(e);
		}
	}
};
