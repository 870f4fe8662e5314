import { sql } from 'kysely';
import type { Queryable } from '../db/types.ts';
import type { EpisodeRow } from '../participants/participants.repository.ts';
import type { ChatRequest, ChatResult } from './provider.ts';

// The assistant's tables: the call log (one row per attempt), the append-only conversation, and
// protocol deviations. Token sums for caps and budgets are read from the call log.

export type CallPurpose = 'chat' | 'benchmark' | 'simulated_patient' | 'grader';

export interface CallContext {
	studyId: string;
	armId: string;
	episodeId?: string | null;
	runId?: string | null;
	purpose: CallPurpose;
}

export interface MessageRow {
	id: number;
	turn: number;
	role: 'user' | 'assistant';
	content: string;
	createdAt: Date;
}

export interface CallStart {
	provider: string;
	endpoint: string;
	request: ChatRequest;
	attempt: number;
}

const callValues = (ctx: CallContext, call: CallStart) => ({
	study_id: ctx.studyId,
	arm_id: ctx.armId,
	episode_id: ctx.episodeId ?? null,
	run_id: ctx.runId ?? null,
	purpose: ctx.purpose,
	provider: call.provider,
	// The endpoint is a base URL; keys never reach this object.
	request: JSON.stringify({ endpoint: call.endpoint, ...call.request }),
	attempt: call.attempt
});

/** Logs the start of one attempt; the row is finished by finishCall. */
export async function insertCall(
	db: Queryable,
	ctx: CallContext,
	call: CallStart
): Promise<number> {
	const row = await db
		.insertInto('assistant_calls')
		.values(callValues(ctx, call))
		.returning('id')
		.executeTakeFirstOrThrow();
	return row.id;
}

/**
 * A participant's message and the first attempt at its reply, in one statement (one round trip
 * on the chat's hot path instead of two). Returns the attempt's id.
 */
export async function insertMessageAndCall(
	db: Queryable,
	message: { episodeId: string; turn: number; content: string },
	ctx: CallContext,
	call: CallStart
): Promise<number> {
	const row = await db
		.with('message', (q) =>
			q.insertInto('messages').values({
				episode_id: message.episodeId,
				turn: message.turn,
				role: 'user',
				content: message.content
			})
		)
		.insertInto('assistant_calls')
		.values(callValues(ctx, call))
		.returning('id')
		.executeTakeFirstOrThrow();
	return row.id;
}

export interface CallEnd {
	result?: ChatResult;
	error?: string;
	latencyMs: number;
}

const finishedValues = (outcome: CallEnd) => {
	const r = outcome.result;
	return {
		model_returned: r?.modelReturned ?? null,
		system_fingerprint: r?.systemFingerprint ?? null,
		tokens_in: r?.tokensIn ?? null,
		tokens_out: r?.tokensOut ?? null,
		time_to_first_token_ms: r?.timeToFirstTokenMs ?? null,
		finish_reason: r?.finishReason ?? null,
		error: outcome.error ?? null,
		latency_ms: Math.round(outcome.latencyMs),
		finished_at: new Date()
	};
};

export async function finishCall(db: Queryable, id: number, outcome: CallEnd): Promise<void> {
	await db
		.updateTable('assistant_calls')
		.set(finishedValues(outcome))
		.where('id', '=', id)
		.execute();
}

/**
 * A finished attempt and the reply it produced, stored together: one statement, so the reply is
 * never logged without its call (or the call finished without its reply).
 */
export async function finishCallWithReply(
	db: Queryable,
	id: number,
	outcome: CallEnd & { result: ChatResult },
	reply: { episodeId: string; turn: number }
): Promise<void> {
	await db
		.with('call', (q) =>
			q.updateTable('assistant_calls').set(finishedValues(outcome)).where('id', '=', id)
		)
		.insertInto('messages')
		.values({
			episode_id: reply.episodeId,
			turn: reply.turn,
			role: 'assistant',
			content: outcome.result.content,
			assistant_call_id: id
		})
		.execute();
}

/** An attempt for this episode that started after `since` and has not finished: a reply in flight. */
export async function callInFlight(
	db: Queryable,
	episodeId: string,
	since: Date
): Promise<boolean> {
	const row = await db
		.selectFrom('assistant_calls')
		.select('id')
		.where('episode_id', '=', episodeId)
		.where('finished_at', 'is', null)
		.where('started_at', '>', since)
		.executeTakeFirst();
	return row !== undefined;
}

const tokens = sql<number>`coalesce(sum(coalesce(tokens_in, 0) + coalesce(tokens_out, 0)), 0)::int`;

/** Tokens an arm's conversations have used, for its budget. */
export async function tokensUsedByArm(db: Queryable, armId: string): Promise<number> {
	const row = await db
		.selectFrom('assistant_calls')
		.select(tokens.as('used'))
		.where('arm_id', '=', armId)
		.where('purpose', '=', 'chat')
		.executeTakeFirstOrThrow();
	return Number(row.used);
}

export type DeviationKind =
	'assistant_failure' | 'budget_reached' | 'turn_cap' | 'token_cap' | 'reply_truncated';

export interface DeviationInput {
	studyId: string;
	armId?: string | null;
	participantId?: string | null;
	episodeId?: string | null;
	kind: DeviationKind;
	details: Record<string, unknown>;
}

