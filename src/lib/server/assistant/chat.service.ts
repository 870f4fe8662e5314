import type { ChatEvent } from '../../chat-events.ts';
import { SYSTEM_ACTOR } from '../actor.ts';
import { recordAuditEvent } from '../audit/audit.repository.ts';
import type { LlmConfig } from '../config.ts';
import { inTransaction, type Queryable } from '../db/types.ts';
import { whenDatabaseAnswers } from '../db/when-back.ts';
import { protocolOf } from '../participants/participant-view.ts';
import type { StudyProtocol } from '../protocols/study-schema.ts';
import {
	insertEvents,
	lockParticipant,
	type EpisodeRow
} from '../participants/participants.repository.ts';
import { changeStatus } from '../prereg/prereg.service.ts';
import { findStudyById } from '../studies/studies.repository.ts';
import { StudyStateError } from '../studies/studies.service.ts';
import { armIdOf } from '../randomization/allocation.repository.ts';
import { ValidationError } from '../validation/problems.ts';
import {
	callInFlight,
	conversationState,
	finishCall,
	finishCallWithReply,
	insertCall,
	insertDeviation,
	insertMessageAndCall,
	tokensUsedByArm,
	type MessageRow
} from './assistant.repository.ts';
import { callWithRetries, type RetryPolicy } from './calls.ts';
import { TRUNCATED } from './openai-provider.ts';
import { chattingArm } from './conversation.ts';
import { limitsOf, MAX_MESSAGE_CHARS, type AssistantLimits } from './limits.ts';
import type { AssistantConfig, ChatRequest } from './provider.ts';
import { chatRequest, providerFor } from './providers.ts';
import { emergencyMatches } from './safety.ts';

// A participant's conversation with their arm's assistant. The participant's message is stored
// (and committed) before the assistant is asked, so a failure never loses it; the reply is stored
// when it is complete, even if the participant has closed the page, so a reload shows it. A reply
// that fails after retries is a protocol deviation for the arm, and the participant can resend.

export type { ChatEvent };

export type ChatRefusal = 'not_available' | 'busy' | 'turn_cap' | 'token_cap' | 'nothing_to_resend';

/** The message was not taken (nothing was stored); `message` is for the participant. */
export class ChatRefusedError extends Error {
	constructor(
		readonly code: ChatRefusal,
		message: string
	) {
		super(message);
		this.name = 'ChatRefusedError';
	}
}

export interface ChatDeps {
	llm: LlmConfig;
	/** Tests shorten the backoff. */
	baseDelayMs?: number;
}

export const FAILED_REPLY_MESSAGE =
	'The assistant could not answer just now. Your message is saved: try sending it again in a moment, or go on to your decision.';

interface Prepared {
	studyId: string;
	armId: string;
	armKey: string;
	episode: EpisodeRow;
	config: AssistantConfig;
	limits: AssistantLimits;
	history: MessageRow[];
	/** Exactly what is sent (and was logged with the claim). */
	request: ChatRequest;
	turn: number;
	claimId: number;
	/** The study's emergency notice, when the message matched one of its patterns. */
	safetyNotice: string | null;
}

/** How long an unfinished attempt counts as in flight (beyond it, the process that ran it died). */
function inFlightWindowMs(deps: ChatDeps, limits: AssistantLimits): number {
	return deps.llm.retryWindowMs + limits.timeoutMs + 5000;
}

/**
 * A new message: checked (not empty, not too long, within the turn and token caps), added to the
 * history (the caller stores it with the claim on its reply), and matched against the study's
 * emergency patterns (a match is recorded and its notice returned).
 */
