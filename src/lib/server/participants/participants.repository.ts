import { sql, type ExpressionBuilder, type Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { Queryable } from '../db/types.ts';
import type { StudySummary } from '../studies/studies.repository.ts';

export type ParticipantStep =
	| 'consent'
	| 'screening'
	| 'episode'
	| 'attention'
	| 'end_questionnaire'
	| 'complete'
	| 'declined'
	| 'ineligible'
	| 'withdrawn';

export type EpisodeStep = 'scenario' | 'initial' | 'assist' | 'decision' | 'questionnaire' | 'done';

export interface ParticipantRow {
	id: string;
	studyId: string;
	protocolVersionId: string | null;
	status: string;
	step: ParticipantStep;
	currentEpisode: number;
	stratum: string | null;
	screening: Record<string, string>;
	completionCode: string | null;
	/** Keyed hash of the panel id the participant came with, if any. */
	externalIdHash: string | null;
	sessionTokenHash: string | null;
	/** A researcher trying the study (test mode): left out of counts, export and analysis. */
	isTest: boolean;
	/** For a test participant, the arm the researcher asked to try (else drawn). */
	testArm: string | null;
}

export interface EpisodeRow {
	id: string;
	episode: number;
	scenarioId: string;
	scenarioKey: string;
	step: EpisodeStep;
	submittedAt: Date | null;
}

const COLUMNS = [
	'id',
	'study_id',
	'protocol_version_id',
	'status',
	'step',
	'current_episode',
	'stratum',
	'screening',
	'completion_code',
	'external_id_hash',
	'session_token_hash',
	'is_test',
	'entry_params'
] as const;

function toParticipant(r: {
	id: string;
	study_id: string;
	protocol_version_id: string | null;
	status: string;
	step: string;
	current_episode: number;
	stratum: string | null;
	screening: unknown;
	completion_code: string | null;
	external_id_hash: string | null;
	session_token_hash: string | null;
	is_test: boolean;
	entry_params: unknown;
}): ParticipantRow {
	return {
		id: r.id,
		studyId: r.study_id,
		protocolVersionId: r.protocol_version_id,
		status: r.status,
		step: r.step as ParticipantStep,
		currentEpisode: r.current_episode,
		stratum: r.stratum,
		screening: (r.screening ?? {}) as Record<string, string>,
		completionCode: r.completion_code,
		externalIdHash: r.external_id_hash,
		sessionTokenHash: r.session_token_hash,
		isTest: r.is_test,
		testArm: r.is_test ? ((r.entry_params as { test_arm?: string }).test_arm ?? null) : null
	};
}

export async function insertParticipant(
	trx: Transaction<DB>,
	p: {
		id: string;
		studyId: string;
		protocolVersionId: string;
		externalIdHash: string | null;
		entryParams: Record<string, string>;
		sessionTokenHash: string;
		resumeCodeHash: string | null;
		at: Date;
		/** Consent given (the usual case) or declined, in the same statement. */
		agreed: boolean;
		isTest?: boolean;
	}
): Promise<ParticipantRow> {
	const row = await trx
		.insertInto('participants')
		.values({
			id: p.id,
			status: p.agreed ? 'consented' : 'declined',
			step: p.agreed ? 'screening' : 'declined',
			consented_at: p.agreed ? p.at : null,
			study_id: p.studyId,
			protocol_version_id: p.protocolVersionId,
			external_id_hash: p.externalIdHash,
			entry_params: JSON.stringify(p.entryParams),
			session_token_hash: p.sessionTokenHash,
			resume_code_hash: p.resumeCodeHash,
			is_test: p.isTest ?? false,
			created_at: p.at,
			updated_at: p.at
		})
		.returning(COLUMNS)
		.executeTakeFirstOrThrow();
	return toParticipant(row);
}

/**
 * Serializes consents that carry the same identity (a panel id's hash, or a consent form's session
 * hash: a double click on "I agree", two tabs): the second waits for the first to commit, then
 * finds the participant it created instead of colliding with it. Transaction-scoped.
 */
export async function lockIdentity(trx: Transaction<DB>, hash: string): Promise<void> {
	await sql`select pg_advisory_xact_lock(${Number.parseInt(hash.slice(0, 12), 16)}::bigint)`.execute(
		trx
	);
}

/** A study's participant by one of the hashes that identify them (each column is unique). */
async function findByHash(
	db: Queryable,
	studyId: string,
	column: 'external_id_hash' | 'session_token_hash' | 'resume_code_hash',
	hash: string
): Promise<ParticipantRow | undefined> {
	const row = await db
		.selectFrom('participants')
		.select(COLUMNS)
		.where('study_id', '=', studyId)
		.where(column, '=', hash)
		.executeTakeFirst();
	return row && toParticipant(row);
}

/** By the keyed hash of their panel id. */
export const findByExternalHash = (db: Queryable, studyId: string, hash: string) =>
	findByHash(db, studyId, 'external_id_hash', hash);

/** By the SHA-256 of their resume code. */
export const findByResumeCodeHash = (db: Queryable, studyId: string, hash: string) =>
	findByHash(db, studyId, 'resume_code_hash', hash);

/** By the SHA-256 of their session token (the cookie). */
export const findBySessionHash = (db: Queryable, studyId: string, hash: string) =>
	findByHash(db, studyId, 'session_token_hash', hash);

/** By id (a follow-up link names the participant). */
export async function findParticipantById(
	db: Queryable,
	id: string
): Promise<ParticipantRow | undefined> {
	const row = await db
		.selectFrom('participants')
		.select(COLUMNS)
		.where('id', '=', id)
		.executeTakeFirst();
	return row && toParticipant(row);
}

/**
 * `failed_attention` of the participant aliased `p` in a query: whether they answered an attention
 * check wrongly (a measure attention_<id> of 0). The panel list and the export both select it.
 */
export const failedAttentionOf = (eb: ExpressionBuilder<DB & { p: DB['participants'] }, 'p'>) =>
	eb
		.exists(
			eb
				.selectFrom('measures as m')
				.select('m.participant_id')
				.whereRef('m.participant_id', '=', 'p.id')
				.where('m.measure', 'like', 'attention\\_%')
				.where('m.value_numeric', '=', 0)
		)
		.as('failed_attention');

/** Whether the participant answered an attention check wrongly (the measures attention_<id> = 0). */
export async function failedAttention(db: Queryable, participantId: string): Promise<boolean> {
	const row = await db
		.selectFrom('measures')
		.select('participant_id')
		.where('participant_id', '=', participantId)
		.where('measure', 'like', 'attention\\_%')
		.where('value_numeric', '=', 0)
		.executeTakeFirst();
	return row !== undefined;
}

/** The participant row, locked until the transaction ends: one step at a time per participant. */
export async function lockParticipant(trx: Transaction<DB>, id: string): Promise<ParticipantRow> {
	return toParticipant(
		await trx
			.selectFrom('participants')
			.select(COLUMNS)
			.where('id', '=', id)
			.forUpdate()
			.executeTakeFirstOrThrow()
	);
}

export async function setSessionHash(db: Queryable, id: string, hash: string): Promise<void> {
	await db
		.updateTable('participants')
		.set({ session_token_hash: hash })
		.where('id', '=', id)
		.execute();
}

export async function updateParticipant(
	trx: Transaction<DB>,
	id: string,
	changes: Partial<{
		status: string;
		step: ParticipantStep;
		currentEpisode: number;
		stratum: string;
		screening: Record<string, string>;
		consentedAt: Date;
		allocatedAt: Date;
		completedAt: Date;
		withdrawnAt: Date;
		completionCode: string;
	}>,
	at: Date
): Promise<ParticipantRow> {
	const row = await trx
		.updateTable('participants')
		.set({
			...(changes.status !== undefined && { status: changes.status }),
			...(changes.step !== undefined && { step: changes.step }),
			...(changes.currentEpisode !== undefined && { current_episode: changes.currentEpisode }),
			...(changes.stratum !== undefined && { stratum: changes.stratum }),
			...(changes.screening !== undefined && { screening: JSON.stringify(changes.screening) }),
			...(changes.consentedAt !== undefined && { consented_at: changes.consentedAt }),
			...(changes.allocatedAt !== undefined && { allocated_at: changes.allocatedAt }),
			...(changes.completedAt !== undefined && { completed_at: changes.completedAt }),
			...(changes.withdrawnAt !== undefined && { withdrawn_at: changes.withdrawnAt }),
			...(changes.completionCode !== undefined && { completion_code: changes.completionCode }),
			updated_at: at
		})
		.where('id', '=', id)
		.returning(COLUMNS)
		.executeTakeFirstOrThrow();
	return toParticipant(row);
}

/**
 * The end of an allocation in one statement: the participant's episodes, their covariate measures
 * (a repeated one is a no-op) and the participant's new state, as data-modifying CTEs of a single
 * UPDATE. One round trip instead of three, in the caller's transaction.
 */
export async function recordAllocation(
	trx: Transaction<DB>,
	participantId: string,
	a: {
		episodes: { episode: number; scenarioId: string }[];
		covariates: { measure: string; valueText: string }[];
		status: string;
		stratum: string;
		screening: Record<string, string>;
		at: Date;
	}
): Promise<ParticipantRow> {
	const episodes = JSON.stringify(
		a.episodes.map((e) => ({ episode: e.episode, scenario_id: e.scenarioId }))
	);
	const covariates = JSON.stringify(
		a.covariates.map((m) => ({ measure: m.measure, value_text: m.valueText }))
	);
	const result = await sql<Parameters<typeof toParticipant>[0]>`
		with made_episodes as (
			insert into episodes (participant_id, episode, scenario_id, started_at)
			select ${participantId}, e.episode, e.scenario_id, ${a.at}
			from jsonb_to_recordset(${episodes}::jsonb) as e(episode int, scenario_id uuid)
		), made_measures as (
			insert into measures (participant_id, episode_id, measure, kind, value_text, source, recorded_at)
			select ${participantId}, null, m.measure, 'covariate', m.value_text, 'questionnaire', ${a.at}
			from jsonb_to_recordset(${covariates}::jsonb) as m(measure text, value_text text)
			on conflict do nothing
		)
		update participants set status = ${a.status}, step = 'episode', current_episode = 1,
			stratum = ${a.stratum}, screening = ${JSON.stringify(a.screening)}::jsonb,
			allocated_at = ${a.at}, updated_at = ${a.at}
		where id = ${participantId}
		returning ${sql.join(COLUMNS.map((c) => sql.ref(c)))}`.execute(trx);
	const row = result.rows[0];
	if (!row) throw new Error(`no participant ${participantId}`);
	return toParticipant(row);
}

export async function scenarioIdsByKey(
	db: Queryable,
	studyId: string
): Promise<Map<string, string>> {
	const rows = await db
		.selectFrom('scenarios')
		.select(['id', 'key'])
		.where('study_id', '=', studyId)
		.execute();
	return new Map(rows.map((r) => [r.key, r.id]));
}

export async function episodesOf(db: Queryable, participantId: string): Promise<EpisodeRow[]> {
	const rows = await db
		.selectFrom('episodes')
		.innerJoin('scenarios', 'scenarios.id', 'episodes.scenario_id')
		.select([
			'episodes.id',
			'episodes.episode',
			'episodes.scenario_id',
			'scenarios.key',
			'episodes.step',
			'episodes.submitted_at'
		])
		.where('episodes.participant_id', '=', participantId)
		.orderBy('episodes.episode')
		.execute();
	return rows.map((r) => ({
		id: r.id,
		episode: r.episode,
		scenarioId: r.scenario_id,
		scenarioKey: r.key,
		step: r.step as EpisodeStep,
		submittedAt: r.submitted_at
	}));
}

/** A message of the conversation as the participant's page shows it. */
export interface ShownMessage {
	turn: number;
	role: 'user' | 'assistant';
	content: string;
}

/**
 * What the episode page needs, in one query: the participant's episodes in order and, for the
 * current one, its conversation (by turn, the participant's message before the reply) and whether
 * the study's emergency notice was shown in it.
 */
export async function episodePageState(
	db: Queryable,
	participantId: string,
	current: number
): Promise<{ episodes: EpisodeRow[]; messages: ShownMessage[]; safetyShown: boolean }> {
	const { rows } = await sql<{
		id: string;
		episode: number;
		scenario_id: string;
		key: string;
		step: string;
		submitted_at: Date | null;
		messages: ShownMessage[] | null;
		safety: boolean | null;
	}>`
		select e.id, e.episode, e.scenario_id, sc.key, e.step, e.submitted_at,
			case when e.episode = ${current} then coalesce((
				select json_agg(json_build_object('turn', m.turn, 'role', m.role, 'content', m.content)
					order by m.turn, m.role = 'assistant')
				from messages m where m.episode_id = e.id
			), '[]'::json) end as messages,
			case when e.episode = ${current} then exists (
				select 1 from episode_events ev where ev.episode_id = e.id and ev.kind = 'safety_notice'
			) end as safety
		from episodes e join scenarios sc on sc.id = e.scenario_id
		where e.participant_id = ${participantId}
		order by e.episode`.execute(db);
	const mine = rows.find((r) => r.episode === current);
	return {
		episodes: rows.map((r) => ({
			id: r.id,
			episode: r.episode,
			scenarioId: r.scenario_id,
			scenarioKey: r.key,
			step: r.step as EpisodeStep,
			submittedAt: r.submitted_at
		})),
		messages: mine?.messages ?? [],
		safetyShown: mine?.safety === true
	};
}

export async function setEpisodeStep(
	trx: Transaction<DB>,
	id: string,
	step: EpisodeStep,
	submittedAt?: Date
): Promise<void> {
	await trx
		.updateTable('episodes')
		.set({ step, ...(submittedAt && { submitted_at: submittedAt }) })
		.where('id', '=', id)
		.execute();
}

/** Stores a decision once; a second submit for the episode is ignored (the first one stands). */
export async function insertDecisionOnce(
	trx: Transaction<DB>,
	episodeId: string,
	disposition: string,
	conditions: string[],
	at: Date
): Promise<boolean> {
	const result = await trx
		.insertInto('decisions')
		.values({ episode_id: episodeId, disposition, conditions_text: conditions, submitted_at: at })
		.onConflict((oc) => oc.column('episode_id').doNothing())
		.executeTakeFirst();
	return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

/** The decision before the advice; false when the episode has one already (it is kept). */
export async function insertInitialDecisionOnce(
	trx: Transaction<DB>,
	episodeId: string,
	disposition: string,
	at: Date
): Promise<boolean> {
	const result = await trx
		.insertInto('initial_decisions')
		.values({ episode_id: episodeId, disposition, submitted_at: at })
		.onConflict((oc) => oc.column('episode_id').doNothing())
		.executeTakeFirst();
	return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

/** The initial decision of an episode, if any. */
export async function initialDecisionOf(db: Queryable, episodeId: string): Promise<string | null> {
	const row = await db
		.selectFrom('initial_decisions')
		.select('disposition')
		.where('episode_id', '=', episodeId)
		.executeTakeFirst();
	return row?.disposition ?? null;
}

/** The rule coder's reading of the conditions a participant typed (stored beside the decision). */
export async function insertDecisionCoding(
	trx: Transaction<DB>,
	episodeId: string,
	coding: { coder: string; conditionsCoded: string[]; details: Record<string, unknown> }
): Promise<void> {
	const decision = await trx
		.selectFrom('decisions')
		.select('id')
		.where('episode_id', '=', episodeId)
		.executeTakeFirstOrThrow();
	await trx
		.insertInto('decision_codings')
		.values({
			decision_id: decision.id,
			coder: coding.coder,
			conditions_coded: coding.conditionsCoded,
			details: JSON.stringify(coding.details)
		})
		.onConflict((oc) => oc.columns(['decision_id', 'coder']).doNothing())
		.execute();
}

export async function decisionOf(db: Queryable, episodeId: string) {
	return db
		.selectFrom('decisions')
		.selectAll()
		.where('episode_id', '=', episodeId)
		.executeTakeFirst();
}

export async function insertMeasures(
	trx: Transaction<DB>,
	rows: {
		participantId: string;
		episodeId: string | null;
		measure: string;
		kind: 'proxy' | 'clinical' | 'covariate';
		valueNumeric?: number | null;
		valueText?: string | null;
		at: Date;
	}[]
): Promise<void> {
	if (rows.length === 0) return;
	// One statement for all; the partial unique indexes make a repeated answer a no-op (the first
	// answer stands), row by row.
	await trx
		.insertInto('measures')
		.values(
			rows.map((m) => ({
				participant_id: m.participantId,
				episode_id: m.episodeId,
				measure: m.measure,
				kind: m.kind,
				value_numeric: m.valueNumeric ?? null,
				value_text: m.valueText ?? null,
				source: 'questionnaire',
				recorded_at: m.at
			}))
		)
		.onConflict((oc) => oc.doNothing())
		.execute();
}

export async function insertEvents(
	db: Queryable,
	rows: {
		participantId: string;
		episodeId: string | null;
		kind: string;
		payload: Record<string, unknown>;
		clientTime: Date | null;
		at: Date;
	}[]
): Promise<void> {
	if (rows.length === 0) return;
	await db
		.insertInto('episode_events')
		.values(
			rows.map((e) => ({
				participant_id: e.participantId,
				episode_id: e.episodeId,
				kind: e.kind,
				payload: JSON.stringify(e.payload),
				client_time: e.clientTime,
				created_at: e.at
			}))
		)
		.execute();
}

/** The (non-test) participants of a study whose panel-id hashes are given, with their ending. */
export async function participantsByExternalHashes(
	db: Queryable,
	studyId: string,
	hashes: string[]
): Promise<
	{
		id: string;
		externalIdHash: string;
		status: string;
		completionCode: string | null;
		completedAt: Date | null;
		failedAttention: boolean;
		protocolVersionId: string | null;
	}[]
> {
	if (hashes.length === 0) return [];
	const rows = await db
		.selectFrom('participants as p')
		.select([
			'p.id',
			'p.external_id_hash',
			'p.status',
			'p.completion_code',
			'p.completed_at',
			'p.protocol_version_id'
		])
		.select(failedAttentionOf)
		.where('p.study_id', '=', studyId)
		.where('p.is_test', '=', false)
		.where('p.external_id_hash', 'in', hashes)
		.execute();
	return rows.map((r) => ({
		id: r.id,
		externalIdHash: r.external_id_hash!,
		status: r.status,
		completionCode: r.completion_code,
		completedAt: r.completed_at,
		failedAttention: Boolean(r.failed_attention),
		protocolVersionId: r.protocol_version_id
	}));
}

/** When the server began the episode's assistant (or usual-sources) step. */
export async function assistStartedAt(db: Queryable, episodeId: string): Promise<Date | null> {
	const row = await db
		.selectFrom('episode_events')
		.select((eb) => eb.fn.min('created_at').as('at'))
		.where('episode_id', '=', episodeId)
		.where('kind', '=', 'assist_started')
		.executeTakeFirst();
	return (row?.at as Date | null | undefined) ?? null;
}

/** Messages the participant sent to the assistant in an episode. */
export async function userMessageCount(db: Queryable, episodeId: string): Promise<number> {
	const row = await db
		.selectFrom('messages')
		.select((eb) => eb.fn.countAll<string>().as('n'))
		.where('episode_id', '=', episodeId)
		.where('role', '=', 'user')
		.executeTakeFirstOrThrow();
	return Number(row.n);
}

export type FastAllocation =
	| { outcome: 'allocated'; participant: ParticipantRow }
	| { outcome: 'not_at_screening' | 'no_free_slot' | 'amended' };

/**
 * The common allocation in one statement (migration 0017's bedside_allocate): the next free slot
 * of the stratum, its episodes, the covariates and the participant's new state, or, when there is
 * no free slot or the slot's scenarios are not the participant's protocol's, nothing at all.
 */
export async function allocateInOneStatement(
	db: Queryable,
	a: {
		participantId: string;
		studyId: string;
		stratum: string;
		screening: Record<string, string>;
		covariates: { measure: string; valueText: string }[];
		scenarioIds: ReadonlyMap<string, string>;
		at: Date;
	}
): Promise<FastAllocation> {
	try {
		const { rows } = await sql<{
			outcome: string;
			participant: Parameters<typeof toParticipant>[0] | null;
		}>`
			select * from bedside_allocate(${a.participantId}, ${a.studyId}, ${a.stratum},
				${JSON.stringify(a.screening)}::jsonb,
				${JSON.stringify(a.covariates.map((c) => ({ measure: c.measure, value_text: c.valueText })))}::jsonb,
				${JSON.stringify(Object.fromEntries(a.scenarioIds))}::jsonb, ${a.at})`.execute(db);
		const row = rows[0]!;
		return row.outcome === 'allocated'
			? { outcome: 'allocated', participant: toParticipant(row.participant!) }
			: { outcome: row.outcome as 'not_at_screening' | 'no_free_slot' };
	} catch (error) {
		if ((error as { code?: string }).code === 'BS002') return { outcome: 'amended' };
		throw error;
	}
}

/**
 * The study at a link (not a draft) and the participant holding a session in it, in one query:
 * every participant request starts here. Undefined when either is missing.
 */
export async function studyAndParticipantBySession(
	db: Queryable,
	slug: string,
	sessionHash: string
): Promise<{ study: StudySummary; participant: ParticipantRow; chain: string } | undefined> {
	const row = await db
		.selectFrom('participants')
		.innerJoin('studies as s', 's.id', 'participants.study_id')
		.select(COLUMNS.map((c) => `participants.${c}` as const))
		.select([
			's.slug as study_slug',
			's.title as study_title',
			's.status as study_status',
			's.created_at as study_created_at'
		])
		// The registration chain, as runningConfig compares it (a step then need not read it again).
		.select(
			sql<string>`coalesce((select string_agg(r.sha256, ',' order by r.created_at, r.id)
				from preregistrations r where r.study_id = s.id), '')`.as('chain')
		)
		.where('s.slug', '=', slug)
		.where('s.status', '!=', 'draft')
		.where('participants.session_token_hash', '=', sessionHash)
		.executeTakeFirst();
	if (!row) return undefined;
	return {
		study: {
			id: row.study_id,
			slug: row.study_slug,
			title: row.study_title,
			status: row.study_status as StudySummary['status'],
			createdAt: row.study_created_at
		},
		participant: toParticipant(row),
		chain: row.chain
	};
}
