import { redirect } from '@sveltejs/kit';
import { followUpPathForPanelId } from '$lib/server/follow-ups/follow-ups.service';
import { externalIdOf } from '$lib/server/participants/entry.service';
import type { PageServerLoad } from './$types';

// The one address a panel's follow-up study sends everyone to, with their panel id: it leads each
// person to their own follow-up link.
export const load: PageServerLoad = async (event) => {
	event.setHeaders({ 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
	const panelId = externalIdOf(event.url.searchParams);
	const path = panelId
		? await followUpPathForPanelId(
				event.locals.app.database.db,
				event.params.slug,
				event.params.id,
				panelId
			)
		: null;
	if (path) redirect(303, path);
	return { found: false, hadPanelId: panelId !== null };
};
