import { hash, verify } from '@node-rs/argon2';
import type { Actor } from '../actor.ts';
import { recordAuditEvent } from '../audit/audit.repository.ts';
import { inTransaction, type Queryable } from '../db/types.ts';
import { ValidationError } from '../validation/problems.ts';
import {
	deleteSession,
	deleteSessionsOfUser,
	extendSession,
	findSession,
	insertSession,
	isKnownDevice,
	markLoginSucceeded,
	recentFailures,
	recordLoginAttempt
} from './sessions.repository.ts';
import { admit } from '../throttle/throttle.service.ts';
import { generateOneTimePassword, generateSessionToken, sessionIdOf } from './tokens.ts';
import {
	findUserByEmail,
	findUserById,
	insertUser,
	setOneTimePassword,
	updatePassword,
	type User
} from './users.repository.ts';

const DAY = 24 * 60 * 60 * 1000;
/** A session lasts 30 days from its last use (sliding), renewed at most once a day. */
export const SESSION_LIFETIME_MS = 30 * DAY;
const RENEW_WITHIN_MS = SESSION_LIFETIME_MS - DAY;

export const LOGIN_WINDOW_MS = 15 * 60 * 1000;
export const MAX_FAILURES_PER_EMAIL = 5;
export const MAX_FAILURES_PER_IP = 50;
export const MIN_PASSWORD_LENGTH = 12;
/** A one-time password works for a week: long enough to pass on, short enough not to linger. */
export const ONE_TIME_PASSWORD_LIFETIME_MS = 7 * DAY;
const PASSWORD_CHECKS = { bucket: 'password-check:user', max: 5, windowMs: LOGIN_WINDOW_MS };

