import { error, json } from '@sveltejs/kit';
import { participantFromToken, recordEvents } from '$lib/server/participants/journey.service';
import { findStudyBySlug } from '$lib/server/studies/studies.repository';
import type { RequestHandler } from './$types';

/** Telemetry from the participant's page: step views and tab/visibility changes, as a JSON list. */
export const POST: RequestHandler = async ({ request, params, cookies, locals }) => {
	const db = locals.app.database.db;
	const study = await findStudyBySlug(db, params.slug);
	const participant =
		study && (await participantFromToken(db, study.id, cookies.get('bedside_participant')));
	if (!participant) error(403, 'No participant session');
	const text = await request.text();
	if (text.length > 64_000) error(413, 'Too many events at once');
	let events: unknown;
	try {
		events = JSON.parse(text);
	} catch {
		error(400, 'Events must be a JSON list');
	}
	if (!Array.isArray(events)) error(400, 'Events must be a JSON list');
	const valid = events.filter(
		(
			e
		): e is {
			kind: string;
			episode: number | null;
			at: string;
			detail?: Record<string, unknown>;
		} =>
			typeof e === 'object' && e !== null && typeof e.kind === 'string' && typeof e.at === 'string'
	);
	return json({ stored: await recordEvents(db, participant.id, valid) });
};
