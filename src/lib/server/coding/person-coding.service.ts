import { createHash } from 'node:crypto';
import type { Queryable } from '../db/types.ts';
import { verifyRunningConfig } from '../prereg/prereg.service.ts';
import { ValidationError, type Problem } from '../validation/problems.ts';
import { armIds } from '../randomization/allocation.repository.ts';
import { scenarioIdsByKey } from '../participants/participants.repository.ts';
import { codableConversations, insertRecommendation } from './recommendations.repository.ts';

// The person coder: an analyst reads a conversation and records what the assistant recommended.
// Several people may code the same conversation (each as person:<user id>); by default they do
// not see the arm, and each sees the conversations in an order of their own, so arms do not
// come in runs.

export const NO_RECOMMENDATION = 'none';

function blindOrder(userId: string, episodeId: string): string {
	return createHash('sha256').update(`${userId}\u0000${episodeId}`).digest('hex');
}

/**
 * Whether a conversation is in the people-coded sample: a uniform draw from SHA-256 of the
 * analysis seed and the episode, below the protocol's fraction. Re-derivable by anyone with the
 * preregistered protocol and the export; the same for every coder, so their codings overlap.
 */
export function inHumanSample(seed: number, episodeId: string, fraction: number): boolean {
	const digest = createHash('sha256')
		.update(`bedside human sample\u0000${seed}\u0000${episodeId}`)
		.digest();
	return digest.readUInt32BE(0) / 2 ** 32 < fraction;
}

export interface CodingQueue {
	blind: boolean;
	/** The share of conversations people code (null: all of them). */
	sample: number | null;
	/** Conversations this person has not coded, in their own order. */
	toCode: { episodeId: string; codedBy: number }[];
	codedByMe: number;
	total: number;
}

export async function codingQueue(
	db: Queryable,
	slug: string,
	userId: string
): Promise<CodingQueue> {
	const { study, protocol } = await verifyRunningConfig(db, slug);
	const me = `person:${userId}`;
	const fraction = protocol.coding?.human_sample ?? null;
	const all = (await codableConversations(db, study.id)).filter(
		(c) => fraction === null || inHumanSample(protocol.analysis_plan.seed, c.episodeId, fraction)
	);
	const open = all.filter((c) => !c.codedBy.includes(me));
	return {
		blind: protocol.coding?.blind_to_arm ?? true,
		sample: fraction,
		toCode: open
			.sort((a, b) =>
				blindOrder(userId, a.episodeId).localeCompare(blindOrder(userId, b.episodeId))
			)
			.map((c) => ({
				episodeId: c.episodeId,
				codedBy: c.codedBy.filter((x) => x.startsWith('person:')).length
			})),
		codedByMe: all.length - open.length,
		total: all.length
	};
}

export interface ConversationToRead {
	episodeId: string;
	/** Shown only when coding is not blind to arm. */
	armKey: string | null;
	scenario: { title: string; text: string };
	messages: { turn: number; role: 'user' | 'assistant'; content: string }[];
	scale: { id: string; label: string }[];
	conditions: { id: string; name: string }[];
	alreadyCodedByMe: boolean;
}

/** The study's conversation in this episode; undefined for a malformed id or another study's episode. */
async function conversationOfStudy(db: Queryable, studyId: string, episodeId: string) {
	if (!/^[0-9a-f-]{36}$/.test(episodeId)) return undefined;
	return (await codableConversations(db, studyId, episodeId))[0];
}

/** One conversation of this study (undefined for an episode of another study or none). */
export async function conversationToRead(
	db: Queryable,
	slug: string,
	episodeId: string,
	userId: string
): Promise<ConversationToRead | undefined> {
	const { study, protocol } = await verifyRunningConfig(db, slug);
	const c = await conversationOfStudy(db, study.id, episodeId);
	if (!c) return undefined;
	const fraction = protocol.coding?.human_sample;
	if (fraction !== undefined && !inHumanSample(protocol.analysis_plan.seed, episodeId, fraction))
		return undefined;
	const scenario = protocol.scenarios.find((s) => s.id === c.scenarioKey)!;
	return {
		episodeId: c.episodeId,
		armKey: (protocol.coding?.blind_to_arm ?? true) ? null : c.armKey,
		scenario: { title: scenario.title, text: scenario.participant_text },
		messages: c.messages,
		scale: protocol.disposition_scale.map(({ id, label }) => ({ id, label })),
		conditions: scenario.relevant_conditions.map(({ id, name }) => ({ id, name })),
		alreadyCodedByMe: c.codedBy.includes(`person:${userId}`)
	};
}

/** Stores a person's coding; refuses values outside the study's lists. Returns false if they had coded it already. */
export async function recordPersonCoding(
	db: Queryable,
	slug: string,
	episodeId: string,
	userId: string,
	input: { disposition: string; conditions: string[]; note?: string }
): Promise<boolean> {
	const { study, protocol } = await verifyRunningConfig(db, slug);
	const c = await conversationOfStudy(db, study.id, episodeId);
	if (!c)
		throw new ValidationError([{ path: 'episode', message: 'no such conversation in this study' }]);
	const fraction = protocol.coding?.human_sample;
	if (fraction !== undefined && !inHumanSample(protocol.analysis_plan.seed, episodeId, fraction))
		throw new ValidationError([
			{
				path: 'episode',
				message: 'this conversation is not in the sample people code (coding.human_sample)'
			}
		]);
	const scenario = protocol.scenarios.find((s) => s.id === c.scenarioKey)!;
	const problems: Problem[] = [];
	if (
		input.disposition !== NO_RECOMMENDATION &&
		!protocol.disposition_scale.some((d) => d.id === input.disposition)
	)
		problems.push({ path: 'disposition', message: 'choose a disposition, or "no recommendation"' });
	const known = new Set(scenario.relevant_conditions.map((x) => x.id));
	const unknown = input.conditions.filter((x) => !known.has(x));
	if (unknown.length > 0)
		problems.push({
			path: 'conditions',
			message: `not a condition of this scenario: ${unknown.join(', ')}`
		});
	if ((input.note ?? '').length > 2000)
		problems.push({ path: 'note', message: 'at most 2000 characters' });
	if (problems.length > 0) throw new ValidationError(problems);
	return insertRecommendation(db, {
		studyId: study.id,
		source: 'conversation',
		episodeId,
		armId: (await armIds(db, study.id)).get(c.armKey)!,
		scenarioId: (await scenarioIdsByKey(db, study.id)).get(c.scenarioKey)!,
		coder: `person:${userId}`,
		disposition: input.disposition === NO_RECOMMENDATION ? null : input.disposition,
		conditionsCoded: [...new Set(input.conditions)],
		details: { method: 'person', note: input.note?.trim() || null }
	});
}