async function acceptMessage(
	trx: Queryable,
	m: {
		participantId: string;
		episodeId: string;
		protocol: StudyProtocol;
		limits: AssistantLimits;
		history: Prepared['history'];
		/** Tokens the participant's conversations have used so far. */
		participantTokens: number;
		text: string;
		now: Date;
	}
): Promise<{ turn: number; content: string; safetyNotice: string | null }> {
	let safetyNotice: string | null = null;
	const text = m.text.trim();
	if (text.length === 0)
		throw new ValidationError([{ path: 'text', message: 'please write a message' }]);
	if (text.length > MAX_MESSAGE_CHARS)
		throw new ValidationError([
			{ path: 'text', message: `a message can be at most ${MAX_MESSAGE_CHARS} characters` }
		]);
	const used = m.history.filter((x) => x.role === 'user').length;
	if (used >= m.limits.maxTurns)
		throw new ChatRefusedError(
			'turn_cap',
			`You have sent the ${m.limits.maxTurns} messages this conversation allows. Please go on to your decision.`
		);
	if (m.participantTokens >= m.limits.maxParticipantTokens)
		throw new ChatRefusedError(
			'token_cap',
			'You have reached the length limit for conversations in this study. Please go on to your decision.'
		);
	const turn = (m.history.at(-1)?.turn ?? 0) + 1;
	m.history.push({ id: 0, turn, role: 'user', content: text, createdAt: m.now });
	const matched = emergencyMatches(m.protocol.safety, text);
	if (matched.length > 0 && m.protocol.safety) {
		await insertEvents(trx, [
			{
				participantId: m.participantId,
				episodeId: m.episodeId,
				kind: 'safety_notice',
				payload: { turn, patterns: matched },
				clientTime: null,
				at: m.now
			}
		]);
		safetyNotice = m.protocol.safety.notice;
	}
	return { turn, content: text, safetyNotice };
}

/**
 * Stores the participant's message (or picks up the unanswered one, to resend) and claims the
 * reply, all under the participant's row lock: two tabs cannot both send.
 */
async function prepare(
	db: Queryable,
	deps: ChatDeps,
	input: { participantId: string; episode: number; text?: string },
	now: Date
): Promise<Prepared> {
	return inTransaction(db, async (trx) => {
		const p = await lockParticipant(trx, input.participantId);
		const protocol = await protocolOf(trx, p);
		// Locked at the episode step, the participant's allocation is committed: its arm may be kept.
		const arm = await chattingArm(trx, protocol, p.id, p.step === 'episode');
		// The episode, its conversation and the participant's tokens: one query.
		const state = arm ? await conversationState(trx, p.id, input.episode) : undefined;
		if (!arm || !state || p.step !== 'episode' || p.currentEpisode !== input.episode)
			throw new ChatRefusedError('not_available', 'This conversation is not open.');
		const { episode, history, participantTokens } = state;
		if (episode.step !== 'assist')
			throw new ChatRefusedError('not_available', 'This conversation has ended.');
		const limits = limitsOf(arm.assistant);
		const pending = history.at(-1)?.role === 'user';
		if (
			pending &&
			(await callInFlight(
				trx,
				episode.id,
				new Date(now.getTime() - inFlightWindowMs(deps, limits))
			))
		)
			throw new ChatRefusedError('busy', 'The assistant is still answering your last message.');
		let turn: number;
		let safetyNotice: string | null = null;
		let newMessage: string | null = null;
		if (input.text === undefined) {
			if (!pending)
				throw new ChatRefusedError('nothing_to_resend', 'There is no message to resend.');
			turn = history.at(-1)!.turn;
		} else {
			if (pending)
				throw new ChatRefusedError(
					'busy',
					'Your last message has no reply yet: send it again before writing a new one.'
				);
			let content: string;
			({ turn, content, safetyNotice } = await acceptMessage(trx, {
				participantId: p.id,
				episodeId: episode.id,
				protocol,
				limits,
				history,
				participantTokens,
				text: input.text,
				now
			}));
			newMessage = content;
		}
		const armId = await armIdOf(trx, p.studyId, arm.id);
		const request = chatRequest(arm.assistant, history);
		const ctx = { studyId: p.studyId, armId, episodeId: episode.id, purpose: 'chat' as const };
		const call = {
			provider: arm.assistant.provider,
			endpoint:
				arm.assistant.provider === 'scripted'
					? 'scripted'
					: `endpoint:${arm.assistant.endpoint ?? 'default'}`,
			request,
			attempt: 1
		};
		// The message and the claim on its reply are written in one statement.
		const claimId =
			newMessage === null
				? await insertCall(trx, ctx, call)
				: await insertMessageAndCall(
						trx,
						{ episodeId: episode.id, turn, content: newMessage },
						ctx,
						call
					);
		return {
			studyId: p.studyId,
			armId,
			armKey: arm.id,
			episode,
			config: arm.assistant,
			limits,
			history,
			request,
			turn,
			claimId,
			safetyNotice
		};
	});
}

