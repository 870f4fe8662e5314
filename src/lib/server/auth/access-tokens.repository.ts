import { inTransaction, type Queryable } from '../db/types.ts';
import type { StudyRole } from './users.repository.ts';

export interface AccessTokenRow {
	id: string;
	userId: string;
	name: string;
	role: StudyRole;
	createdAt: Date;
	expiresAt: Date;
	revokedAt: Date | null;
	lastUsedAt: Date | null;
	studyIds: string[];
}

export async function insertAccessToken(
	db: Queryable,
	t: {
		userId: string;
		name: string;
		tokenHash: string;
		role: StudyRole;
		createdAt: Date;
		expiresAt: Date;
		studyIds: string[];
	}
): Promise<string> {
	return inTransaction(db, async (trx) => {
		const { id } = await trx
			.insertInto('access_tokens')
			.values({
				user_id: t.userId,
				name: t.name,
				token_hash: t.tokenHash,
				role: t.role,
				created_at: t.createdAt,
				expires_at: t.expiresAt
			})
			.returning('id')
			.executeTakeFirstOrThrow();
		await trx
			.insertInto('access_token_studies')
			.values(t.studyIds.map((studyId) => ({ token_id: id, study_id: studyId })))
			.execute();
		return id;
	});
}

function rowsToTokens(
	rows: {
		id: string;
		user_id: string;
		name: string;
		role: string;
		created_at: Date;
		expires_at: Date;
		revoked_at: Date | null;
		last_used_at: Date | null;
		study_id: string | null;
	}[]
): AccessTokenRow[] {
	const byId = new Map<string, AccessTokenRow>();
	for (const r of rows) {
		const t = byId.get(r.id) ?? {
			id: r.id,
			userId: r.user_id,
			name: r.name,
			role: r.role as StudyRole,
			createdAt: r.created_at,
			expiresAt: r.expires_at,
			revokedAt: r.revoked_at,
			lastUsedAt: r.last_used_at,
			studyIds: []
		};
		if (r.study_id) t.studyIds.push(r.study_id);
		byId.set(r.id, t);
	}
	return [...byId.values()];
}

function tokenQuery(db: Queryable) {
	return db
		.selectFrom('access_tokens as t')
		.leftJoin('access_token_studies as s', 's.token_id', 't.id')
		.select([
			't.id',
			't.user_id',
			't.name',
			't.role',
			't.created_at',
			't.expires_at',
			't.revoked_at',
			't.last_used_at',
			's.study_id'
		]);
}

export async function accessTokensOfUser(db: Queryable, userId: string): Promise<AccessTokenRow[]> {
	return rowsToTokens(
		await tokenQuery(db).where('t.user_id', '=', userId).orderBy('t.created_at', 'desc').execute()
	);
}

export async function accessTokenByHash(
	db: Queryable,
	tokenHash: string
): Promise<AccessTokenRow | undefined> {
	return rowsToTokens(await tokenQuery(db).where('t.token_hash', '=', tokenHash).execute())[0];
}

/** Revokes a token of this user; false when there is none (or it was revoked already). */
export async function revokeAccessTokenRow(
	db: Queryable,
	userId: string,
	id: string
): Promise<boolean> {
	const row = await db
		.updateTable('access_tokens')
		.set({ revoked_at: new Date() })
		.where('id', '=', id)
		.where('user_id', '=', userId)
		.where('revoked_at', 'is', null)
		.returning('id')
		.executeTakeFirst();
	return row !== undefined;
}

/** Noted at most once a minute per token: a script polling every second writes little. */
export async function touchAccessToken(db: Queryable, id: string, now: Date): Promise<void> {
	await db
		.updateTable('access_tokens')
		.set({ last_used_at: now })
		.where('id', '=', id)
		.where((eb) =>
			eb.or([
				eb('last_used_at', 'is', null),
				eb('last_used_at', '<', new Date(now.getTime() - 60_000))
			])
		)
		.execute();
}