// Argon2id with the OWASP-recommended minimum (19 MiB, 2 passes, 1 lane).
const ARGON2 = { memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export function normalizeEmail(email: string): string {
	return email.trim().toLowerCase();
}

function checkPassword(password: string, field = 'password'): void {
	if (password.length < MIN_PASSWORD_LENGTH) {
		throw new ValidationError([
			{ path: field, message: `must be at least ${MIN_PASSWORD_LENGTH} characters` }
		]);
	}
	if (password.length > 256)
		throw new ValidationError([{ path: field, message: 'must be at most 256 characters' }]);
}

/**
 * Creates an account. Without a password it gets a one-time password (returned once, never
 * stored in clear) that must be changed at first sign-in.
 */
export async function createUser(
	db: Queryable,
	input: { email: string; displayName?: string; password?: string; isAdmin?: boolean },
	actor: Actor
): Promise<{ user: User; oneTimePassword?: string }> {
	const email = normalizeEmail(input.email);
	if (!/^[^\s@]+@[^\s@]+$/.test(email))
		throw new ValidationError([{ path: 'email', message: 'must be an email address' }]);
	const oneTimePassword = input.password === undefined ? generateOneTimePassword() : undefined;
	const password = input.password ?? oneTimePassword!;
	if (input.password !== undefined) checkPassword(password);
	return inTransaction(db, async (trx) => {
		if (await findUserByEmail(trx, email)) {
			throw new ValidationError([{ path: 'email', message: 'an account with this email exists' }]);
		}
		const user = await insertUser(trx, {
			email,
			displayName: input.displayName?.trim() ?? '',
			passwordHash: await hash(password, ARGON2),
			isAdmin: input.isAdmin ?? false,
			mustChangePassword: oneTimePassword !== undefined,
			oneTimePasswordExpiresAt:
				oneTimePassword !== undefined ? new Date(Date.now() + ONE_TIME_PASSWORD_LIFETIME_MS) : null
		});
		await recordAuditEvent(trx, {
			actorKind: actor.kind,
			actorId: actor.id,
			action: 'user.create',
			target: email,
			details: { admin: user.isAdmin }
		});
		return { user, oneTimePassword };
	});
}

export type SignInResult =
	| { ok: true; token: string; expiresAt: Date; user: User; deviceToken: string }
	| { ok: false; reason: 'invalid' | 'locked' | 'expired' };

export const MAX_FAILURES_PER_DEVICE = 5;

/**
 * Checks an email and password. Each attempt is recorded *before* the password is checked and
 * counts as failed until it succeeds, so parallel guesses cannot all slip under the limit (the
 * k-th recorded sees at least k). From a browser that has signed in to this account before (its
 * device cookie), only that browser's own failures count, at most 5 in 15 minutes; from anywhere
 * else, 5 failures for the email or 50 from the address lock sign-in until the window passes. So
 * failures from elsewhere (an attacker, or everyone behind one proxy address) never lock out a
 * person on their own device. The answer never says whether the email exists.
 */
export async function signIn(
	db: Queryable,
	input: { email: string; password: string; ip: string | null; deviceToken?: string | null },
	now: Date = new Date()
): Promise<SignInResult> {
	const email = normalizeEmail(input.email);
	const device = input.deviceToken ? sessionIdOf(input.deviceToken) : null;
	const known = device !== null && (await isKnownDevice(db, email, device));
	const attempt = await recordLoginAttempt(db, { email, ip: input.ip, device, at: now });
	const failures = await recentFailures(
		db,
		email,
		input.ip,
		device,
		new Date(now.getTime() - LOGIN_WINDOW_MS)
	);
	const locked = known
		? failures.device > MAX_FAILURES_PER_DEVICE
		: failures.email > MAX_FAILURES_PER_EMAIL || failures.ip > MAX_FAILURES_PER_IP;
	if (locked) return { ok: false, reason: 'locked' };
	const user = await findUserByEmail(db, email);
	// Verify against a dummy hash when the user is unknown, so timing does not reveal accounts.
	const valid = user
		? await verify(user.passwordHash, input.password)
		: (await verify(DUMMY_HASH, input.password), false);
	if (!user || !valid || user.disabled) return { ok: false, reason: 'invalid' };
	if (user.oneTimePasswordExpiresAt && now.getTime() >= user.oneTimePasswordExpiresAt.getTime())
		return { ok: false, reason: 'expired' };
	// The browser's device cookie: kept if it has one, else a new one, known from now on.
	const deviceToken = input.deviceToken && device ? input.deviceToken : generateSessionToken();
	await markLoginSucceeded(db, attempt, sessionIdOf(deviceToken));
	// A new token on every sign-in: a token planted before sign-in is never promoted (fixation).
	const { token, expiresAt } = await startSession(db, user.id, now);
	await recordAuditEvent(db, {
		actorKind: 'user',
		actorId: user.id,
		action: 'user.sign_in',
		target: email
	});
	const { passwordHash: _, ...plain } = user;
	return {
		ok: true,
		token,
		expiresAt,
		user: plain,
		deviceToken
	};
}

const DUMMY_HASH =
	'$argon2id$v=19$m=19456,t=2,p=1$SdC7tusfWMYM8T/KAGJwGQ$67pE0N1XLGgfbVPZO3x1DmBpN25EHzQk6MQSUKPj2eE';

export async function startSession(
	db: Queryable,
	userId: string,
	now: Date
): Promise<{ token: string; expiresAt: Date }> {
	const token = generateSessionToken();
	const expiresAt = new Date(now.getTime() + SESSION_LIFETIME_MS);
	await insertSession(db, { id: sessionIdOf(token), userId, expiresAt });
	return { token, expiresAt };
}

export interface ValidSession {
	user: User;
	sessionId: string;
	expiresAt: Date;
	/** Set when the expiry moved: the cookie should be sent again with it. */
	renewed: boolean;
}

/** The user behind a session token, or null when it is unknown, expired or the user is disabled. */
export async function validateSessionToken(
	db: Queryable,
	token: string,
	now: Date = new Date()
): Promise<ValidSession | null> {
	const id = sessionIdOf(token);
	const session = await findSession(db, id);
	if (!session) return null;
	if (now.getTime() >= session.expiresAt.getTime()) {
		await deleteSession(db, id);
		return null;
	}
	const user = await findUserById(db, session.userId);
	if (!user || user.disabled) {
		await deleteSession(db, id);
		return null;
	}
	let expiresAt = session.expiresAt;
	let renewed = false;
	if (session.expiresAt.getTime() - now.getTime() < RENEW_WITHIN_MS) {
		expiresAt = new Date(now.getTime() + SESSION_LIFETIME_MS);
		await extendSession(db, id, expiresAt);
		renewed = true;
	}
	const { passwordHash: _, ...plain } = user;
	return { user: plain, sessionId: id, expiresAt, renewed };
}

/**
 * A new one-time password for an account (someone who lost theirs, or whose first one expired):
 * every session of the account ends, and the new password must be changed at sign-in.
 */
export async function resetPassword(
	db: Queryable,
	email: string,
	actor: Actor,
	now: Date = new Date()
): Promise<string> {
	const user = await findUserByEmail(db, normalizeEmail(email));
	if (!user) throw new ValidationError([{ path: 'email', message: 'no account with this email' }]);
	const oneTimePassword = generateOneTimePassword();
	await inTransaction(db, async (trx) => {
		await setOneTimePassword(
			trx,
			user.id,
			await hash(oneTimePassword, ARGON2),
			new Date(now.getTime() + ONE_TIME_PASSWORD_LIFETIME_MS)
		);
		await deleteSessionsOfUser(trx, user.id);
		await recordAuditEvent(trx, {
			actorKind: actor.kind,
			actorId: actor.id,
			action: 'user.reset_password',
			target: user.email
		});
	});
	return oneTimePassword;
}

export async function signOut(db: Queryable, token: string, userId: string): Promise<void> {
	await deleteSession(db, sessionIdOf(token));
	await recordAuditEvent(db, { actorKind: 'user', actorId: userId, action: 'user.sign_out' });
}

/**
 * Changes a password after checking the current one. Every session of the user ends (on every
 * device); a new one is returned for the device that asked.
 */
export async function changePassword(
	db: Queryable,
	userId: string,
	current: string,
	next: string,
	now: Date = new Date()
): Promise<{ token: string; expiresAt: Date }> {
	// A stolen session must not become a way to guess the password: 5 wrong guesses per 15 minutes.
	const attempt = await admit(db, PASSWORD_CHECKS, userId, now);
	if (!attempt.admitted)
		throw new ValidationError([
			{ path: 'current', message: 'too many wrong passwords: wait 15 minutes and try again' }
		]);
	const user = await findUserById(db, userId);
	if (!user || !(await verify(user.passwordHash, current))) {
		throw new ValidationError([{ path: 'current', message: 'is not your current password' }]);
	}
	await attempt.succeeded();
	checkPassword(next, 'password');
	if (next === current)
		throw new ValidationError([{ path: 'password', message: 'must differ from the current one' }]);
	return inTransaction(db, async (trx) => {
		await updatePassword(trx, userId, await hash(next, ARGON2), now);
		await deleteSessionsOfUser(trx, userId);
		await recordAuditEvent(trx, {
			actorKind: 'user',
			actorId: userId,
			action: 'user.change_password'
		});
		return startSession(trx, userId, now);
	});
}
