import { beforeEach, describe, expect, it } from 'vitest';
import { CLI_ACTOR } from '../../src/lib/server/actor.ts';
import {
	changePassword,
	createUser,
	MAX_FAILURES_PER_EMAIL,
	resetPassword,
	SESSION_LIFETIME_MS,
	signIn,
	signOut,
	validateSessionToken
} from '../../src/lib/server/auth/auth.service.ts';
import { can } from '../../src/lib/server/auth/permissions.ts';
import { grantMembership, inviteUser } from '../../src/lib/server/auth/accounts.service.ts';
import { findUserByEmail } from '../../src/lib/server/auth/users.repository.ts';
import { findStudyBySlug } from '../../src/lib/server/studies/studies.repository.ts';
import { newRecruitingStudy } from '../helpers/studies.ts';
import { sessionIdOf } from '../../src/lib/server/auth/tokens.ts';
import { ValidationError } from '../../src/lib/server/validation/problems.ts';
import { databaseKinds, useTestDatabase, type TestDatabase } from '../helpers/database.ts';

const PASSWORD = 'a long enough password';
let counter = 0;
const newEmail = () => `person${++counter}-${Date.now()}@example.org`;

describe.each(databaseKinds())('accounts and sessions (%s)', (kind) => {
	const database = useTestDatabase(kind);
	let t: TestDatabase;
	beforeEach(() => {
		t = database();
	});

	it('stores only the SHA-256 of the session token and an argon2id hash of the password', async () => {
		const email = newEmail();
		await createUser(t.db, { email, password: PASSWORD }, CLI_ACTOR);
		const result = await signIn(t.db, { email, password: PASSWORD, ip: '127.0.0.1' });
		if (!result.ok) throw new Error('sign-in failed');
		const rows = await t.db
			.selectFrom('sessions')
			.select('id')
			.where('user_id', '=', result.user.id)
			.execute();
		expect(rows).toEqual([{ id: sessionIdOf(result.token) }]);
		expect(rows[0]!.id).not.toContain(result.token);
		const user = await t.db
			.selectFrom('users')
			.select('password_hash')
			.where('email', '=', email)
			.executeTakeFirstOrThrow();
		expect(user.password_hash).toMatch(/^\$argon2id\$/);
	});

	it('refuses short passwords and duplicate emails with the field named', async () => {
		const short = await createUser(t.db, { email: newEmail(), password: 'short' }, CLI_ACTOR).catch(
			(e) => e
		);
		expect(short).toBeInstanceOf(ValidationError);
		expect(short.problems).toEqual([
			{ path: 'password', message: 'must be at least 12 characters' }
		]);
		const email = newEmail();
		await createUser(t.db, { email, password: PASSWORD }, CLI_ACTOR);
		const dup = await createUser(
			t.db,
			{ email: email.toUpperCase(), password: PASSWORD },
			CLI_ACTOR
		).catch((e) => e);
		expect(dup.problems).toEqual([{ path: 'email', message: 'an account with this email exists' }]);
	});

	it('locks an email out after repeated failures, in the database, even for the right password', async () => {
		const email = newEmail();
		await createUser(t.db, { email, password: PASSWORD }, CLI_ACTOR);
		const now = new Date();
		for (let i = 0; i < MAX_FAILURES_PER_EMAIL; i++) {
			expect(
				await signIn(t.db, { email, password: 'wrong password!', ip: '10.0.0.1' }, now)
			).toEqual({ ok: false, reason: 'invalid' });
		}
		expect(await signIn(t.db, { email, password: PASSWORD, ip: '10.0.0.2' }, now)).toEqual({
			ok: false,
			reason: 'locked'
		});
		// After the window, the right password works again.
		const later = new Date(now.getTime() + 16 * 60 * 1000);
		expect((await signIn(t.db, { email, password: PASSWORD, ip: '10.0.0.2' }, later)).ok).toBe(
			true
		);
	});

	it('checks at most the limit of parallel guesses; the right password among them is refused', async () => {
		const email = newEmail();
		await createUser(t.db, { email, password: PASSWORD }, CLI_ACTOR);
		// 40 wrong guesses and the right one at once, from one address, each its own request.
		const guesses = Array.from({ length: 40 }, (_, i) => `wrong guess ${i}!`);
		guesses.splice(20, 0, PASSWORD);
		const results = await Promise.all(
			guesses.map((password) => signIn(t.db, { email, password, ip: '10.9.0.1' }))
		);
		const checked = results.filter((r) => r.ok || r.reason === 'invalid').length;
		expect(checked).toBeLessThanOrEqual(MAX_FAILURES_PER_EMAIL);
		expect(results.filter((r) => !r.ok && r.reason === 'locked').length).toBe(41 - checked);
	});

	it('never locks a person out of their own browser because of failures from elsewhere', async () => {
		const email = newEmail();
		await createUser(t.db, { email, password: PASSWORD }, CLI_ACTOR);
		const first = await signIn(t.db, { email, password: PASSWORD, ip: '10.8.0.1' });
		if (!first.ok) throw new Error('sign-in failed');
		// Everyone behind one proxy address: 60 failures on made-up emails, and 6 on this one.
		for (let i = 0; i < 60; i++)
			await signIn(t.db, { email: newEmail(), password: 'nope nope nope', ip: '10.8.0.1' });
		for (let i = 0; i < 6; i++)
			await signIn(t.db, { email, password: 'an attacker guess', ip: '10.8.0.1' });
		// A browser without the device cookie is locked out; the person's own browser is not.
		expect(await signIn(t.db, { email, password: PASSWORD, ip: '10.8.0.1' })).toEqual({
			ok: false,
			reason: 'locked'
		});
		const mine = await signIn(t.db, {
			email,
			password: PASSWORD,
			ip: '10.8.0.1',
			deviceToken: first.deviceToken
		});
		expect(mine.ok).toBe(true);
		// Another account from the same address, on its own known browser, signs in too.
		const other = newEmail();
		await createUser(t.db, { email: other, password: PASSWORD }, CLI_ACTOR);
		const known = await signIn(t.db, { email: other, password: PASSWORD, ip: '10.7.0.1' });
		if (!known.ok) throw new Error('sign-in failed');
		expect(
			(
				await signIn(t.db, {
					email: other,
					password: PASSWORD,
					ip: '10.8.0.1',
					deviceToken: known.deviceToken
				})
			).ok
		).toBe(true);
	});

	it('limits guesses of the current password on a signed-in session', async () => {
		const email = newEmail();
		const { user } = await createUser(t.db, { email, password: PASSWORD }, CLI_ACTOR);
		for (let i = 0; i < 5; i++)
			await expect(
				changePassword(t.db, user.id, `wrong ${i} password`, 'a brand new password')
			).rejects.toThrow(ValidationError);
		const refused = await changePassword(t.db, user.id, PASSWORD, 'a brand new password').catch(
			(e: ValidationError) => e
		);
		expect((refused as ValidationError).problems[0]!.message).toMatch(/too many wrong passwords/);
	});

	it('keeps an owner on every study, and lets admins give roles only in studies they own', async () => {
		await newRecruitingStudy(t.db, `owned-${kind}`);
		const study = (await findStudyBySlug(t.db, `owned-${kind}`))!;
		const ownerEmail = newEmail();
		const { user: owner } = await createUser(
			t.db,
			{ email: ownerEmail, password: PASSWORD },
			CLI_ACTOR
		);
		await grantMembership(t.db, { email: ownerEmail, slug: study.slug, role: 'owner' }, CLI_ACTOR);
		const demote = grantMembership(
			t.db,
			{ email: ownerEmail, slug: study.slug, role: 'viewer' },
			{ kind: 'user', id: owner.id }
		);
		await expect(demote).rejects.toThrow(ValidationError);
		await expect(demote.catch((e: ValidationError) => e.problems[0]!.message)).resolves.toMatch(
			/only owner: make someone else owner first/
		);

		const { user: admin } = await createUser(
			t.db,
			{ email: newEmail(), password: PASSWORD, isAdmin: true },
			CLI_ACTOR
		);
		const refusedEmail = newEmail();
		const refused = inviteUser(t.db, admin, {
			email: refusedEmail,
			displayName: '',
			slug: study.slug,
			role: 'owner'
		});
		await expect(refused).rejects.toThrow(ValidationError);
		// The account was not half-created either.
		expect(await findUserByEmail(t.db, refusedEmail)).toBeUndefined();
		await grantMembership(t.db, { email: admin.email, slug: study.slug, role: 'owner' }, CLI_ACTOR);
		const invited = await inviteUser(t.db, admin, {
			email: newEmail(),
			displayName: '',
			slug: study.slug,
			role: 'analyst'
		});
		expect(invited.oneTimePassword).toBeTruthy();
	});

	it('lets a one-time password expire after a week, and a reset give a new one', async () => {
		const email = newEmail();
		const { oneTimePassword } = await createUser(t.db, { email }, CLI_ACTOR);
		const later = new Date(Date.now() + 8 * 24 * 60 * 60 * 1000);
		expect(await signIn(t.db, { email, password: oneTimePassword!, ip: null }, later)).toEqual({
			ok: false,
			reason: 'expired'
		});
		const fresh = await resetPassword(t.db, email, CLI_ACTOR, later);
		const signedIn = await signIn(t.db, { email, password: fresh, ip: null }, later);
		expect(signedIn.ok && signedIn.user.mustChangePassword).toBe(true);
	});

	it('answers an unknown email exactly like a wrong password', async () => {
		expect(await signIn(t.db, { email: newEmail(), password: PASSWORD, ip: null })).toEqual({
			ok: false,
			reason: 'invalid'
		});
	});

	it('renews a session when used (sliding expiry), and ends it when it expires', async () => {
		const email = newEmail();
		await createUser(t.db, { email, password: PASSWORD }, CLI_ACTOR);
		const start = new Date('2026-01-01T00:00:00Z');
		const s = await signIn(t.db, { email, password: PASSWORD, ip: null }, start);
		if (!s.ok) throw new Error('sign-in failed');
		const fresh = await validateSessionToken(t.db, s.token, new Date(start.getTime() + 60_000));
		expect(fresh?.renewed).toBe(false);
		const tenDays = new Date(start.getTime() + 10 * 86_400_000);
		const renewed = await validateSessionToken(t.db, s.token, tenDays);
		expect(renewed?.renewed).toBe(true);
		expect(renewed?.expiresAt.getTime()).toBe(tenDays.getTime() + SESSION_LIFETIME_MS);
		expect(
			await validateSessionToken(
				t.db,
				s.token,
				new Date(tenDays.getTime() + SESSION_LIFETIME_MS + 1)
			)
		).toBeNull();
		expect(
			await t.db
				.selectFrom('sessions')
				.select('id')
				.where('id', '=', sessionIdOf(s.token))
				.execute()
		).toEqual([]);
	});

	it('ends every session on sign-out and on a password change', async () => {
		const email = newEmail();
		const { user } = await createUser(t.db, { email, password: PASSWORD }, CLI_ACTOR);
		const a = await signIn(t.db, { email, password: PASSWORD, ip: null });
		const b = await signIn(t.db, { email, password: PASSWORD, ip: null });
		if (!a.ok || !b.ok) throw new Error('sign-in failed');
		expect(a.token).not.toBe(b.token); // a new token each time: no fixation
		await signOut(t.db, a.token, user.id);
		expect(await validateSessionToken(t.db, a.token)).toBeNull();
		expect(await validateSessionToken(t.db, b.token)).not.toBeNull();

		const wrong = await changePassword(
			t.db,
			user.id,
			'not my password',
			'another long password'
		).catch((e) => e);
		expect(wrong.problems).toEqual([{ path: 'current', message: 'is not your current password' }]);
		const next = await changePassword(t.db, user.id, PASSWORD, 'another long password');
		expect(await validateSessionToken(t.db, b.token)).toBeNull();
		expect((await validateSessionToken(t.db, next.token))?.user.email).toBe(email);
		expect((await signIn(t.db, { email, password: PASSWORD, ip: null })).ok).toBe(false);
	});

	it('gives each role exactly its permissions', () => {
		expect(
			['owner', 'researcher', 'analyst', 'viewer'].map((r) => can(r as never, 'study.preregister'))
		).toEqual([true, true, false, false]);
		expect(
			['owner', 'researcher', 'analyst', 'viewer'].map((r) => can(r as never, 'study.view'))
		).toEqual([true, true, true, true]);
		expect(can(undefined, 'study.view')).toBe(false);
	});
});
