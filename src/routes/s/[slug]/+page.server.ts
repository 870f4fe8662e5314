import { error, fail, redirect, type Cookies } from '@sveltejs/kit';
import {
	consent,
	finishReading,
	PanelIdRequiredError,
	requiresPanelId,
	readyToDecide,
	submitInitialDecision,
	ResumeRequiredError,
	submitAttention,
	submitDecision,
	submitEndQuestionnaire,
	submitEpisodeQuestionnaire,
	submitScreening,
	withdraw
} from '$lib/server/participants/journey.service';
import {
	CONSENT_NONCE_COOKIE,
	consentNonce,
	recoverConsentSession,
	externalIdOf,
	PARTICIPANT_COOKIE,
	resolveEntry,
	studyAtLink,
	resumeCodeOf,
	resumeWithCode
} from '$lib/server/participants/entry.service';
import { participantContext } from '$lib/server/participants/context';
import { participantView, protocolOf } from '$lib/server/participants/participant-view';
import { sendChatMessage } from '$lib/server/assistant/chat.service';
import { RunningConfigError, runningConfig } from '$lib/server/prereg/prereg.service';
import { failFor } from '$lib/server/http-errors';
import type { Actions, PageServerLoad, RequestEvent } from './$types';

function setParticipantCookie(event: RequestEvent, token: string) {
	event.cookies.set(PARTICIPANT_COOKIE, token, {
		path: `/s/${event.params.slug}`,
		httpOnly: true,
		sameSite: 'lax',
		secure: event.url.protocol === 'https:',
		maxAge: 60 * 60 * 24 * 30
	});
}

function forgetParticipantCookie(cookies: Cookies, slug: string) {
	cookies.delete(PARTICIPANT_COOKIE, { path: `/s/${slug}` });
}

async function studyOr404(event: RequestEvent) {
	const study = await studyAtLink(event.locals.app.database.db, event.params.slug);
	if (!study) error(404, 'This study does not exist.');
	return study;
}

const FINISHED_VIEWS = ['complete', 'declined', 'ineligible', 'withdrawn'];

export const load: PageServerLoad = async (event) => {
	const db = event.locals.app.database.db;
	// Participant pages are personal: never kept by a shared computer's cache or a proxy.
	event.setHeaders({ 'cache-control': 'no-store' });
	// A participant's own page, the common case: the study and the participant in one query.
	const context = await participantContext(
		db,
		event.params.slug,
		event.cookies.get(PARTICIPANT_COOKIE)
	);
	const study = context?.study ?? (await studyOr404(event));
	if (!event.cookies.get(PARTICIPANT_COOKIE)) {
		const recovered = await recoverConsentSession(
			db,
			study,
			event.cookies.get(CONSENT_NONCE_COOKIE)
		);
		if (recovered) {
			setParticipantCookie(event, recovered);
			event.cookies.delete(CONSENT_NONCE_COOKIE, { path: `/s/${study.slug}` });
		}
	}
	const entry = await resolveEntry(db, study, {
		token: event.cookies.get(PARTICIPANT_COOKIE),
		externalId: externalIdOf(event.url.searchParams),
		own: context?.participant
	});
	const base = { slug: study.slug, entry: '', nonce: '', resumeCode: null, test: false };
	if (entry.kind === 'participant') {
		const protocol = context?.protocol ?? (await protocolOf(db, entry.participant));
		const view = await participantView(db, protocol, entry.participant);
		return {
			...base,
			view,
			participant: true,
			test: entry.participant.isTest,
			resumeCode: FINISHED_VIEWS.includes(view.kind)
				? null
				: await resumeCodeOf(db, entry.participant.id)
		};
	}
	if (entry.kind !== 'moved' && entry.forgetCookie)
		forgetParticipantCookie(event.cookies, study.slug);
	if (entry.kind === 'moved')
		return { ...base, view: { kind: 'moved' as const }, participant: false };
	if (entry.kind === 'resume')
		return {
			...base,
			view: { kind: 'resume' as const, finished: entry.finished },
			entry: event.url.search,
			participant: false
		};
	if (study.status !== 'recruiting')
		return { ...base, view: { kind: 'closed' as const }, participant: false };
	const { protocol: running } = await runningConfig(db, study.slug).catch((e) => {
		if (e instanceof RunningConfigError) error(503, 'This study is not available right now.');
		throw e;
	});
	if (requiresPanelId(running) && !externalIdOf(event.url.searchParams))
		return {
			...base,
			view: { kind: 'no_panel_id' as const, message: new PanelIdRequiredError().message },
			participant: false
		};
	const nonce = event.cookies.get(CONSENT_NONCE_COOKIE) ?? consentNonce();
	event.cookies.set(CONSENT_NONCE_COOKIE, nonce, {
		path: `/s/${study.slug}`,
		httpOnly: true,
		sameSite: 'lax',
		secure: event.url.protocol === 'https:',
		maxAge: 60 * 60 * 24
	});
	return {
		...base,
		view: { kind: 'consent' as const, title: running.title, consentText: running.consent.text },
		entry: event.url.search,
		nonce,
		participant: false
	};
};

