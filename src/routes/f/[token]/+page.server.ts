import { redirect } from '@sveltejs/kit';
import { followUpView, submitFollowUp } from '$lib/server/follow-ups/follow-ups.service';
import { failFor } from '$lib/server/http-errors';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
	// A personal link: never kept by a shared computer's cache or a proxy, never sent on as referrer.
	event.setHeaders({ 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
	return { view: await followUpView(event.locals.app.database.db, event.params.token) };
};

export const actions: Actions = {
	default: async (event) => {
		const form = await event.request.formData();
		const raw: Record<string, string> = {};
		for (const [k, v] of form) if (typeof v === 'string') raw[k] = v;
		try {
			await submitFollowUp(event.locals.app.database.db, event.params.token, raw);
		} catch (e) {
			return failFor(e, { answers: raw });
		}
		// Post, then redirect: a reload shows the thanks, and never sends the answers again.
		redirect(303, event.url.pathname);
	}
};
