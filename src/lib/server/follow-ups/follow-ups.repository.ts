import type { Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { Queryable } from '../db/types.ts';

/** When the participant completed the main session (null: not completed). */
export async function completionOf(db: Queryable, participantId: string): Promise<Date | null> {
	const row = await db
		.selectFrom('participants')
		.select('completed_at')
		.where('id', '=', participantId)
		.executeTakeFirst();
	return row?.completed_at ?? null;
}

export async function followUpAnsweredAt(
	db: Queryable,
	participantId: string,
	followUpId: string
): Promise<Date | null> {
	const row = await db
		.selectFrom('follow_up_responses')
		.select('answered_at')
		.where('participant_id', '=', participantId)
		.where('follow_up', '=', followUpId)
		.executeTakeFirst();
	return row?.answered_at ?? null;
}

/**
 * Records one follow-up's answers: the response row and one participant-level measure per
 * question (source follow_up). False when the follow-up was already answered (nothing written).
 */
export async function insertFollowUpAnswers(
	trx: Transaction<DB>,
	response: { participantId: string; followUpId: string; at: Date; daysSinceCompletion: number },
	measures: { measure: string; kind: 'clinical' | 'proxy'; value: number }[]
): Promise<boolean> {
	const inserted = await trx
		.insertInto('follow_up_responses')
		.values({
			participant_id: response.participantId,
			follow_up: response.followUpId,
			answered_at: response.at,
			days_since_completion: response.daysSinceCompletion
		})
		.onConflict((oc) => oc.columns(['participant_id', 'follow_up']).doNothing())
		.returning('participant_id')
		.executeTakeFirst();
	if (!inserted) return false;
	await trx
		.insertInto('measures')
		.values(
			measures.map((m) => ({
				participant_id: response.participantId,
				episode_id: null,
				measure: m.measure,
				kind: m.kind,
				value_numeric: m.value,
				source: 'follow_up',
				recorded_at: response.at
			}))
		)
		.execute();
	return true;
}

/** Every follow-up answer of the study's participants (for the export and the monitoring counts). */
export async function followUpResponsesOf(
	db: Queryable,
	studyId: string
): Promise<{ participantId: string; followUp: string; answeredAt: Date; days: number }[]> {
	const rows = await db
		.selectFrom('follow_up_responses as r')
		.innerJoin('participants as p', 'p.id', 'r.participant_id')
		.select(['r.participant_id', 'r.follow_up', 'r.answered_at', 'r.days_since_completion'])
		.where('p.study_id', '=', studyId)
		.where('p.is_test', '=', false)
		.orderBy('r.answered_at')
		.execute();
	return rows.map((r) => ({
		participantId: r.participant_id,
		followUp: r.follow_up,
		answeredAt: r.answered_at,
		days: r.days_since_completion
	}));
}
