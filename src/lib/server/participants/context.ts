import type { Queryable } from '../db/types.ts';
import type { StudyProtocol } from '../protocols/study-schema.ts';
import type { StudySummary } from '../studies/studies.repository.ts';
import { sessionIdOf } from '../auth/tokens.ts';
import { studyAndParticipantBySession } from './participants.repository.ts';
import { protocolOf } from './participant-view.ts';
import type { ParticipantRow } from './participants.repository.ts';

/**
 * Everything a participant's request acts on, built once per request: the study, the participant
 * behind the session cookie, and the protocol version they consented under (they stay on it to
 * the end, whatever amendments come after).
 */
export interface ParticipantContext {
	study: StudySummary;
	participant: ParticipantRow;
	protocol: StudyProtocol;
	/** The study's preregistration chain when the context was read (for runningConfig). */
	chain: string;
}

export async function participantContext(
	db: Queryable,
	slug: string,
	token: string | undefined
): Promise<ParticipantContext | undefined> {
	if (!token) return undefined;
	const found = await studyAndParticipantBySession(db, slug, sessionIdOf(token));
	if (!found) return undefined;
	return { ...found, protocol: await protocolOf(db, found.participant) };
}
