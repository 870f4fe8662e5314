import { sql } from 'kysely';
import type { Queryable } from '../db/types.ts';

// The export's reads, each in pages of PAGE rows by key (keyset pagination): memory stays flat
// however large the study, on PostgreSQL and PGlite alike.

export const PAGE = 1000;

/** Pages of rows after a key, until a page comes back empty. */
async function* keyset<T, K>(
	page: (after: K | null) => Promise<T[]>,
	keyOf: (row: T) => K
): AsyncGenerator<T[]> {
	let after: K | null = null;
	for (;;) {
		const rows = await page(after);
		if (rows.length === 0) return;
		yield rows;
		after = keyOf(rows.at(-1)!);
	}
}

export function participantPages(db: Queryable, studyId: string) {
	return keyset(
		(after: string | null) =>
			db
				.selectFrom('participants as p')
				.leftJoin('allocation_slots as s', 's.participant_id', 'p.id')
				.leftJoin('arms as a', 'a.id', 's.arm_id')
				.select([
					'p.id',
					'a.key as arm_key',
					'p.stratum',
					'p.status',
					'p.consented_at',
					'p.allocated_at',
					'p.completed_at',
					'p.exclusion_reason'
				])
				.select((eb) =>
					eb
						.exists(
							eb
								.selectFrom('measures as m')
								.select('m.participant_id')
								.whereRef('m.participant_id', '=', 'p.id')
								.where('m.measure', 'like', 'attention\\_%')
								.where('m.value_numeric', '=', 0)
						)
						.as('failed_attention')
				)
				.where('p.study_id', '=', studyId)
				.where('p.is_test', '=', false)
				.where('p.consented_at', 'is not', null)
				.$if(after !== null, (q) => q.where('p.id', '>', after!))
				.orderBy('p.id')
				.limit(PAGE)
				.execute(),
		(r) => r.id
	);
}

export function episodePages(db: Queryable, studyId: string) {
	return keyset(
		(after: string | null) =>
			db
				.selectFrom('episodes as e')
				.innerJoin('participants as p', 'p.id', 'e.participant_id')
				.innerJoin('scenarios as sc', 'sc.id', 'e.scenario_id')
				.leftJoin('decisions as d', 'd.episode_id', 'e.id')
				.leftJoin('initial_decisions as i', 'i.episode_id', 'e.id')
				.leftJoin('decision_codings as dc', (join) =>
					join.onRef('dc.decision_id', '=', 'd.id').on('dc.coder', '=', 'rule')
				)
				.select([
					'e.id',
					'e.participant_id',
					'e.episode',
					'sc.key as scenario_key',
					'sc.correct_disposition',
					'd.disposition',
					'd.conditions_text',
					'dc.conditions_coded',
					'd.submitted_at',
					'i.disposition as initial_disposition',
					sql<Date>`coalesce((select min(ev.created_at) from episode_events ev where ev.episode_id = e.id), e.started_at)`.as(
						'started_at'
					),
					sql<number>`(select count(*) from messages m where m.episode_id = e.id and m.role = 'user')::int`.as(
						'user_messages'
					),
					sql<number>`(select coalesce(sum((ev.payload->>'length')::int), 0) from episode_events ev where ev.episode_id = e.id and ev.kind = 'paste' and (ev.payload->>'length') ~ '^[0-9]{1,9}$')::int`.as(
						'pasted_chars'
					),
					sql<number>`(select count(*) from episode_events ev where ev.episode_id = e.id and ev.kind = 'visibility_hidden')::int`.as(
						'hidden_events'
					),
					sql<number>`(select coalesce(sum((ev.payload->>'ms')::bigint), 0) / 1000.0 from episode_events ev where ev.episode_id = e.id and ev.kind = 'typing' and (ev.payload->>'ms') ~ '^[0-9]{1,9}$')::float8`.as(
						'typing_seconds'
					),
					sql<
						number | null
					>`extract(epoch from d.submitted_at - (select min(ev.created_at) from episode_events ev where ev.episode_id = e.id and ev.kind = 'assist_started'))::float8`.as(
						'assist_seconds'
					)
				])
				.where('p.study_id', '=', studyId)
				.where('p.is_test', '=', false)
				.where('p.consented_at', 'is not', null)
				.$if(after !== null, (q) => q.where('e.id', '>', after!))
				.orderBy('e.id')
				.limit(PAGE)
				.execute(),
		(r) => r.id
	);
}