export async function insertDeviation(db: Queryable, d: DeviationInput): Promise<void> {
	await db
		.insertInto('protocol_deviations')
		.values({
			study_id: d.studyId,
			arm_id: d.armId ?? null,
			participant_id: d.participantId ?? null,
			episode_id: d.episodeId ?? null,
			kind: d.kind,
			details: JSON.stringify(d.details)
		})
		.execute();
}

export interface DeviationRow {
	id: number;
	armKey: string | null;
	participantId: string | null;
	episode: number | null;
	kind: DeviationKind;
	details: Record<string, unknown>;
	createdAt: Date;
}

export async function deviationsOf(db: Queryable, studyId: string): Promise<DeviationRow[]> {
	const rows = await db
		.selectFrom('protocol_deviations as d')
		.leftJoin('arms', 'arms.id', 'd.arm_id')
		.leftJoin('episodes', 'episodes.id', 'd.episode_id')
		.select([
			'd.id',
			'arms.key as arm_key',
			'd.participant_id',
			'episodes.episode',
			'd.kind',
			'd.details',
			'd.created_at'
		])
		.where('d.study_id', '=', studyId)
		.orderBy('d.id')
		.execute();
	return rows.map((r) => ({
		id: r.id,
		armKey: r.arm_key,
		participantId: r.participant_id,
		episode: r.episode,
		kind: r.kind as DeviationKind,
		details: r.details as Record<string, unknown>,
		createdAt: new Date(r.created_at)
	}));
}

export interface ArmAssistantHealth {
	armKey: string;
	calls: number;
	failedAttempts: number;
	tokens: number;
	medianLatencyMs: number | null;
	medianFirstTokenMs: number | null;
}

/** Per arm, how the assistant has done in participants' conversations. */
export async function assistantHealth(
	db: Queryable,
	studyId: string
): Promise<ArmAssistantHealth[]> {
	const rows = await db
		.selectFrom('assistant_calls as c')
		.innerJoin('arms', 'arms.id', 'c.arm_id')
		.select([
			'arms.key as arm_key',
			sql<number>`count(*)::int`.as('calls'),
			sql<number>`count(*) filter (where c.error is not null)::int`.as('failed'),
			sql<number>`coalesce(sum(coalesce(c.tokens_in, 0) + coalesce(c.tokens_out, 0)), 0)::int`.as(
				'tokens'
			),
			sql<
				number | null
			>`percentile_cont(0.5) within group (order by c.latency_ms) filter (where c.error is null)`.as(
				'latency'
			),
			sql<
				number | null
			>`percentile_cont(0.5) within group (order by c.time_to_first_token_ms) filter (where c.error is null)`.as(
				'ttft'
			)
		])
		.where('c.study_id', '=', studyId)
		.where('c.purpose', '=', 'chat')
		.groupBy('arms.key')
		.orderBy('arms.key')
		.execute();
	return rows.map((r) => ({
		armKey: r.arm_key,
		calls: Number(r.calls),
		failedAttempts: Number(r.failed),
		tokens: Number(r.tokens),
		medianLatencyMs: r.latency === null ? null : Math.round(Number(r.latency)),
		medianFirstTokenMs: r.ttft === null ? null : Math.round(Number(r.ttft))
	}));
}

/**
 * What a new chat message needs, in one query: the participant's episode, its conversation so far
 * (in order: by turn, the participant's message before the reply), and the tokens the
 * participant's conversations have used. Undefined when the participant has no such episode.
 */
export async function conversationState(
	db: Queryable,
	participantId: string,
	episodeNumber: number
): Promise<{ episode: EpisodeRow; history: MessageRow[]; participantTokens: number } | undefined> {
	const { rows } = await sql<{
		id: string;
		episode: number;
		scenario_id: string;
		key: string;
		step: string;
		submitted_at: Date | null;
		history: { id: number; turn: number; role: string; content: string; created_at: string }[];
		used: number;
	}>`
		select e.id, e.episode, e.scenario_id, sc.key, e.step, e.submitted_at,
			coalesce((
				select json_agg(json_build_object('id', m.id, 'turn', m.turn, 'role', m.role,
					'content', m.content, 'created_at', m.created_at) order by m.turn, m.role = 'assistant')
				from messages m where m.episode_id = e.id
			), '[]'::json) as history,
			(
				select coalesce(sum(coalesce(c.tokens_in, 0) + coalesce(c.tokens_out, 0)), 0)::int
				from assistant_calls c join episodes e2 on e2.id = c.episode_id
				where e2.participant_id = ${participantId} and c.purpose = 'chat'
			) as used
		from episodes e join scenarios sc on sc.id = e.scenario_id
		where e.participant_id = ${participantId} and e.episode = ${episodeNumber}`.execute(db);
	const r = rows[0];
	if (!r) return undefined;
	return {
		episode: {
			id: r.id,
			episode: r.episode,
			scenarioId: r.scenario_id,
			scenarioKey: r.key,
			step: r.step as EpisodeRow['step'],
			submittedAt: r.submitted_at
		},
		history: r.history.map((m) => ({
			id: m.id,
			turn: m.turn,
			role: m.role as MessageRow['role'],
			content: m.content,
			createdAt: new Date(m.created_at)
		})),
		participantTokens: Number(r.used)
	};
}