/**
 * Sends a participant's message (or, with no text, resends the unanswered one) and streams the
 * reply through `emit`. Throws ChatRefusedError or ValidationError before anything is stored.
 */
export async function sendChatMessage(
	db: Queryable,
	deps: ChatDeps,
	input: { participantId: string; episode: number; text?: string },
	emit: (e: ChatEvent) => void,
	now: Date = new Date()
): Promise<void> {
	const prepared = await prepare(db, deps, input, now);
	const last = prepared.history.at(-1)!;
	emit({ type: 'accepted', turn: prepared.turn, content: last.content });
	if (prepared.safetyNotice) emit({ type: 'safety', notice: prepared.safetyNotice });
	const ctx = {
		studyId: prepared.studyId,
		armId: prepared.armId,
		episodeId: prepared.episode.id,
		purpose: 'chat' as const
	};
	let outcome;
	try {
		const provider = providerFor(prepared.config, deps.llm);
		const policy: RetryPolicy = {
			timeoutMs: prepared.limits.timeoutMs,
			retryWindowMs: deps.llm.retryWindowMs,
			baseDelayMs: deps.baseDelayMs
		};
		outcome = await callWithRetries(db, provider, prepared.request, ctx, policy, {
			firstCallId: prepared.claimId,
			onDelta: (text) => emit({ type: 'delta', text }),
			onRetry: () => emit({ type: 'reset' }),
			// The call is finished and its reply stored in one statement.
			finishSuccess: (callId, end) =>
				finishCallWithReply(db, callId, end, {
					episodeId: prepared.episode.id,
					turn: prepared.turn
				})
		});
	} catch (e) {
		// No provider could be made (an endpoint that is not configured): the claim records why.
		const message = e instanceof Error ? e.message : String(e);
		await finishCall(db, prepared.claimId, { error: message, latencyMs: 0 });
		outcome = { ok: false as const, error: { message }, attempts: 1 };
	}
	// From here on, what happened is written even through a short database outage (the reply was
	// generated; the failure happened): it is recorded when the database answers again.
	if (!outcome.ok) {
		const failure = outcome;
		await whenDatabaseAnswers(() =>
			insertDeviation(db, {
				...ctx,
				participantId: input.participantId,
				kind: 'assistant_failure',
				details: { turn: prepared.turn, attempts: failure.attempts, error: failure.error.message }
			})
		);
		emit({ type: 'failed', message: FAILED_REPLY_MESSAGE });
		return;
	}
	if (outcome.result.finishReason === TRUNCATED)
		await insertDeviation(db, {
			...ctx,
			participantId: input.participantId,
			kind: 'reply_truncated',
			details: { turn: prepared.turn, kept_chars: outcome.result.content.length }
		});
	const used = prepared.history.filter((m) => m.role === 'user').length;
	emit({
		type: 'reply',
		turn: prepared.turn,
		content: outcome.result.content,
		turnsLeft: Math.max(0, prepared.limits.maxTurns - used)
	});
	await enforceBudget(db, prepared);
}

/** An arm that has used its token budget pauses the study and tells the researchers why. */
async function enforceBudget(db: Queryable, prepared: Prepared): Promise<void> {
	const budget = prepared.limits.budgetTokens;
	if (budget === null) return;
	const used = await tokensUsedByArm(db, prepared.armId);
	if (used < budget) return;
	const study = await findStudyById(db, prepared.studyId);
	if (study?.status !== 'recruiting') return;
	try {
		await changeStatus(db, study.slug, 'pause', SYSTEM_ACTOR);
	} catch (e) {
		// Another reply reached the budget at the same moment and paused the study first.
		if (e instanceof StudyStateError) return;
		throw e;
	}
	const details = { used_tokens: used, budget_tokens: budget };
	await insertDeviation(db, {
		studyId: prepared.studyId,
		armId: prepared.armId,
		kind: 'budget_reached',
		details
	});
	await recordAuditEvent(db, {
		actorKind: 'system',
		studyId: prepared.studyId,
		action: 'study.budget_reached',
		target: study.slug,
		details: { ...details, arm: prepared.armKey, paused: true }
	});
}
