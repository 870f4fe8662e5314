import type { Actor } from '../actor.ts';
import { recordAuditEvent } from '../audit/audit.repository.ts';
import { inTransaction, type Queryable } from '../db/types.ts';
import { findStudyBySlug } from '../studies/studies.repository.ts';
import { StudyStateError } from '../studies/studies.service.ts';
import { ValidationError } from '../validation/problems.ts';
import { createUser } from './auth.service.ts';
import {
	findUserByEmail,
	upsertMembership,
	type StudyRole,
	type User
} from './users.repository.ts';

// Accounts and memberships: admins invite people (an account with a one-time password to pass
// on; there is no mail here), owners give existing accounts a role in their study.

export const STUDY_ROLES: StudyRole[] = ['owner', 'researcher', 'analyst', 'viewer'];

export class NotAllowedError extends Error {}

/** Gives an account a role in a study (or changes it), with an audit entry. */
export async function grantMembership(
	db: Queryable,
	input: { email: string; slug: string; role: string },
	actor: Actor
): Promise<{ email: string; role: StudyRole }> {
	if (!STUDY_ROLES.includes(input.role as StudyRole))
		throw new ValidationError([
			{ path: 'role', message: `must be one of ${STUDY_ROLES.join(', ')}` }
		]);
	return inTransaction(db, async (trx) => {
		const user = await findUserByEmail(trx, input.email.trim().toLowerCase());
		if (!user)
			throw new ValidationError([
				{ path: 'email', message: 'no account with this email (an admin can invite them)' }
			]);
		const study = await findStudyBySlug(trx, input.slug);
		if (!study) throw new StudyStateError(`no study "${input.slug}"`, 'not_found');
		await upsertMembership(trx, user.id, study.id, input.role as StudyRole);
		await recordAuditEvent(trx, {
			actorKind: actor.kind,
			actorId: actor.id,
			studyId: study.id,
			action: 'membership.grant',
			target: user.email,
			details: { role: input.role }
		});
		return { email: user.email, role: input.role as StudyRole };
	});
}

/** An admin invites someone: a new account with a one-time password, and optionally a role. */
export async function inviteUser(
	db: Queryable,
	admin: User,
	input: { email: string; displayName: string; slug?: string; role?: string }
): Promise<{ email: string; oneTimePassword: string }> {
	if (!admin.isAdmin) throw new NotAllowedError('only an admin can invite people');
	const actor: Actor = { kind: 'user', id: admin.id };
	return inTransaction(db, async (trx) => {
		const { user, oneTimePassword } = await createUser(
			trx,
			{ email: input.email, displayName: input.displayName },
			actor
		);
		if (input.slug && input.role)
			await grantMembership(trx, { email: user.email, slug: input.slug, role: input.role }, actor);
		return { email: user.email, oneTimePassword: oneTimePassword! };
	});
}
