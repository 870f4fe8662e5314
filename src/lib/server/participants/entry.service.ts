import { createHash, createHmac } from 'node:crypto';
import { encodeBase32LowerCaseNoPadding } from '@oslojs/encoding';
import { generateSessionToken, sessionIdOf } from '../auth/tokens.ts';
import type { Queryable } from '../db/types.ts';
import { instanceSecret } from '../secrets.repository.ts';
import { findStudyBySlug, type StudySummary } from '../studies/studies.repository.ts';
import { addressSubject, admit, type Limit } from '../throttle/throttle.service.ts';
import { ValidationError } from '../validation/problems.ts';
import {
	findByExternalHash,
	findByResumeCodeHash,
	findBySessionHash,
	insertEvents,
	setSessionHash,
	type ParticipantRow
} from './participants.repository.ts';

// Who is at the study link, and what they may see. The promises (README, "One person, one
// participant"):
// - the same panel id is always the same participant, so nobody is enrolled twice;
// - knowing a panel id is not enough to see or take over that participant: continuing on another
//   device needs the participant's resume code, shown to them from consent on;
// - a browser whose session moved to another device never enrols a second participant: it is told
//   to open the study link again;
// - a different panel id in the same browser (a shared lab computer) never inherits the session
//   the browser holds.

/** The participant's session cookie: one per study, scoped to the study's path. */
export const PARTICIPANT_COOKIE = 'bedside_participant';

/**
 * The consent nonce of this browser, until it has consented: a retry after an answer that never
 * arrived (a double click, a crash between the commit and the reply, a reload) derives the same
 * session and finds the participant it created. Deleted once the browser holds its session, so the
 * next person at a shared computer gets their own.
 */
export const CONSENT_NONCE_COOKIE = 'bedside_consent';

/** Panel id from the study link's parameters (Prolific's, or a generic `pid`). */
export function externalIdOf(params: URLSearchParams): string | null {
	const id = params.get('PROLIFIC_PID') ?? params.get('pid');
	return id && id.trim().length > 0 && id.length <= 200 ? id.trim() : null;
}

/** Keyed hash of a panel id: the same id always maps to the same participant, and is never stored. */
export async function externalIdHash(
	db: Queryable,
	slug: string,
	externalId: string
): Promise<string> {
	const key = await instanceSecret(db, 'participant-id-hmac');
	return createHmac('sha256', key).update(`${slug}\u0000${externalId}`).digest('hex');
}

// Crockford's base32: no I, L, O or U, so a code read aloud or copied by hand survives.
const CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CODE_LENGTH = 10; // 50 bits; guesses are limited per address and per participant

/**
 * The participant's resume code, derived from their id with an instance secret: it can be shown
 * on every page without being stored, and nobody without the secret can compute it.
 */
export async function resumeCodeOf(db: Queryable, participantId: string): Promise<string> {
	const key = await instanceSecret(db, 'participant-resume-code');
	const mac = createHmac('sha256', key).update(participantId).digest();
	let code = '';
	for (let i = 0; i < CODE_LENGTH; i++) code += CODE_ALPHABET[mac[i]! % 32];
	return `${code.slice(0, 5)}-${code.slice(5)}`;
}

/** What is stored to find a participant by their code: a SHA-256 of the normalized code. */
export function resumeCodeHash(code: string): string {
	const normalized = code
		.toUpperCase()
		.replace(/[\s-]/g, '')
		.replace(/[IL]/g, '1')
		.replace(/O/g, '0');
	return createHash('sha256').update(normalized).digest('hex');
}

/**
 * The session token for a consent: derived from the browser's consent nonce, so a repeated consent
 * (two requests, either of whose answers the browser may keep) sets the same cookie and finds the
 * same participant. Without a nonce, a random token.
 */
export async function sessionTokenFor(db: Queryable, nonce: string | null): Promise<string> {
	if (!nonce || !/^[a-z0-9]{16,64}$/.test(nonce)) return generateSessionToken();
	const key = await instanceSecret(db, 'participant-session-nonce');
	return encodeBase32LowerCaseNoPadding(
		createHmac('sha256', key).update(nonce).digest().subarray(0, 20)
	);
}

/** A fresh nonce for a consent form. */
export function consentNonce(): string {
	return generateSessionToken();
}

/** The study behind a participant link: any but a draft (a draft's link does not exist). */
export async function studyAtLink(db: Queryable, slug: string): Promise<StudySummary | undefined> {
	const study = await findStudyBySlug(db, slug);
	return study && study.status !== 'draft' ? study : undefined;
}

/**
 * The session of a browser whose consent was stored but whose answer never arrived (the server
 * went down between the commit and the reply, the connection dropped): derived from the consent
 * nonce the browser still holds, which only that browser has. Undefined when there is none.
 */
