import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Queryable } from '../db/types.ts';
import type { StudyProtocol } from '../protocols/study-schema.ts';
import { instanceSecret } from '../secrets.repository.ts';
import { completionOf } from './follow-ups.repository.ts';

// A follow-up link is personal and needs no table: `/f/<participant>.<follow-up>.<mac>`, the mac a
// keyed hash of the first two, so it can be shown again on every reload of the completion page and
// in the owner's panel list, and nobody can make one for someone else. It opens `after_days` after
// the participant completed and expires `window_days` later.

export interface FollowUpLink {
	id: string;
	path: string;
	opensAt: string;
	expiresAt: string;
}

const DAY_MS = 86_400_000;

async function mac(db: Queryable, participantId: string, followUpId: string): Promise<string> {
	const key = await instanceSecret(db, 'follow_up_links');
	return createHmac('sha256', key)
		.update(`${participantId}.${followUpId}`)
		.digest('base64url')
		.slice(0, 32);
}

export async function followUpPath(
	db: Queryable,
	participantId: string,
	followUpId: string
): Promise<string> {
	return `/f/${participantId}.${followUpId}.${await mac(db, participantId, followUpId)}`;
}

/** The participant and follow-up a link names, or null when it is malformed or forged. */
export async function parseFollowUpToken(
	db: Queryable,
	token: string
): Promise<{ participantId: string; followUpId: string } | null> {
	const m = /^([0-9a-f-]{36})\.([a-z0-9][a-z0-9_-]{0,62})\.([A-Za-z0-9_-]{32})$/.exec(token);
	if (!m) return null;
	const [, participantId, followUpId, given] = m as unknown as [string, string, string, string];
	const expected = Buffer.from(await mac(db, participantId, followUpId));
	const actual = Buffer.from(given);
	return timingSafeEqual(expected, actual) ? { participantId, followUpId } : null;
}

/** When a follow-up opens and closes for someone who completed at `completedAt`. */
export function followUpWindow(
	followUp: NonNullable<StudyProtocol['follow_ups']>[number],
	completedAt: Date
): { opensAt: Date; expiresAt: Date } {
	const opensAt = new Date(completedAt.getTime() + followUp.after_days * DAY_MS);
	return { opensAt, expiresAt: new Date(opensAt.getTime() + followUp.window_days * DAY_MS) };
}

/** The follow-up links of a participant who completed (none before completion, or in test mode). */
export async function followUpLinksOf(
	db: Queryable,
	protocol: StudyProtocol,
	participant: { id: string; status: string; completedAt?: Date | null }
): Promise<FollowUpLink[]> {
	const followUps = protocol.follow_ups ?? [];
	if (followUps.length === 0 || participant.status !== 'completed') return [];
	// A caller that read the completion time (the panel list) passes it; a page reads it here.
	const completedAt =
		participant.completedAt !== undefined
			? participant.completedAt
			: await completionOf(db, participant.id);
	if (!completedAt) return [];
	return Promise.all(
		followUps.map(async (f) => {
			const { opensAt, expiresAt } = followUpWindow(f, completedAt);
			return {
				id: f.id,
				path: await followUpPath(db, participant.id, f.id),
				opensAt: opensAt.toISOString(),
				expiresAt: expiresAt.toISOString()
			};
		})
	);
}
