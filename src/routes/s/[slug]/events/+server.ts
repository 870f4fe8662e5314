import { error, json } from '@sveltejs/kit';
import { participantContext } from '$lib/server/participants/context';
import { PARTICIPANT_COOKIE } from '$lib/server/participants/entry.service';
import { recordEvents } from '$lib/server/participants/journey.service';
import type { RequestHandler } from './$types';

/** Telemetry from the participant's page: step views and tab/visibility changes, as a JSON list. */
export const POST: RequestHandler = async ({ request, params, cookies, locals, url }) => {
	// JSON posts are outside SvelteKit's form CSRF check: require our own origin explicitly.
	if (request.headers.get('origin') !== url.origin) error(403, 'Cross-site request refused');
	const db = locals.app.database.db;
	const context = await participantContext(db, params.slug, cookies.get(PARTICIPANT_COOKIE));
	if (!context) error(403, 'No participant session');
	const { participant } = context;
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
