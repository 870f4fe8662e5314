import { createHmac } from 'node:crypto';
import type { Queryable } from '../db/types.ts';
import { instanceSecret } from '../secrets.repository.ts';
import {
	countUnsucceeded,
	insertRateEvent,
	markRateEventSucceeded,
	pruneRateEvents
} from './throttle.repository.ts';

// Limits that hold across instances and under concurrency. An attempt is recorded *before* it is
// checked and counts as failed until it succeeds: when N attempts race, the k-th to be recorded
// sees at least k, so at most `limit` of them are ever let through (reading first and writing
// the failure last let 150 parallel guesses through a limit of 5).

export interface Limit {
	/** What is limited, e.g. 'resume-code:address'. */
	bucket: string;
	/** At most this many unsucceeded attempts per subject in the window. */
	max: number;
	windowMs: number;
}

export interface Admission {
	admitted: boolean;
	/** Mark the attempt succeeded so it no longer counts against the subject. */
	succeeded(): Promise<void>;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Records an attempt for a subject and says whether it is within the limit. Attempts older than
 * a day are forgotten on the way (no window here is longer).
 */
export async function admit(
	db: Queryable,
	limit: Limit,
	subject: string,
	now: Date = new Date()
): Promise<Admission> {
	await pruneRateEvents(db, new Date(now.getTime() - DAY_MS));
	const id = await insertRateEvent(db, { bucket: limit.bucket, subject, at: now });
	const count = await countUnsucceeded(
		db,
		limit.bucket,
		subject,
		new Date(now.getTime() - limit.windowMs)
	);
	return { admitted: count <= limit.max, succeeded: () => markRateEventSucceeded(db, id) };
}

/**
 * A client address as a throttle subject: a keyed hash, so the table never holds addresses
 * (participants are told what Bedside keeps about them).
 */
export async function addressSubject(db: Queryable, address: string | null): Promise<string> {
	const key = await instanceSecret(db, 'throttle-subject-hmac');
	return createHmac('sha256', key)
		.update(address ?? 'unknown')
		.digest('hex');
}