export function measurePages(db: Queryable, studyId: string) {
	return keyset(
		(after: number | null) =>
			db
				.selectFrom('measures as m')
				.innerJoin('participants as p', 'p.id', 'm.participant_id')
				.leftJoin('episodes as e', 'e.id', 'm.episode_id')
				.select([
					'm.id',
					'm.participant_id',
					'e.episode',
					'm.measure',
					'm.kind',
					'm.value_numeric',
					'm.value_text',
					'm.recorded_at'
				])
				.where('p.study_id', '=', studyId)
				.where('p.is_test', '=', false)
				.$if(after !== null, (q) => q.where('m.id', '>', after!))
				.orderBy('m.id')
				.limit(PAGE)
				.execute(),
		(r) => r.id
	);
}

export function recommendationPages(db: Queryable, studyId: string) {
	return keyset(
		(after: number | null) =>
			db
				.selectFrom('recommendations as r')
				.innerJoin('arms as a', 'a.id', 'r.arm_id')
				.innerJoin('scenarios as sc', 'sc.id', 'r.scenario_id')
				.leftJoin('episodes as e', 'e.id', 'r.episode_id')
				.select([
					'r.id',
					'r.source',
					'e.participant_id',
					'e.episode',
					'r.run_id',
					'r.mode',
					'r.repeat',
					'a.key as arm_key',
					'sc.key as scenario_key',
					'sc.correct_disposition',
					'r.coder',
					'r.disposition',
					'r.conditions_coded'
				])
				.where('r.study_id', '=', studyId)
				.$if(after !== null, (q) => q.where('r.id', '>', after!))
				.orderBy('r.id')
				.limit(PAGE)
				.execute(),
		(r) => r.id
	);
}

export function messagePages(db: Queryable, studyId: string) {
	return keyset(
		(after: number | null) =>
			db
				.selectFrom('messages as m')
				.innerJoin('episodes as e', 'e.id', 'm.episode_id')
				.innerJoin('participants as p', 'p.id', 'e.participant_id')
				.leftJoin('assistant_calls as c', 'c.id', 'm.assistant_call_id')
				.select([
					'm.id',
					'e.participant_id',
					'e.episode',
					'm.turn',
					'm.role',
					'm.content',
					'm.created_at',
					'c.model_returned',
					'c.latency_ms',
					'c.tokens_in',
					'c.tokens_out'
				])
				.where('p.study_id', '=', studyId)
				.where('p.is_test', '=', false)
				.$if(after !== null, (q) => q.where('m.id', '>', after!))
				.orderBy('m.id')
				.limit(PAGE)
				.execute(),
		(r) => r.id
	);
}

/** People who declined consent (not exported, counted for CONSORT); test participants left out. */
export async function declinedCount(db: Queryable, studyId: string): Promise<number> {
	const row = await db
		.selectFrom('participants')
		.select((eb) => eb.fn.countAll<string>().as('n'))
		.where('study_id', '=', studyId)
		.where('is_test', '=', false)
		.where('status', '=', 'declined')
		.executeTakeFirstOrThrow();
	return Number(row.n);
}

export function followUpPages(db: Queryable, studyId: string) {
	return keyset(
		(after: string | null) =>
			db
				.selectFrom('follow_up_responses as r')
				.innerJoin('participants as p', 'p.id', 'r.participant_id')
				.select([
					'r.participant_id',
					'r.follow_up',
					'r.answered_at',
					'r.days_since_completion',
					sql<string>`r.participant_id::text || '/' || r.follow_up`.as('key')
				])
				.where('p.study_id', '=', studyId)
				.where('p.is_test', '=', false)
				.$if(after !== null, (q) =>
					q.where(sql<string>`r.participant_id::text || '/' || r.follow_up`, '>', after!)
				)
				.orderBy('key')
				.limit(PAGE)
				.execute(),
		(r) => r.key
	);
}
