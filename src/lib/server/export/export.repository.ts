import { sql } from 'kysely';
import type { Queryable } from '../db/types.ts';
import { failedAttentionOf } from '../participants/participants.repository.ts';

// The export's reads, each in pages of PAGE rows by key (keyset pagination): memory stays flat
// however large the study, on PostgreSQL and PGlite alike.

export const PAGE = 1000;
// Rows without free text (participants, episodes) come in larger pages: fewer round trips, and
// the planner hashes a whole table (decisions) once per page. A page is a few MB at most.
const ROW_PAGE = 10_000;

/**
 * Pages of rows after a key, until a page comes back empty. The next page is asked for as soon as
 * this one arrives, so the database reads it while this one is formatted and written (on a pool;
 * PGlite's one connection simply takes them in turn). At most two pages are in memory.
 */
async function* keyset<T, K>(
	page: (after: K | null) => Promise<T[]>,
	keyOf: (row: T) => K
): AsyncGenerator<T[]> {
	let next = page(null);
	for (;;) {
		const rows = await next;
		if (rows.length === 0) return;
		next = page(keyOf(rows.at(-1)!));
		// Seen when awaited; an export abandoned half-way must not leave an unhandled rejection.
		next.catch(() => {});
		yield rows;
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
				.select(failedAttentionOf)
				.where('p.study_id', '=', studyId)
				.where('p.is_test', '=', false)
				.where('p.consented_at', 'is not', null)
				.$if(after !== null, (q) => q.where('p.id', '>', after!))
				.orderBy('p.id')
				.limit(ROW_PAGE)
				.execute(),
		(r) => r.id
	);
}

export function episodePages(db: Queryable, studyId: string) {
	return keyset(
		(after: string | null) =>
			db
				// The page's episodes first, then everything joined to those 1,000 only: joined to the
				// whole study, the planner would walk the decisions from the start on every page.
				.selectFrom((eb) =>
					eb
						.selectFrom('episodes as e0')
						.innerJoin('participants as p', 'p.id', 'e0.participant_id')
						.select(['e0.id', 'e0.participant_id', 'e0.episode', 'e0.scenario_id', 'e0.started_at'])
						.where('p.study_id', '=', studyId)
						.where('p.is_test', '=', false)
						.where('p.consented_at', 'is not', null)
						.$if(after !== null, (q) => q.where('e0.id', '>', after!))
						.orderBy('e0.id')
						.limit(ROW_PAGE)
						.as('e')
				)
				.innerJoin('scenarios as sc', 'sc.id', 'e.scenario_id')
				.leftJoin('decisions as d', 'd.episode_id', 'e.id')
				.leftJoin('initial_decisions as i', 'i.episode_id', 'e.id')
				.leftJoin('decision_codings as dc', (join) =>
					join.onRef('dc.decision_id', '=', 'd.id').on('dc.coder', '=', 'rule')
				)
				// One pass over the episode's events for all the telemetry columns.
				.leftJoinLateral(
					(eb) =>
						eb
							.selectFrom('episode_events as ev')
							.select([
								sql<Date | null>`min(ev.created_at)`.as('first_at'),
								sql<number>`coalesce(sum((ev.payload->>'length')::int) filter (where ev.kind = 'paste' and (ev.payload->>'length') ~ '^[0-9]{1,9}$'), 0)::int`.as(
									'pasted_chars'
								),
								sql<number>`(count(*) filter (where ev.kind = 'visibility_hidden'))::int`.as(
									'hidden_events'
								),
								sql<number>`(coalesce(sum((ev.payload->>'ms')::bigint) filter (where ev.kind = 'typing' and (ev.payload->>'ms') ~ '^[0-9]{1,9}$'), 0) / 1000.0)::float8`.as(
									'typing_seconds'
								),
								sql<Date | null>`min(ev.created_at) filter (where ev.kind = 'assist_started')`.as(
									'assist_started_at'
								)
							])
							.whereRef('ev.episode_id', '=', 'e.id')
							.as('evs'),
					(join) => join.onTrue()
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
					sql<Date>`coalesce(evs.first_at, e.started_at)`.as('started_at'),
					sql<number>`(select count(*) from messages m where m.episode_id = e.id and m.role = 'user')::int`.as(
						'user_messages'
					),
					sql<number>`evs.pasted_chars`.as('pasted_chars'),
					sql<number>`evs.hidden_events`.as('hidden_events'),
					sql<number>`evs.typing_seconds`.as('typing_seconds'),
					sql<number | null>`extract(epoch from d.submitted_at - evs.assist_started_at)::float8`.as(
						'assist_seconds'
					)
				])
				.orderBy('e.id')
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

// The same columns and cells as messagePages and the messages writer, formatted by PostgreSQL for
// COPY: ISO 8601 UTC timestamps with milliseconds (as Date.toISOString), the spreadsheet-formula
// rule on text cells (a leading quote), and an empty text as an empty cell (NULL), not "".
// tests/integration/export.test.ts checks that both give the same file.
const FORMULA_PATTERN = '^[=+\\-@\\t\\r]';

function safeText(column: string, neutralize: boolean): string {
	return neutralize
		? `nullif(case when ${column} ~ '${FORMULA_PATTERN}' then '''' || ${column} else ${column} end, '')`
		: `nullif(${column}, '')`;
}

export function messagesCopyQuery(
	studyId: string,
	o: { freeText: boolean; neutralize: boolean }
): string {
	// COPY takes no bind parameters: the id goes in as a literal, so it must be a UUID.
	if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(studyId))
		throw new Error(`not a study id: ${studyId}`);
	return `select e.participant_id, e.episode, m.turn, ${safeText('m.role', o.neutralize)},
		${o.freeText ? safeText('m.content', o.neutralize) : 'null'},
		to_char(m.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
		${safeText('c.model_returned', o.neutralize)}, c.latency_ms, c.tokens_in, c.tokens_out
	from messages m
	join episodes e on e.id = m.episode_id
	join participants p on p.id = e.participant_id
	left join assistant_calls c on c.id = m.assistant_call_id
	where p.study_id = '${studyId}' and not p.is_test
	order by m.id`;
}

/** How many text cells of messages.csv the formula rule changes (for the export's report). */
export async function messageFormulaCells(
	db: Queryable,
	studyId: string,
	freeText: boolean
): Promise<number> {
	const row = await sql<{ n: string }>`
		select count(*) filter (where m.role ~ ${FORMULA_PATTERN})
			+ count(*) filter (where ${freeText} and m.content ~ ${FORMULA_PATTERN})
			+ count(*) filter (where c.model_returned ~ ${FORMULA_PATTERN}) as n
		from messages m
		join episodes e on e.id = m.episode_id
		join participants p on p.id = e.participant_id
		left join assistant_calls c on c.id = m.assistant_call_id
		where p.study_id = ${studyId} and not p.is_test`.execute(db);
	return Number(row.rows[0]?.n ?? 0);
}
