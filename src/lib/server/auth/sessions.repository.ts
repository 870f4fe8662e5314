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

/** Records a sign-in attempt, counted as failed until marked succeeded; returns its id. */
export async function recordLoginAttempt(
	db: Queryable,
	a: { email: string; ip: string | null; device: string | null; at: Date }
): Promise<number> {
	const row = await db
		.insertInto('login_attempts')
		.values({ email: a.email, ip: a.ip, device: a.device, succeeded: false, attempted_at: a.at })
		.returning('id')
		.executeTakeFirstOrThrow();
	return Number(row.id);
}

/** Marks an attempt succeeded, from the device (cookie hash) the browser keeps from now on. */
export async function markLoginSucceeded(db: Queryable, id: number, device: string): Promise<void> {
	await db
		.updateTable('login_attempts')
		.set({ succeeded: true, device })
		.where('id', '=', id)
		.execute();
}

/**
 * Failed (or not yet decided) attempts since a time: for one email from anywhere, for one email
 * from one known device, and from one address.
 */
export async function recentFailures(
	db: Queryable,
	email: string,
	ip: string | null,
	device: string | null,
	since: Date
): Promise<{ email: number; device: number; ip: number }> {
	const row = await db
		.selectFrom('login_attempts')
		.select((eb) => [
			eb.fn.count<number>('id').filterWhere('email', '=', email).as('by_email'),
			eb.fn
				.count<number>('id')
				.filterWhere((w) => w.and([w('email', '=', email), w('device', '=', device ?? '')]))
				.as('by_device'),
			eb.fn
				.count<number>('id')
				.filterWhere('ip', '=', ip ?? '')
				.as('by_ip')
		])
		.where('succeeded', '=', false)
		.where('attempted_at', '>=', since)
		.executeTakeFirstOrThrow();
	return { email: Number(row.by_email), device: Number(row.by_device), ip: Number(row.by_ip) };
}

/** Whether a browser (its device cookie's hash) has signed in to this account before. */
export async function isKnownDevice(
	db: Queryable,
	email: string,
	device: string
): Promise<boolean> {
	const row = await db
		.selectFrom('login_attempts')
		.select('id')
		.where('email', '=', email)
		.where('device', '=', device)
		.where('succeeded', '=', true)
		.limit(1)
		.executeTakeFirst();
	return row !== undefined;
}