/**
 * The participant behind the cookie. A browser without one (its session moved to another device,
 * or ended) is sent back to the study page, which says what happened and what to do.
 */
async function me(event: RequestEvent) {
	const context = await participantContext(
		event.locals.app.database.db,
		event.params.slug,
		event.cookies.get(PARTICIPANT_COOKIE)
	);
	if (!context) redirect(303, `/s/${event.params.slug}`);
	return context;
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
		return failFor(e, { values: fields(form), confirmWithdraw: false });
	}
	redirect(303, `/s/${event.params.slug}`);
}

const episodeOf = (form: FormData) => Number(form.get('episode'));
const entryOf = (form: FormData) => {
	const entry = String(form.get('entry') ?? '');
	return entry.startsWith('?') ? entry : '';
};

export const actions: Actions = {
	consent: (event) =>
		step(event, async (form) => {
			const db = event.locals.app.database.db;
			const study = await studyOr404(event);
			const entry = entryOf(form);
			const params = new URLSearchParams(entry);
			const resolved = await resolveEntry(db, study, {
				token: event.cookies.get(PARTICIPANT_COOKIE),
				externalId: externalIdOf(params)
			});
			// Already in (a second click), moved elsewhere, or someone else's id: the page says what next.
			if (resolved.kind === 'participant' || resolved.kind === 'moved') return;
			if (resolved.kind === 'resume') redirect(303, `/s/${study.slug}${entry}`);
			try {
				const session = await consent(db, study.slug, {
					agree: form.get('agree') === 'yes',
					params,
					nonce:
						event.cookies.get(CONSENT_NONCE_COOKIE) ?? (String(form.get('nonce') ?? '') || null),
					throttle: {
						address: event.getClientAddress(),
						max: event.locals.app.config.enrolmentsPerAddress
					}
				});
				if (session.token) {
					setParticipantCookie(event, session.token);
					event.cookies.delete(CONSENT_NONCE_COOKIE, { path: `/s/${study.slug}` });
				}
			} catch (e) {
				if (e instanceof ResumeRequiredError) redirect(303, `/s/${study.slug}${entry}`);
				throw e;
			}
		}),
	/** Continue on this device with the resume code given at consent. */
	resume: (event) =>
		step(event, async (form) => {
			const db = event.locals.app.database.db;
			const study = await studyOr404(event);
			const { token } = await resumeWithCode(db, study, {
				code: String(form.get('code') ?? ''),
				externalId: externalIdOf(new URLSearchParams(entryOf(form))),
				address: event.getClientAddress()
			});
			setParticipantCookie(event, token);
		}),
	screening: (event) =>
		step(event, async (form) => {
			const context = await me(event);
			await submitScreening(
				event.locals.app.database.db,
				context.study.slug,
				context.participant.id,
				fields(form),
				new Date(),
				context
			);
		}),
	read: (event) =>
		step(event, async (form) => {
			const { participant } = await me(event);
			await finishReading(event.locals.app.database.db, participant.id, episodeOf(form));
		}),
	/** The decision before the advice, when the protocol asks for one. */
	initial: (event) =>
		step(event, async (form) => {
			const { participant, protocol } = await me(event);
			await submitInitialDecision(
				event.locals.app.database.db,
				protocol,
				participant.id,
				episodeOf(form),
				{ disposition: String(form.get('disposition') ?? '') }
			);
		}),
	/** The chat without JavaScript: the reply is awaited, then the page shows the conversation. */
	chat: (event) =>
		step(event, async (form) => {
			const { participant } = await me(event);
			const text = form.get('text');
			// The same admission as the streaming endpoint; refused as busy, the page shows the
			// message again with the text still in the box.
			const leave = await event.locals.app.chatAdmission.enter();
			try {
				await sendChatMessage(
					event.locals.app.database.db,
					{ llm: event.locals.app.config.llm },
					{
						participantId: participant.id,
						episode: episodeOf(form),
						text: typeof text === 'string' && text.length > 0 ? text : undefined
					},
					(e) => {
						if (e.type === 'accepted') leave();
					}
				);
			} finally {
				leave();
			}
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
	/** Leaving is final, so it is asked twice: the first post shows the question, works without JS. */
	withdraw: async (event) => {
		const form = await event.request.formData();
		const { participant } = await me(event);
		if (form.get('confirm') !== 'yes')
			return fail(400, { problems: [], values: {}, confirmWithdraw: true });
		await withdraw(event.locals.app.database.db, participant.id);
		redirect(303, `/s/${event.params.slug}`);
	},
	/** A shared computer: forget this browser's session so the next person starts afresh. */
	forget: async (event) => {
		forgetParticipantCookie(event.cookies, event.params.slug);
		redirect(303, `/s/${event.params.slug}`);
	}
};
