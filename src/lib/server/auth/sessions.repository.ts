import type { Queryable } from '../db/types.ts';

export interface SessionRow {
	id: string;
	userId: string;
	expiresAt: Date;
}

export async function insertSession(db: Queryable, s: SessionRow): Promise<void> {
	await db
		.insertInto('sessions')
		.values({ id: s.id, user_id: s.userId, expires_at: s.expiresAt })
		.execute();
}

export async function findSession(db: Queryable, id: string): Promise<SessionRow | undefined> {
	const row = await db
		.selectFrom('sessions')
		.select(['id', 'user_id', 'expires_at'])
		.where('id', '=', id)
		.executeTakeFirst();
	return row && { id: row.id, userId: row.user_id, expiresAt: row.expires_at };
}

export async function extendSession(db: Queryable, id: string, expiresAt: Date): Promise<void> {
	await db.updateTable('sessions').set({ expires_at: expiresAt }).where('id', '=', id).execute();
}

export async function deleteSession(db: Queryable, id: string): Promise<void> {
	await db.deleteFrom('sessions').where('id', '=', id).execute();
}

export async function deleteSessionsOfUser(db: Queryable, userId: string): Promise<void> {
	await db.deleteFrom('sessions').where('user_id', '=', userId).execute();
}

export async function recordLoginAttempt(
	db: Queryable,
	a: { email: string; ip: string | null; succeeded: boolean; at: Date }
): Promise<void> {
	await db
		.insertInto('login_attempts')
		.values({ email: a.email, ip: a.ip, succeeded: a.succeeded, attempted_at: a.at })
		.execute();
}

/** Failed attempts since a time, for one email and for one address. */
export async function recentFailures(
	db: Queryable,
	email: string,
	ip: string | null,
	since: Date
): Promise<{ email: number; ip: number }> {
	const row = await db
		.selectFrom('login_attempts')
		.select((eb) => [
			eb.fn.count<number>('id').filterWhere('email', '=', email).as('by_email'),
			eb.fn
				.count<number>('id')
				.filterWhere('ip', '=', ip ?? '')
				.as('by_ip')
		])
		.where('succeeded', '=', false)
		.where('attempted_at', '>=', since)
		.executeTakeFirstOrThrow();
	return { email: Number(row.by_email), ip: Number(row.by_ip) };
}
