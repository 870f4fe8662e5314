import { error, fail, redirect, type Cookies } from '@sveltejs/kit';
import {
	consent,
	finishReading,
	participantFromToken,
	readyToDecide,
	resumeByExternalId,
	externalIdOf,
	StudyNotOpenError,
	submitAttention,
	submitDecision,
	submitEndQuestionnaire,
	submitEpisodeQuestionnaire,
	submitScreening,
	withdraw
} from '$lib/server/participants/journey.service';
import { participantView, protocolOf } from '$lib/server/participants/participant-view';
import { ChatRefusedError, sendChatMessage } from '$lib/server/assistant/chat.service';
import { RunningConfigError, runningConfig } from '$lib/server/prereg/prereg.service';
import { findStudyBySlug } from '$lib/server/studies/studies.repository';
import { ValidationError } from '$lib/server/validation/problems';
import type { Actions, PageServerLoad, RequestEvent } from './$types';

const COOKIE = 'bedside_participant';

function setParticipantCookie(cookies: Cookies, slug: string, token: string, secure: boolean) {
	cookies.set(COOKIE, token, {
		path: `/s/${slug}`,
		httpOnly: true,
		sameSite: 'lax',
		secure,
		maxAge: 60 * 60 * 24 * 30
	});
}

async function studyOr404(event: RequestEvent) {
	const study = await findStudyBySlug(event.locals.app.database.db, event.params.slug);
	if (!study || study.status === 'draft') error(404, 'This study does not exist.');
	return study;
}

export const load: PageServerLoad = async (event) => {
	const db = event.locals.app.database.db;
	const study = await studyOr404(event);
	let participant = await participantFromToken(db, study.id, event.cookies.get(COOKIE));
	const externalId = externalIdOf(event.url.searchParams);
	if (!participant && externalId) {
		const resumed = await resumeByExternalId(db, study.id, study.slug, externalId);
		if (resumed) {
			participant = resumed.participant;
			setParticipantCookie(
				event.cookies,
				study.slug,
				resumed.token!,
				event.url.protocol === 'https:'
			);
		}
	}
	if (!participant) {
		if (study.status !== 'recruiting')
			return { view: { kind: 'closed' as const }, entry: '', slug: study.slug, participant: false };
		const { protocol: running } = await runningConfig(db, study.slug).catch((e) => {
			if (e instanceof RunningConfigError) error(503, 'This study is not available right now.');
			throw e;
		});
		return {
			view: { kind: 'consent' as const, title: running.title, consentText: running.consent.text },
			entry: event.url.search,
			slug: study.slug,
			participant: false
		};
	}
	const protocol = await protocolOf(db, participant);
	return {
		view: await participantView(db, protocol, participant),
		entry: '',
		slug: study.slug,
		participant: true
	};
};

/** The participant behind the cookie, or a 403 (their session ended or never began). */
async function me(event: RequestEvent) {
	const study = await studyOr404(event);
	const participant = await participantFromToken(
		event.locals.app.database.db,
		study.id,
		event.cookies.get(COOKIE)
	);
	if (!participant) error(403, 'Your session has ended. Open the study link again to continue.');
	return {
		study,
		participant,
		protocol: await protocolOf(event.locals.app.database.db, participant)
	};
}

function fields(form: FormData): Record<string, string> {
	return Object.fromEntries(
		[...form.entries()].filter(([, v]) => typeof v === 'string').map(([k, v]) => [k, String(v)])
	);
}

/** Runs a step and redirects to the page again (reload-safe); refused input comes back with what was typed. */
async function step(event: RequestEvent, work: (form: FormData) => Promise<void>) {
	const form = await event.request.formData();
	try {
		await work(form);
	} catch (e) {
		if (e instanceof ValidationError)
			return fail(400, {
				problems: e.problems.map(({ path, message }) => ({ path, message })),
				values: fields(form)
			});
		if (e instanceof ChatRefusedError)
			return fail(409, { problems: [{ path: '', message: e.message }], values: fields(form) });
		if (e instanceof StudyNotOpenError)
			return fail(409, {
				problems: [
					{
						path: '',
						message:
							'This study is not taking new participants at the moment. Thank you for your interest.'
					}
				],
				values: {}
			});
		throw e;
	}
	redirect(303, `/s/${event.params.slug}`);
}

const episodeOf = (form: FormData) => Number(form.get('episode'));

export const actions: Actions = {
	consent: (event) =>
		step(event, async (form) => {
			const db = event.locals.app.database.db;
			const study = await studyOr404(event);
			const existing = await participantFromToken(db, study.id, event.cookies.get(COOKIE));
			const params = new URLSearchParams(String(form.get('entry') ?? ''));
			const session = await consent(db, study.slug, {
				participantId: existing?.id,
				agree: form.get('agree') === 'yes',
				params
			});
			if (session.token)
				setParticipantCookie(
					event.cookies,
					study.slug,
					session.token,
					event.url.protocol === 'https:'
				);
		}),
	screening: (event) =>
		step(event, async (form) => {
			const { study, participant } = await me(event);
			await submitScreening(event.locals.app.database.db, study.slug, participant.id, fields(form));
		}),
	read: (event) =>
		step(event, async (form) => {
			const { participant } = await me(event);
			await finishReading(event.locals.app.database.db, participant.id, episodeOf(form));
		}),
	/** The chat without JavaScript: the reply is awaited, then the page shows the conversation. */
	chat: (event) =>
		step(event, async (form) => {
			const { participant } = await me(event);
			const text = form.get('text');
			await sendChatMessage(
				event.locals.app.database.db,
				{ llm: event.locals.app.config.llm },
				{
					participantId: participant.id,
					episode: episodeOf(form),
					text: typeof text === 'string' && text.length > 0 ? text : undefined
				},
				() => {}
			);
		}),
	ready: (event) =>
		step(event, async (form) => {
			const { participant } = await me(event);
			await readyToDecide(event.locals.app.database.db, participant.id, episodeOf(form));
		}),
	decide: (event) =>
		step(event, async (form) => {
			const { participant, protocol } = await me(event);
			const conditions = form.getAll('conditions').map(String);
			await submitDecision(
				event.locals.app.database.db,
				protocol,
				participant.id,
				episodeOf(form),
				{ disposition: String(form.get('disposition') ?? ''), conditions }
			);
		}),
	questionnaire: (event) =>
		step(event, async (form) => {
			const { participant, protocol } = await me(event);
			await submitEpisodeQuestionnaire(
				event.locals.app.database.db,
				protocol,
				participant.id,
				episodeOf(form),
				fields(form)
			);
		}),
	attention: (event) =>
		step(event, async (form) => {
			const { participant, protocol } = await me(event);
			await submitAttention(event.locals.app.database.db, protocol, participant.id, fields(form));
		}),
	end: (event) =>
		step(event, async (form) => {
			const { participant, protocol } = await me(event);
			await submitEndQuestionnaire(
				event.locals.app.database.db,
				protocol,
				participant.id,
				fields(form)
			);
		}),
	withdraw: (event) =>
		step(event, async () => {
			const { participant } = await me(event);
			await withdraw(event.locals.app.database.db, participant.id);
		})
};
