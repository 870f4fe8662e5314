import type { Actor } from '../actor.ts';
import { recordAuditEvent } from '../audit/audit.repository.ts';
import { inTransaction, type Queryable } from '../db/types.ts';
import { findStudyBySlug } from '../studies/studies.repository.ts';
import { StudyStateError } from '../studies/studies.service.ts';
import { ValidationError } from '../validation/problems.ts';
import { createUser } from './auth.service.ts';
import {
	findUserByEmail,
	listUsers,
	lockOwners,
	membersOfStudy,
	roleInStudy,
	studiesOfUser,
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
		// A study always keeps an owner: the last one cannot hand the role away.
		const owners = await lockOwners(trx, study.id);
		if (input.role !== 'owner' && owners.length === 1 && owners[0] === user.id)
			throw new ValidationError([
				{
					path: 'role',
					message: `${user.email} is the study's only owner: make someone else owner first`
				}
			]);
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
		if (input.slug && input.role) {
			// Admins manage accounts; inside a study they need a membership like anyone (README): a
			// role can come with the invitation only in a study the admin owns.
			const study = await findStudyBySlug(trx, input.slug);
			const role = study ? await roleInStudy(trx, admin.id, study.id) : undefined;
			if (role !== 'owner')
				throw new ValidationError([
					{
						path: 'slug',
						message: `you are not an owner of "${input.slug}": invite without a study, then ask one of its owners to add them`
					}
				]);
			await grantMembership(trx, { email: user.email, slug: input.slug, role: input.role }, actor);
		}
		return { email: user.email, oneTimePassword: oneTimePassword! };
	});
}

/** The studies a person is a member of, with their role, newest first. */
export async function studiesOf(db: Queryable, userId: string) {
	return (await studiesOfUser(db, userId)).map(({ slug, title, status, role }) => ({
		slug,
		title,
		status,
		role
	}));
}

/** A study's members, for its owners. */
export function studyMembers(db: Queryable, studyId: string) {
	return membersOfStudy(db, studyId);
}

/** What the admin's accounts page shows: every account, and the studies the admin may invite into. */
export async function accountsOverview(db: Queryable, admin: User) {
	return {
		users: (await listUsers(db)).map((u) => ({
			email: u.email,
			displayName: u.displayName,
			isAdmin: u.isAdmin,
			mustChangePassword: u.mustChangePassword,
			disabled: u.disabled
		})),
		// A role can come with an invitation only in a study the admin owns.
		studies: (await studiesOfUser(db, admin.id))
			.filter((s) => s.role === 'owner')
			.map((s) => ({ slug: s.slug, title: s.title }))
	};
}
