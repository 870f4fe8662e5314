import type { Queryable } from '../db/types.ts';
import { scenarioIdsByKey } from '../participants/participants.repository.ts';
import { armIds } from '../randomization/allocation.repository.ts';

// What the assistant recommended, as coded: one row per conversation (or benchmark item and
// repeat) per coder.

export interface RecommendationInput {
	studyId: string;
	source: 'conversation' | 'benchmark';
	episodeId?: string | null;
	runId?: string | null;
	mode?: 'physician' | 'patient-first-turn' | 'simulated' | null;
	itemKey?: string | null;
	repeat?: number | null;
	armId: string;
	scenarioId: string;
	coder: string;
	disposition: string | null;
	conditionsCoded: string[];
	details: Record<string, unknown>;
}

/** Stores a coding once; a second one by the same coder for the same item is ignored. */
export async function insertRecommendation(
	db: Queryable,
	r: RecommendationInput
): Promise<boolean> {
	const result = await db
		.insertInto('recommendations')
		.values({
			study_id: r.studyId,
			source: r.source,
			episode_id: r.episodeId ?? null,
			run_id: r.runId ?? null,
			mode: r.mode ?? null,
			item_key: r.itemKey ?? null,
			repeat: r.repeat ?? null,
			arm_id: r.armId,
			scenario_id: r.scenarioId,
			coder: r.coder,
			disposition: r.disposition,
			conditions_coded: r.conditionsCoded,
			details: JSON.stringify(r.details)
		})
		.onConflict((oc) => oc.doNothing())
		.executeTakeFirst();
	return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

/** Benchmark items (scenario, item, repeat) a run has already stored, as `scenarioId|item|repeat`. */
export async function doneBenchmarkItems(db: Queryable, runId: string): Promise<Set<string>> {
	const rows = await db
		.selectFrom('recommendations')
		.select(['scenario_id', 'item_key', 'repeat'])
		.where('run_id', '=', runId)
		.where('coder', '=', 'rule')
		.execute();
	return new Set(rows.map((r) => `${r.scenario_id}|${r.item_key}|${r.repeat}`));
}

export interface ConversationToCode {
	episodeId: string;
	armId: string;
	armKey: string;
	scenarioId: string;
	scenarioKey: string;
	/** The assistant's messages, in order. */
	assistantMessages: string[];
}

/** Conversations of the study with at least one assistant message and no coding by `coder`. */
export async function conversationsToCode(
	db: Queryable,
	studyId: string,
	coder: string
): Promise<ConversationToCode[]> {
	const all = await codableConversations(db, studyId);
	const arms = await armIds(db, studyId);
	const scenarioIds = await scenarioIdsByKey(db, studyId);
	return all
		.filter((c) => !c.codedBy.includes(coder))
		.map((c) => ({
			episodeId: c.episodeId,
			armId: arms.get(c.armKey)!,
			armKey: c.armKey,
			scenarioId: scenarioIds.get(c.scenarioKey)!,
			scenarioKey: c.scenarioKey,
			assistantMessages: c.messages.filter((m) => m.role === 'assistant').map((m) => m.content)
		}));
}

export interface CodableConversation {
	episodeId: string;
	armKey: string;
	scenarioKey: string;
	messages: { turn: number; role: 'user' | 'assistant'; content: string }[];
	/** Coders (rule, model:…, person:…) that have coded it. */
	codedBy: string[];
}

/** Conversations of the study with an assistant message; one, when `episodeId` is given. */
export async function codableConversations(
	db: Queryable,
	studyId: string,
	episodeId?: string
): Promise<CodableConversation[]> {
	let query = db
		.selectFrom('messages')
		.innerJoin('episodes', 'episodes.id', 'messages.episode_id')
		.innerJoin('participants', 'participants.id', 'episodes.participant_id')
		.innerJoin('allocation_slots', 'allocation_slots.participant_id', 'participants.id')
		.innerJoin('arms', 'arms.id', 'allocation_slots.arm_id')
		.innerJoin('scenarios', 'scenarios.id', 'episodes.scenario_id')
		.select([
			'episodes.id as episode_id',
			'arms.key as arm_key',
			'scenarios.key as scenario_key',
			'messages.turn',
			'messages.role',
			'messages.content'
		])
		.where('participants.study_id', '=', studyId)
		.where(({ exists, selectFrom }) =>
			exists(
				selectFrom('messages as m2')
					.select('m2.id')
					.whereRef('m2.episode_id', '=', 'episodes.id')
					.where('m2.role', '=', 'assistant')
			)
		)
		.orderBy('episodes.id')
		.orderBy('messages.turn')
		.orderBy('messages.id');
	if (episodeId) query = query.where('episodes.id', '=', episodeId);
	const rows = await query.execute();
	const codings = await db
		.selectFrom('recommendations')
		.select(['episode_id', 'coder'])
		.where('study_id', '=', studyId)
		.where('source', '=', 'conversation')
		.execute();
	const byEpisode = new Map<string, CodableConversation>();
	for (const r of rows) {
		const c = byEpisode.get(r.episode_id) ?? {
			episodeId: r.episode_id,
			armKey: r.arm_key,
			scenarioKey: r.scenario_key,
			messages: [],
			codedBy: codings.filter((x) => x.episode_id === r.episode_id).map((x) => x.coder)
		};
		c.messages.push({ turn: r.turn, role: r.role as 'user' | 'assistant', content: r.content });
		byEpisode.set(r.episode_id, c);
	}
	return [...byEpisode.values()];
}

/** Every coding of a conversation in the study: which coder said which disposition. */
export async function conversationCodings(
	db: Queryable,
	studyId: string
): Promise<{ episodeId: string; coder: string; disposition: string | null }[]> {
	const rows = await db
		.selectFrom('recommendations')
		.select(['episode_id', 'coder', 'disposition'])
		.where('study_id', '=', studyId)
		.where('source', '=', 'conversation')
		.execute();
	return rows.map((r) => ({
		episodeId: r.episode_id!,
		coder: r.coder,
		disposition: r.disposition
	}));
}