export async function recoverConsentSession(
	db: Queryable,
	study: StudySummary,
	nonce: string | undefined
): Promise<string | undefined> {
	if (!nonce) return undefined;
	const token = await sessionTokenFor(db, nonce);
	return (await findBySessionHash(db, study.id, sessionIdOf(token))) ? token : undefined;
}

export type Entry =
	/** The browser's own participant. */
	| { kind: 'participant'; participant: ParticipantRow }
	/** Someone new: the consent page (with the panel id, if the link carried one). */
	| { kind: 'new'; forgetCookie: boolean }
	/** The link's panel id has a participant elsewhere: their resume code is needed here. */
	| { kind: 'resume'; forgetCookie: boolean; finished: boolean }
	/** The browser's session moved to another device (or ended): open the link again. */
	| { kind: 'moved' };

const FINISHED = ['complete', 'declined', 'ineligible', 'withdrawn'];

/**
 * Decides what a browser at the study link gets, from its cookie and the link's panel id.
 * Reading only: nothing is issued or changed here.
 */
export async function resolveEntry(
	db: Queryable,
	study: StudySummary,
	input: {
		token: string | undefined;
		externalId: string | null;
		/** The participant behind the token, when the caller has already looked them up. */
		own?: ParticipantRow;
	}
): Promise<Entry> {
	const own =
		input.own ??
		(input.token ? await findBySessionHash(db, study.id, sessionIdOf(input.token)) : undefined);
	if (!input.externalId) {
		if (own) return { kind: 'participant', participant: own };
		return input.token ? { kind: 'moved' } : { kind: 'new', forgetCookie: false };
	}
	const hash = await externalIdHash(db, study.slug, input.externalId);
	if (own && own.externalIdHash === hash) return { kind: 'participant', participant: own };
	// Another person's session (or none) in this browser: it is never continued under this id.
	const forgetCookie = input.token !== undefined;
	const existing = await findByExternalHash(db, study.id, hash);
	if (!existing) return { kind: 'new', forgetCookie };
	return { kind: 'resume', forgetCookie, finished: FINISHED.includes(existing.step) };
}

export class ResumeRefusedError extends Error {}

const RESUME_PER_ADDRESS: Limit = {
	bucket: 'resume-code:address',
	max: 20,
	windowMs: 15 * 60_000
};
const RESUME_PER_PARTICIPANT: Limit = {
	bucket: 'resume-code:participant',
	max: 5,
	windowMs: 15 * 60_000
};

/**
 * Moves a participant's session to this browser, given their resume code (and, when the link
 * carries one, their panel id, which must belong to the same participant). The session of the
 * device they leave ends: it will say so and ask them to open the link again. Guesses are limited
 * per address and per participant, counted before they are checked.
 */
export async function resumeWithCode(
	db: Queryable,
	study: StudySummary,
	input: { code: string; externalId: string | null; address: string | null },
	now: Date = new Date()
): Promise<{ participant: ParticipantRow; token: string }> {
	const code = input.code.trim();
	if (code === '')
		throw new ValidationError([{ path: 'code', message: 'enter the resume code you were given' }]);
	if (code.length > 40)
		throw new ValidationError([{ path: 'code', message: 'a resume code has 10 characters' }]);
	const byAddress = await admit(
		db,
		RESUME_PER_ADDRESS,
		await addressSubject(db, input.address),
		now
	);
	if (!byAddress.admitted)
		throw new ResumeRefusedError(
			'Too many attempts from this network. Wait 15 minutes and try again.'
		);
	const claimed = input.externalId
		? await findByExternalHash(db, study.id, await externalIdHash(db, study.slug, input.externalId))
		: await findByResumeCodeHash(db, study.id, resumeCodeHash(code));
	if (claimed) {
		const byParticipant = await admit(db, RESUME_PER_PARTICIPANT, claimed.id, now);
		if (!byParticipant.admitted)
			throw new ResumeRefusedError(
				'Too many attempts for this study link. Wait 15 minutes and try again.'
			);
		if (resumeCodeHash(await resumeCodeOf(db, claimed.id)) === resumeCodeHash(code)) {
			await Promise.all([byAddress.succeeded(), byParticipant.succeeded()]);
			const token = generateSessionToken();
			await setSessionHash(db, claimed.id, sessionIdOf(token));
			// The analyst can see that the participant changed device (and when).
			await insertEvents(db, [
				{
					participantId: claimed.id,
					episodeId: null,
					kind: 'resumed_on_new_device',
					payload: {},
					clientTime: null,
					at: now
				}
			]);
			return { participant: claimed, token };
		}
	}
	throw new ValidationError([
		{ path: 'code', message: 'that code does not match; check it and try again' }
	]);
}
