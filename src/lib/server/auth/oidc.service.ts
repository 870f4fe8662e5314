import { recordAuditEvent } from '../audit/audit.repository.ts';
import { inTransaction, type Queryable } from '../db/types.ts';
import { startSession } from './auth.service.ts';
import type { IdentityClaims } from './oidc-client.ts';
import { generateOneTimePassword } from './tokens.ts';
import { findUserByEmail, findUserById, updatePassword, type User } from './users.repository.ts';
import { hash } from '@node-rs/argon2';

// Institutional sign-in maps a person to an account an admin created for them (an invitation),
// never to a new one: the first sign-in links the provider's subject to the account with the same
// verified email; later sign-ins find the account by that link, whatever the email says then.
// An invitation's one-time password is spent by that first sign-in.

export type IdentitySignIn =
	| { ok: true; token: string; expiresAt: Date; user: User }
	| { ok: false; reason: 'no_invitation' | 'unverified_email' | 'disabled' };

export async function signInWithIdentity(
	db: Queryable,
	claims: IdentityClaims,
	now: Date = new Date()
): Promise<IdentitySignIn> {
	const linked = await db
		.selectFrom('user_identities')
		.select('user_id')
		.where('issuer', '=', claims.issuer)
		.where('subject', '=', claims.subject)
		.executeTakeFirst();
	let user = linked ? await findUserById(db, linked.user_id) : undefined;
	if (!user) {
		if (!claims.email || !claims.emailVerified) return { ok: false, reason: 'unverified_email' };
		const invited = await findUserByEmail(db, claims.email.trim().toLowerCase());
		if (!invited) {
			await recordAuditEvent(db, {
				actorKind: 'system',
				action: 'user.sign_in_refused',
				target: claims.email,
				details: { method: 'oidc', issuer: claims.issuer, reason: 'no invitation' }
			});
			return { ok: false, reason: 'no_invitation' };
		}
		if (invited.disabled) return { ok: false, reason: 'disabled' };
		await inTransaction(db, async (trx) => {
			await trx
				.insertInto('user_identities')
				.values({ issuer: claims.issuer, subject: claims.subject, user_id: invited.id })
				.onConflict((oc) => oc.columns(['issuer', 'subject']).doNothing())
				.execute();
			// The invitation is taken up: its one-time password no longer opens the account.
			if (invited.mustChangePassword)
				await updatePassword(trx, invited.id, await hash(generateOneTimePassword()), now);
			await recordAuditEvent(trx, {
				actorKind: 'user',
				actorId: invited.id,
				action: 'user.identity_link',
				target: invited.email,
				details: { issuer: claims.issuer }
			});
		});
		user = await findUserById(db, invited.id);
	}
	if (!user || user.disabled) return { ok: false, reason: 'disabled' };
	const { token, expiresAt } = await startSession(db, user.id, now);
	await recordAuditEvent(db, {
		actorKind: 'user',
		actorId: user.id,
		action: 'user.sign_in',
		target: user.email,
		details: { method: 'oidc', issuer: claims.issuer }
	});
	const { passwordHash: _, ...plain } = user;
	return { ok: true, token, expiresAt, user: plain };
}
