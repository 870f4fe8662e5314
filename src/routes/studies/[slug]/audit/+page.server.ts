import { error } from '@sveltejs/kit';
import { requireStudyAccess } from '$lib/server/auth/guard';
import { auditLog } from '$lib/server/monitoring/monitoring.service';
import type { PageServerLoad } from './$types';

const PAGE = 100;

/** The study's audit log for its owners, newest first, 100 at a time (`?before=<id>`). */
export const load: PageServerLoad = async (event) => {
	const { study } = await requireStudyAccess(event, event.params.slug, 'study.audit');
	const raw = event.url.searchParams.get('before');
	const before = raw === null ? undefined : Number(raw);
	if (before !== undefined && (!Number.isInteger(before) || before < 1))
		error(400, 'before must be an event number');
	const events = await auditLog(event.locals.app.database.db, study.id, PAGE + 1, before);
	return {
		study: { slug: study.slug, title: study.title },
		events: events
			.slice(0, PAGE)
			.map((e) => ({ ...e, at: e.at.toISOString(), details: JSON.stringify(e.details) })),
		older: events.length > PAGE ? events[PAGE - 1]!.id : null
	};
};
