import { randomBytes } from 'node:crypto';
import type { Actor } from '../actor.ts';
import { recordAuditEvent } from '../audit/audit.repository.ts';
import type { Queryable } from '../db/types.ts';
import { findStudyBySlug } from '../studies/studies.repository.ts';
import { ValidationError, type Problem } from '../validation/problems.ts';
import {
	accessTokenByHash,
	accessTokensOfUser,
	insertAccessToken,
	revokeAccessTokenRow,
	touchAccessToken,
	type AccessTokenRow
} from './access-tokens.repository.ts';
import { can, roleWithin, type StudyAction } from './permissions.ts';
import { sessionIdOf } from './tokens.ts';
import { findUserById, roleInStudy, type StudyRole, type User } from './users.repository.ts';

// Personal access tokens for the HTTP API: what a script or a notebook presents instead of a
// session. Each is scoped to named studies and a role that must lie within the owner's role in
// every one of them; it expires, can be revoked, and is stored only as its SHA-256 (the secret is
// shown once). At each use the role is intersected with the owner's role then: a token never
// outlives its owner's membership or account.

export const TOKEN_PREFIX = 'bsd_pat_';
const ROLES: StudyRole[] = ['owner', 'researcher', 'analyst', 'viewer'];
const MAX_DAYS = 365;

export interface NewToken {
	name: string;
	role: string;
	studies: string[];
	expiresInDays: number;
}

export interface TokenPrincipal {
	tokenId: string;
	user: User;
	role: StudyRole;
	studyIds: Set<string>;
}

const hashOf = (secret: string) => sessionIdOf(secret);

export async function createAccessToken(
	db: Queryable,
	user: User,
	input: NewToken,
	now: Date = new Date()
): Promise<{ id: string; secret: string; expiresAt: Date }> {
	const problems: Problem[] = [];
	const name = input.name.trim();
	if (name.length < 1 || name.length > 100)
		problems.push({ path: 'name', message: 'give the token a name (at most 100 characters)' });
	if (!ROLES.includes(input.role as StudyRole))
		problems.push({ path: 'role', message: `must be one of ${ROLES.join(', ')}` });
	if (!(
		Number.isInteger(input.expiresInDays) &&
		input.expiresInDays >= 1 &&
		input.expiresInDays <= MAX_DAYS
	))
		problems.push({
			path: 'expires_in_days',
			message: `must be a whole number of days from 1 to ${MAX_DAYS}`
		});
	const slugs = [...new Set(input.studies)];
	if (slugs.length === 0) problems.push({ path: 'studies', message: 'choose at least one study' });
	const studyIds: string[] = [];
	for (const slug of slugs) {
		const study = await findStudyBySlug(db, slug);
		const mine = study ? await roleInStudy(db, user.id, study.id) : undefined;
		if (!study || !mine)
			problems.push({ path: 'studies', message: `you are not a member of "${slug}"` });
		else if (ROLES.includes(input.role as StudyRole) && !roleWithin(input.role as StudyRole, mine))
			problems.push({
				path: 'role',
				message: `${/^[aeiou]/.test(input.role) ? 'an' : 'a'} ${input.role} token may do more than your role in "${slug}" (${mine}) allows`
			});
		else studyIds.push(study.id);
	}
	if (problems.length > 0) throw new ValidationError(problems);
	const secret = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
	const expiresAt = new Date(now.getTime() + input.expiresInDays * 86_400_000);
	const id = await insertAccessToken(db, {
		userId: user.id,
		name,
		tokenHash: hashOf(secret),
		role: input.role as StudyRole,
		createdAt: now,
		expiresAt,
		studyIds
	});
	for (const studyId of studyIds)
		await recordAuditEvent(db, {
			actorKind: 'user',
			actorId: user.id,
			studyId,
			action: 'token.create',
			target: id,
			details: { name, role: input.role, expires_at: expiresAt.toISOString() }
		});
	return { id, secret, expiresAt };
}

export async function accessTokensOf(db: Queryable, user: User): Promise<AccessTokenRow[]> {
	return accessTokensOfUser(db, user.id);
}

export async function revokeAccessToken(db: Queryable, user: User, id: string): Promise<void> {
	const tokens = await accessTokensOfUser(db, user.id);
	const token = tokens.find((t) => t.id === id);
	if (!token || !(await revokeAccessTokenRow(db, user.id, id)))
		throw new ValidationError([{ path: 'id', message: 'no such token, or it is revoked already' }]);
	for (const studyId of token.studyIds)
		await recordAuditEvent(db, {
			actorKind: 'user',
			actorId: user.id,
			studyId,
			action: 'token.revoke',
			target: id,
			details: { name: token.name }
		});
}

/** The principal a bearer secret stands for, or null (unknown, expired, revoked, owner disabled). */
export async function authenticateAccessToken(
	db: Queryable,
	secret: string,
	now: Date = new Date()
): Promise<TokenPrincipal | null> {
	if (!secret.startsWith(TOKEN_PREFIX) || secret.length > 200) return null;
	const token = await accessTokenByHash(db, hashOf(secret));
	if (!token || token.revokedAt || token.expiresAt <= now) return null;
	const user = await findUserById(db, token.userId);
	if (!user || user.disabled) return null;
	await touchAccessToken(db, token.id, now);
	return { tokenId: token.id, user, role: token.role, studyIds: new Set(token.studyIds) };
}

/** The token's role in a study, within its owner's current role there; undefined: no access. */
export async function tokenRoleIn(
	db: Queryable,
	principal: TokenPrincipal,
	studyId: string
): Promise<{ may: (action: StudyAction) => boolean; ownerRole: StudyRole } | undefined> {
	if (!principal.studyIds.has(studyId)) return undefined;
	const ownerRole = await roleInStudy(db, principal.user.id, studyId);
	if (!ownerRole) return undefined;
	return { may: (a) => can(principal.role, a) && can(ownerRole, a), ownerRole };
}

export function tokenActor(principal: TokenPrincipal): Actor {
	return { kind: 'token', id: principal.tokenId };
}
