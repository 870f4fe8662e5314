import type { Queryable } from '../db/types.ts';
import { inTransaction } from '../db/types.ts';
import { protocolOf } from '../participants/participant-view.ts';
import {
	findParticipantById,
	lockParticipant,
	type ParticipantRow
} from '../participants/participants.repository.ts';
import type { StudyProtocol } from '../protocols/study-schema.ts';
import { findStudyById } from '../studies/studies.repository.ts';
import { ValidationError, type Problem } from '../validation/problems.ts';
import { externalIdHash, studyAtLink } from '../participants/entry.service.ts';
import { findByExternalHash } from '../participants/participants.repository.ts';
import { followUpPath, followUpWindow, parseFollowUpToken } from './follow-up-links.ts';
import {
	completionOf,
	followUpAnsweredAt,
	insertFollowUpAnswers
} from './follow-ups.repository.ts';

// A follow-up wave: those who completed the main session answer a few questions days later, and
// each answer is a participant-level outcome (clinical or proxy, as the protocol declares), written
// once with the time since the main session. The link opens after `after_days` and expires after
// `window_days` more; before, after, or once answered, it says so and records nothing.

type FollowUp = NonNullable<StudyProtocol['follow_ups']>[number];

export type FollowUpView =
	| { kind: 'invalid' }
	| {
			kind: 'not_yet' | 'open' | 'expired' | 'answered';
			studyTitle: string;
			followUp: { id: string; intro: string | null; questions: FollowUpQuestionView[] };
			opensAt: string;
			expiresAt: string;
	  };

export interface FollowUpQuestionView {
	id: string;
	text: string;
	options: { value: string; label: string }[];
}

interface Resolved {
	participant: ParticipantRow;
	protocol: StudyProtocol;
	followUp: FollowUp;
	completedAt: Date;
	studyTitle: string;
}

async function resolve(db: Queryable, token: string): Promise<Resolved | null> {
	const parsed = await parseFollowUpToken(db, token);
	if (!parsed) return null;
	const participant = await findParticipantById(db, parsed.participantId);
	if (!participant || participant.status !== 'completed') return null;
	const protocol = await protocolOf(db, participant);
	const followUp = protocol.follow_ups?.find((f) => f.id === parsed.followUpId);
	const completedAt = await completionOf(db, participant.id);
	const study = await findStudyById(db, participant.studyId);
	if (!followUp || !completedAt || !study) return null;
	return { participant, protocol, followUp, completedAt, studyTitle: study.title };
}

function options(q: FollowUp['questions'][number]): { value: string; label: string }[] {
	if (q.type === 'yes_no')
		return [
			{ value: '1', label: 'Yes' },
			{ value: '0', label: 'No' }
		];
	const scale = q.scale!;
	return Array.from({ length: scale.max - scale.min + 1 }, (_, i) => {
		const point = scale.min + i;
		return { value: String(point), label: scale.labels[String(point)] ?? String(point) };
	});
}

/** What the follow-up page shows for a link at `now`. */
export async function followUpView(
	db: Queryable,
	token: string,
	now: Date = new Date()
): Promise<FollowUpView> {
	const r = await resolve(db, token);
	if (!r) return { kind: 'invalid' };
	const { opensAt, expiresAt } = followUpWindow(r.followUp, r.completedAt);
	const answered = await followUpAnsweredAt(db, r.participant.id, r.followUp.id);
	const kind = answered
		? 'answered'
		: now < opensAt
			? 'not_yet'
			: now >= expiresAt
				? 'expired'
				: 'open';
	return {
		kind,
		studyTitle: r.studyTitle,
		followUp: {
			id: r.followUp.id,
			intro: r.followUp.intro ?? null,
			questions: r.followUp.questions.map((q) => ({ id: q.id, text: q.text, options: options(q) }))
		},
		opensAt: opensAt.toISOString(),
		expiresAt: expiresAt.toISOString()
	};
}

function answersOf(followUp: FollowUp, raw: Record<string, string>) {
	const problems: Problem[] = [];
	const values = followUp.questions.map((q) => {
		const given = raw[q.id];
		const allowed = options(q).map((o) => o.value);
		if (given === undefined || given === '')
			problems.push({ path: q.id, message: 'choose an answer' });
		else if (!allowed.includes(given))
			problems.push({ path: q.id, message: `must be one of ${allowed.join(', ')}` });
		return { measure: q.id, kind: q.kind, value: Number(given) };
	});
	return { values, problems };
}

export class FollowUpClosedError extends Error {
	constructor(readonly reason: 'invalid' | 'not_yet' | 'expired') {
		super(`this follow-up link is ${reason === 'not_yet' ? 'not open yet' : reason}`);
		this.name = 'FollowUpClosedError';
	}
}

/**
 * Records the answers once. A second submission (another tab, the back button) changes nothing
 * and is not an error; a link that is not open refuses with the reason.
 */
export async function submitFollowUp(
	db: Queryable,
	token: string,
	raw: Record<string, string>,
	now: Date = new Date()
): Promise<void> {
	const r = await resolve(db, token);
	if (!r) throw new FollowUpClosedError('invalid');
	const { opensAt, expiresAt } = followUpWindow(r.followUp, r.completedAt);
	const { values, problems } = answersOf(r.followUp, raw);
	if (await followUpAnsweredAt(db, r.participant.id, r.followUp.id)) return;
	if (now < opensAt) throw new FollowUpClosedError('not_yet');
	if (now >= expiresAt) throw new FollowUpClosedError('expired');
	if (problems.length > 0) throw new ValidationError(problems);
	await inTransaction(db, async (trx) => {
		await lockParticipant(trx, r.participant.id);
		await insertFollowUpAnswers(
			trx,
			{
				participantId: r.participant.id,
				followUpId: r.followUp.id,
				at: now,
				daysSinceCompletion: (now.getTime() - r.completedAt.getTime()) / 86_400_000
			},
			values
		);
	});
}

/**
 * The personal follow-up link of the participant who came with this panel id (a follow-up study on
 * the panel sends everyone to one address carrying their id), or null when none completed with it.
 */
export async function followUpPathForPanelId(
	db: Queryable,
	slug: string,
	followUpId: string,
	panelId: string
): Promise<string | null> {
	const study = await studyAtLink(db, slug);
	if (!study) return null;
	const participant = await findByExternalHash(
		db,
		study.id,
		await externalIdHash(db, slug, panelId)
	);
	if (!participant || participant.status !== 'completed') return null;
	const protocol = await protocolOf(db, participant);
	if (!protocol.follow_ups?.some((f) => f.id === followUpId)) return null;
	return followUpPath(db, participant.id, followUpId);
}
