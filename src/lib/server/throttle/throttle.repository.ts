import type { Queryable } from '../db/types.ts';

/** Records one attempt, counted as failed until marked otherwise; returns its id. */
export async function insertRateEvent(
	db: Queryable,
	e: { bucket: string; subject: string; at: Date }
): Promise<string> {
	const row = await db
		.insertInto('rate_events')
		.values({ bucket: e.bucket, subject: e.subject, at: e.at })
		.returning('id')
		.executeTakeFirstOrThrow();
	return String(row.id);
}

/** Attempts not (yet) marked succeeded, for one subject since a time. */
export async function countUnsucceeded(
	db: Queryable,
	bucket: string,
	subject: string,
	since: Date
): Promise<number> {
	const row = await db
		.selectFrom('rate_events')
		.select((eb) => eb.fn.countAll<number>().as('n'))
		.where('bucket', '=', bucket)
		.where('subject', '=', subject)
		.where('succeeded', '=', false)
		.where('at', '>=', since)
		.executeTakeFirstOrThrow();
	return Number(row.n);
}

export async function markRateEventSucceeded(db: Queryable, id: string): Promise<void> {
	await db
		.updateTable('rate_events')
		.set({ succeeded: true })
		.where('id', '=', Number(id))
		.execute();
}

/** Forgets attempts older than a time: nothing here is kept longer than its window needs. */
export async function pruneRateEvents(db: Queryable, before: Date): Promise<void> {
	await db.deleteFrom('rate_events').where('at', '<', before).execute();
}
