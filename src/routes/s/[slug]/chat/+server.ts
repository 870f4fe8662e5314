import { problemsOf, statusOf } from '$lib/server/http-errors';
import { error, json } from '@sveltejs/kit';
import { ChatRefusedError, sendChatMessage } from '$lib/server/assistant/chat.service';
import { chatEventStream } from '$lib/server/assistant/chat-stream';
import { ChatBusyError } from '$lib/server/assistant/admission';
import { participantContext } from '$lib/server/participants/context';
import { PARTICIPANT_COOKIE } from '$lib/server/participants/entry.service';
import type { RequestHandler } from './$types';

/**
 * A participant's chat message, answered as a stream of server-sent events (accepted, safety,
 * delta, reset, reply, failed). Refusals come back before the stream as JSON with a status. The
 * reply is stored even if the page goes away mid-stream.
 */
export const POST: RequestHandler = async ({ request, params, cookies, locals, url }) => {
	// JSON posts are outside SvelteKit's form CSRF check: require our own origin explicitly.
	if (request.headers.get('origin') !== url.origin) error(403, 'Cross-site request refused');
	const db = locals.app.database.db;
	const context = await participantContext(db, params.slug, cookies.get(PARTICIPANT_COOKIE));
	if (!context) error(403, 'Your session has ended. Open the study link again to continue.');
	const { participant } = context;
	const raw = await request.text();
	if (raw.length > 20_000) error(413, 'The message is too long');
	let body: { episode?: unknown; text?: unknown };
	try {
		body = JSON.parse(raw);
	} catch {
		error(400, 'The request must be JSON');
	}
	if (typeof body !== 'object' || body === null || !Number.isInteger(body.episode))
		error(400, 'episode must be a whole number');
	if (body.text !== undefined && typeof body.text !== 'string') error(400, 'text must be a string');

	// The page may go away mid-stream; the reply is still generated and stored.
	const events = chatEventStream();
	// Admission: a bounded queue per worker; when it is full the message is refused before anything
	// is stored (503, "busy"), and the page sends it again after Retry-After.
	let leave: () => void;
	try {
		leave = await locals.app.chatAdmission.enter();
	} catch (e) {
		if (!(e instanceof ChatBusyError)) throw e;
		return json(
			{ code: 'busy', message: e.message, retryAfterSeconds: e.retryAfterSeconds },
			{ status: 503, headers: { 'retry-after': String(e.retryAfterSeconds) } }
		);
	}
	let started: () => void = () => {};
	const firstEvent = new Promise<void>((resolve) => (started = resolve));
	// The slot is held while the message is stored and the reply claimed (the first event), not
	// while the model streams.
	void firstEvent.then(() => leave());
	const work = sendChatMessage(
		db,
		{ llm: locals.app.config.llm },
		{
			participantId: participant.id,
			episode: body.episode as number,
			text: body.text as string | undefined
		},
		(e) => {
			started();
			events.write(e);
		}
	);
	work.then(
		() => leave(),
		() => leave()
	);
	try {
		await Promise.race([firstEvent, work]);
	} catch (e) {
		const status = statusOf(e);
		if (status === undefined) throw e;
		const code = e instanceof ChatRefusedError ? e.code : 'invalid';
		return json({ code, problems: problemsOf(e as Error) }, { status });
	}
	work.then(
		() => events.close(),
		(e: unknown) => {
			console.error(e);
			events.write({
				type: 'failed',
				message: 'Something went wrong on our side. Please try again.'
			});
			events.close();
		}
	);
	return new Response(events.body, {
		headers: {
			'content-type': 'text/event-stream; charset=utf-8',
			'cache-control': 'no-cache, no-transform',
			'x-accel-buffering': 'no'
		}
	});
};
