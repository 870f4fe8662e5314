import type { StudySummary } from '../studies/studies.repository.ts';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import { generateSessionToken, sessionIdOf } from '../auth/tokens.ts';
import type { DB } from '../db/schema.ts';
import { codeConditions, DEFAULT_SIMILARITY } from '../coding/rule-coder.ts';
import { inTransaction, type Queryable } from '../db/types.ts';
import { runningConfig } from '../prereg/prereg.service.ts';
import { protocolOf } from './participant-view.ts';
import { chattingArm } from '../assistant/conversation.ts';
import { addressSubject, admit } from '../throttle/throttle.service.ts';
import type { StudyProtocol } from '../protocols/study-schema.ts';
import { allocate, allocatedArms, stratumOf } from '../randomization/allocation.service.ts';
import { insertTestAllocation } from '../randomization/allocation.repository.ts';
import { shuffle, stream } from '../randomization/sequence.ts';
import { findStudyBySlug } from '../studies/studies.repository.ts';
import { ValidationError, type Problem } from '../validation/problems.ts';
import {
	episodesOf,
	findByExternalHash,
	lockIdentity,
	findBySessionHash,
	insertDecisionCoding,
	insertDecisionOnce,
	insertInitialDecisionOnce,
	assistStartedAt,
	insertEvents,
	userMessageCount,
	insertMeasures,
	failedAttention,
	recordAllocation,
	allocateInOneStatement,
	findParticipantById,
	insertParticipant,
	lockParticipant,
	setEpisodeStep,
	updateParticipant,
	type EpisodeRow,
	type ParticipantRow
} from './participants.repository.ts';
import {
	externalIdHash,
	externalIdOf,
	resumeCodeHash,
	resumeCodeOf,
	sessionTokenFor
} from './entry.service.ts';

// The participant journey as a state machine kept in the database: consent → screening →
// allocation → for each episode: scenario → assistant or usual sources → decision →
// questionnaire → attention checks → end questionnaire → completion code. Every action names the
// step it answers; an action for a step the participant is no longer at (a double submit, the back
// button, a second tab) changes nothing, so nothing submitted is ever overwritten.

/** Panel parameters kept with the participant (never the panel's participant id itself). */
const KEPT_PARAMS = ['STUDY_ID', 'SESSION_ID'] as const;

// The errors of the participant's path carry the sentence the participant is shown.

export class StudyNotOpenError extends Error {
	constructor() {
		super('This study is not taking new participants at the moment. Thank you for your interest.');
	}
}

/** The protocol names a panel, and the link carried no panel id: nobody enrols through a bare link. */
export class PanelIdRequiredError extends Error {
	constructor() {
		super(
			'This study link is missing your participant id from the recruitment panel. Please open the study again from the panel (for example, from your Prolific study page).'
		);
	}
}

/** Too many new participants from one address lately (a script enrolling at will). */
export class EnrolmentThrottledError extends Error {
	constructor() {
		super(
			'Many people have joined from this network in the last few minutes. Please try again in 10 minutes.'
		);
	}
}

/** Whether a study's link must carry the panel's participant id (see the schema). */
export function requiresPanelId(protocol: StudyProtocol): boolean {
	return protocol.recruitment.require_panel_id ?? protocol.recruitment.panel === 'prolific';
}

const ENROLMENT_WINDOW_MS = 10 * 60_000;

/** The panel id has a participant already: only their resume code lets this browser continue. */
export class ResumeRequiredError extends Error {}

export interface ParticipantSession {
	participant: ParticipantRow;
	/** The cookie token for this browser (the same one again for a repeated consent form). */
	token?: string;
}

/**
 * Consent: creates the participant (recruiting studies only) or answers for one that exists.
 * A panel id that has a participant already is never given a session here (that would hand
 * their conversation to whoever knows the id): it needs the resume code. The consent form's nonce
 * makes a double click find the participant the first click created.
 *
 * Declining keeps a row that says so and when (the study counts people who declined), the keyed
 * hash of the panel id when there is one (so the panel can be told, and the person is not asked
 * again), and the session hash of this browser (so a reload shows the same answer); not the
 * panel's study and session ids, and no telemetry.
 */
export async function consent(
	db: Queryable,
	slug: string,
	input: {
		participantId?: string;
		agree: boolean;
		params: URLSearchParams;
		nonce?: string | null;
		/** Test mode: a researcher trying the study, optionally in a chosen arm. */
		isTest?: boolean;
		testArm?: string;
		/** The client's address and the limit of new participants from one address in 10 minutes. */
		throttle?: { address: string | null; max: number };
	},
	now: Date = new Date()
): Promise<ParticipantSession> {
	const study = await findStudyBySlug(db, slug);
	if (!study) throw new StudyNotOpenError();
	const token = await sessionTokenFor(db, input.nonce ?? null);
	if (input.throttle && input.throttle.max > 0 && !input.isTest && !input.participantId) {
		// Counted outside the transaction (and before it), so concurrent enrolments see each other.
		const limit = {
			bucket: 'enrol:address',
			max: input.throttle.max,
			windowMs: ENROLMENT_WINDOW_MS
		};
		const subject = await addressSubject(db, input.throttle.address);
		if (!(await admit(db, limit, subject, now)).admitted) throw new EnrolmentThrottledError();
	}
	return inTransaction(db, async (trx) => {
		if (input.participantId)
			return { participant: await lockParticipant(trx, input.participantId) };
		const open = study.status === 'recruiting' || (input.isTest && study.status !== 'closed');
		if (!open) throw new StudyNotOpenError();
		const { preregistration, protocol } = await runningConfig(trx, slug);
		const externalId = externalIdOf(input.params);
		if (!externalId && !input.isTest && requiresPanelId(protocol)) throw new PanelIdRequiredError();
		const hash = externalId ? await externalIdHash(trx, slug, externalId) : null;
		// Serialize consents from one panel id, or from one form (a double click), so the second
		// finds what the first created instead of colliding with it.
		await lockIdentity(trx, hash ?? sessionIdOf(token));
		const existing = hash
			? await findByExternalHash(trx, study.id, hash)
			: await findBySessionHash(trx, study.id, sessionIdOf(token));
		if (existing) {
			if (existing.sessionTokenHash === sessionIdOf(token)) return { participant: existing, token };
			throw new ResumeRequiredError('this panel id has a participant already');
		}
		// The same browser's nonce can only meet another participant's session if that browser
		// enrolled someone whose answer it never received, then someone else: give this one its own.
		const session =
			hash && (await findBySessionHash(trx, study.id, sessionIdOf(token)))
				? generateSessionToken()
				: token;
		const id = randomUUID();
		const entryParams = input.isTest
			? { ...(input.testArm && { test_arm: input.testArm }) }
			: input.agree
				? Object.fromEntries(
						KEPT_PARAMS.flatMap((k) =>
							input.params.get(k) ? [[k, input.params.get(k)!.slice(0, 200)]] : []
						)
					)
				: {};
		const created = await insertParticipant(trx, {
			id,
			studyId: study.id,
			protocolVersionId: preregistration.protocolVersionId,
			externalIdHash: hash,
			entryParams,
			sessionTokenHash: sessionIdOf(session),
			resumeCodeHash: input.agree ? resumeCodeHash(await resumeCodeOf(trx, id)) : null,
			at: now,
			agreed: input.agree,
			isTest: input.isTest
		});
		return { participant: created, token: session };
	});
}

function checkAnswers(
	questions: { id: string; type: 'yes_no' | 'choice'; options?: { value: string }[] }[],
	answers: Record<string, string>,
	prefix = ''
): Problem[] {
	const problems: Problem[] = [];
	for (const q of questions) {
		const allowed = q.type === 'yes_no' ? ['yes', 'no'] : (q.options ?? []).map((o) => o.value);
		const a = answers[q.id];
		if (a === undefined || a === '')
			problems.push({ path: `${prefix}${q.id}`, message: 'please answer this question' });
		else if (!allowed.includes(a))
			problems.push({ path: `${prefix}${q.id}`, message: `must be one of ${allowed.join(', ')}` });
	}
	return problems;
}

/**
 * Screening, then allocation in the same transaction: the participant is committed to the study
 * (consented and eligible) before an arm is drawn, and the draw is stored before they see anything.
 * The questions and the allocation are those of the protocol version the participant consented
 * under, even when the study was amended since (they stay on that version to the end).
 */
export async function submitScreening(
	db: Queryable,
	slug: string,
	participantId: string,
	answers: Record<string, string>,
	now: Date = new Date(),
	/**
	 * What the request already read: the participant (their step is checked again, locked), the
	 * study and its registration chain.
	 */
	known?: { participant: ParticipantRow; study: StudySummary; chain: string }
): Promise<ParticipantRow> {
	const running = await runningConfig(db, slug, known);
	const { study } = running;
	const fast = await allocateFast(db, running, known?.participant ?? participantId, answers, now);
	if (fast) return fast;
	return inTransaction(db, async (trx) => {
		const p = await lockParticipant(trx, participantId);
		if (p.step !== 'screening') return p;
		const protocol = await protocolOf(trx, p);
		const problems = checkAnswers(protocol.screening, answers);
		if (problems.length > 0) throw new ValidationError(problems);
		const screening = Object.fromEntries(protocol.screening.map((q) => [q.id, answers[q.id]!]));
		const ineligible = protocol.screening.some((q) => q.ineligible_if.includes(screening[q.id]!));
		if (ineligible) {
			await updateParticipant(
				trx,
				p.id,
				{ status: 'ineligible', step: 'ineligible', screening },
				now
			);
			return lockParticipant(trx, p.id);
		}
		const allocation = p.isTest
			? await allocateTestParticipant(trx, protocol, running, p, screening)
			: await allocate(trx, {
					studyId: study.id,
					protocol,
					seed: running.seed,
					participantId: p.id,
					screening,
					now,
					armIds: running.armIds
				});
		const scenarioIds = running.scenarioIds;
		// Episodes, covariates and the participant's new state: one statement.
		return recordAllocation(trx, p.id, {
			episodes: allocation.scenarioKeys.map((key, i) => ({
				episode: i + 1,
				scenarioId: scenarioIds.get(key)!
			})),
			covariates: protocol.screening
				.filter((q) => q.covariate)
				.map((q) => ({ measure: q.id, valueText: screening[q.id]! })),
			status: 'allocated',
			stratum: allocation.stratum,
			screening,
			at: now
		});
	});
}

/**
 * The common case in one statement: a real participant, eligible, in a study randomized by
 * blocks, with a free slot whose scenarios are their protocol's. Undefined whenever anything else
 * holds (then nothing was written, and the transaction below decides): refused input, an
 * ineligible answer, a test participant, minimization, no free slot, an amendment's scenarios.
 */
async function allocateFast(
	db: Queryable,
	running: Awaited<ReturnType<typeof runningConfig>>,
	participant: string | ParticipantRow,
	answers: Record<string, string>,
	now: Date
): Promise<ParticipantRow | undefined> {
	if (db.isTransaction) return undefined;
	const p =
		typeof participant === 'string' ? await findParticipantById(db, participant) : participant;
	if (!p || p.step !== 'screening' || p.isTest) return undefined;
	const protocol = await protocolOf(db, p);
	if (protocol.randomization.method === 'minimization') return undefined;
	if (checkAnswers(protocol.screening, answers).length > 0) return undefined;
	const screening = Object.fromEntries(protocol.screening.map((q) => [q.id, answers[q.id]!]));
	if (protocol.screening.some((q) => q.ineligible_if.includes(screening[q.id]!))) return undefined;
	const done = await allocateInOneStatement(db, {
		participantId: p.id,
		studyId: running.study.id,
		stratum: stratumOf(protocol, screening),
		screening,
		covariates: protocol.screening
			.filter((q) => q.covariate)
			.map((q) => ({ measure: q.id, valueText: screening[q.id]! })),
		// Only the scenarios of the participant's own protocol version: a slot planned with others
		// (before an amendment) is left to the transaction, which draws from their version.
		scenarioIds: new Map(
			[...running.scenarioIds].filter(([key]) => protocol.scenarios.some((s) => s.id === key))
		),
		at: now
	});
	return done.outcome === 'allocated' ? done.participant : undefined;
}

/**
 * A test participant (a researcher trying the study) gets the arm the researcher chose, or one
 * drawn by weight from a stream of their own id, and scenarios likewise: never a slot of the real
 * sequence, so trying a study leaves its allocation and its audit untouched.
 */
async function allocateTestParticipant(
	trx: Transaction<DB>,
	protocol: StudyProtocol,
	running: { seed: string; armIds: ReadonlyMap<string, string> },
	p: ParticipantRow,
	screening: Record<string, string>
): Promise<{ scenarioKeys: string[]; stratum: string }> {
	const random = stream(running.seed, 'test-participant', p.id);
	const arms = allocatedArms(protocol);
	const chosen = arms.find((a) => a.key === p.testArm);
	let armKey = chosen?.key;
	if (!armKey) {
		let draw = random() * arms.reduce((sum, a) => sum + a.weight, 0);
		armKey = arms.find((a) => (draw -= a.weight) < 0)?.key ?? arms[0]!.key;
	}
	await insertTestAllocation(trx, p.id, running.armIds.get(armKey)!);
	const keys = shuffle(
		protocol.scenarios.map((s) => s.id),
		random
	).slice(0, protocol.episodes_per_participant);
	return { scenarioKeys: keys, stratum: stratumOf(protocol, screening) };
}

/** Runs an episode action only if the participant is at that episode and step; otherwise nothing. */
async function atEpisodeStep(
	trx: Transaction<DB>,
	participantId: string,
	episodeNumber: number,
	step: EpisodeRow['step']
): Promise<{ p: ParticipantRow; episode: EpisodeRow } | undefined> {
	const p = await lockParticipant(trx, participantId);
	if (p.step !== 'episode' || p.currentEpisode !== episodeNumber) return undefined;
	const episode = (await episodesOf(trx, participantId)).find((e) => e.episode === episodeNumber);
	return episode && episode.step === step ? { p, episode } : undefined;
}

/**
 * Scenario read → the initial decision (when the protocol asks for one), else the assistant (LLM
 * arms) or the usual-sources instruction (control).
 */
export async function finishReading(
	db: Queryable,
	participantId: string,
	episodeNumber: number,
	now: Date = new Date()
): Promise<void> {
	await inTransaction(db, async (trx) => {
		const at = await atEpisodeStep(trx, participantId, episodeNumber, 'scenario');
		if (!at) return;
		const protocol = await protocolOf(trx, at.p);
		if (protocol.initial_decision) await setEpisodeStep(trx, at.episode.id, 'initial');
		else await startAssistStep(trx, participantId, at.episode.id, now);
		if (at.p.status === 'allocated')
			await updateParticipant(trx, participantId, { status: 'in_progress' }, now);
	});
}

/** The decision before the advice: a disposition on the scale, stored once; then the assistant. */
export async function submitInitialDecision(
	db: Queryable,
	protocol: StudyProtocol,
	participantId: string,
	episodeNumber: number,
	input: { disposition: string },
	now: Date = new Date()
): Promise<void> {
	if (!protocol.disposition_scale.some((d) => d.id === input.disposition))
		throw new ValidationError([
			{ path: 'disposition', message: 'please choose what you would do' }
		]);
	await inTransaction(db, async (trx) => {
		const at = await atEpisodeStep(trx, participantId, episodeNumber, 'initial');
		if (!at) return;
		await insertInitialDecisionOnce(trx, at.episode.id, input.disposition, now);
		await startAssistStep(trx, participantId, at.episode.id, now);
	});
}

/** The assistant (or usual-sources) step begins: recorded by the server, for its minimum time. */
async function startAssistStep(
	trx: Transaction<DB>,
	participantId: string,
	episodeId: string,
	now: Date
): Promise<void> {
	await setEpisodeStep(trx, episodeId, 'assist');
	await insertEvents(trx, [
		{ participantId, episodeId, kind: 'assist_started', payload: {}, clientTime: null, at: now }
	]);
}

/**
 * Done with the assistant or usual sources → the decision form; refused (with what is missing)
 * before the protocol's minimum time in the step or, with an assistant, its minimum messages.
 */
export async function readyToDecide(
	db: Queryable,
	participantId: string,
	episodeNumber: number,
	now: Date = new Date()
): Promise<void> {
	await inTransaction(db, async (trx) => {
		const at = await atEpisodeStep(trx, participantId, episodeNumber, 'assist');
		if (!at) return;
		const minimum = (await protocolOf(trx, at.p)).assistant_step;
		if (minimum) {
			const problems: Problem[] = [];
			const started = await assistStartedAt(trx, at.episode.id);
			const seconds = started ? (now.getTime() - started.getTime()) / 1000 : Infinity;
			if (minimum.min_seconds !== undefined && seconds < minimum.min_seconds)
				problems.push({
					path: '',
					message: `Please take at least ${minimum.min_seconds} seconds on this step before you decide (${Math.ceil(minimum.min_seconds - seconds)} to go).`
				});
			const arm = await chattingArm(trx, await protocolOf(trx, at.p), participantId);
			if (arm && minimum.min_turns !== undefined) {
				const sent = await userMessageCount(trx, at.episode.id);
				if (sent < minimum.min_turns)
					problems.push({
						path: '',
						message: `Please send the assistant at least ${minimum.min_turns} message${minimum.min_turns === 1 ? '' : 's'} before you decide.`
					});
			}
			if (problems.length > 0) throw new ValidationError(problems);
		}
		await setEpisodeStep(trx, at.episode.id, 'decision');
	});
}

const MAX_CONDITIONS = 10;

/** The decision: a disposition on the study's scale and up to ten free-text conditions. Stored once. */
export async function submitDecision(
	db: Queryable,
	protocol: StudyProtocol,
	participantId: string,
	episodeNumber: number,
	input: { disposition: string; conditions: string[] },
	now: Date = new Date()
): Promise<void> {
	const problems: Problem[] = [];
	if (!protocol.disposition_scale.some((d) => d.id === input.disposition))
		problems.push({ path: 'disposition', message: 'please choose what you would do' });
	const conditions = input.conditions.map((c) => c.trim()).filter(Boolean);
	if (conditions.length > MAX_CONDITIONS)
		problems.push({ path: 'conditions', message: `at most ${MAX_CONDITIONS} entries` });
	if (conditions.some((c) => c.length > 200))
		problems.push({ path: 'conditions', message: 'each entry at most 200 characters' });
	if (problems.length > 0) throw new ValidationError(problems);
	await inTransaction(db, async (trx) => {
		const at = await atEpisodeStep(trx, participantId, episodeNumber, 'decision');
		if (!at) return;
		await insertDecisionOnce(trx, at.episode.id, input.disposition, conditions, now);
		const scenario = protocol.scenarios.find((s) => s.id === at.episode.scenarioKey)!;
		const similarity = protocol.coding?.similarity ?? DEFAULT_SIMILARITY;
		await insertDecisionCoding(trx, at.episode.id, {
			coder: 'rule',
			conditionsCoded: codeConditions(conditions, scenario.relevant_conditions, similarity),
			details: { similarity }
		});
		await setEpisodeStep(trx, at.episode.id, 'questionnaire', now);
	});
}

function scaleAnswers(
	items: StudyProtocol['questionnaires']['per_episode'],
	raw: Record<string, string>
): { values: Map<string, number>; problems: Problem[] } {
	const values = new Map<string, number>();
	const problems: Problem[] = [];
	for (const item of items) {
		const text = raw[item.id];
		const n = Number(text);
		if (text === undefined || text === '')
			problems.push({ path: item.id, message: 'please choose an answer' });
		else if (!Number.isInteger(n) || n < item.scale.min || n > item.scale.max)
			problems.push({
				path: item.id,
				message: `must be a whole number from ${item.scale.min} to ${item.scale.max}`
			});
		else values.set(item.id, n);
	}
	return { values, problems };
}

/** The step after the episodes or the attention checks: attention checks, then the end questionnaire, then done. */
async function advanceAfter(
	trx: Transaction<DB>,
	protocol: StudyProtocol,
	participantId: string,
	finished: 'episodes' | 'attention',
	now: Date
): Promise<void> {
	if (finished === 'episodes' && protocol.attention_checks.length > 0)
		await updateParticipant(trx, participantId, { step: 'attention' }, now);
	else if (protocol.questionnaires.end_of_study.length > 0)
		await updateParticipant(trx, participantId, { step: 'end_questionnaire' }, now);
	else await complete(trx, protocol, participantId, now);
}

async function complete(
	trx: Transaction<DB>,
	protocol: StudyProtocol,
	participantId: string,
	now: Date
): Promise<void> {
	// Someone who failed an attention check is shown that ending's code when the protocol has one,
	// so the panel files the submission under it; they are still completed (and analysed by ITT).
	const failedCode = protocol.recruitment.ending_codes?.failed_attention;
	const code =
		(failedCode && (await failedAttention(trx, participantId)) ? failedCode : undefined) ??
		protocol.recruitment.completion_code ??
		randomBytes(5).toString('hex').toUpperCase();
	await updateParticipant(
		trx,
		participantId,
		{ step: 'complete', status: 'completed', completedAt: now, completionCode: code },
		now
	);
}

export async function submitEpisodeQuestionnaire(
	db: Queryable,
	protocol: StudyProtocol,
	participantId: string,
	episodeNumber: number,
	raw: Record<string, string>,
	now: Date = new Date()
): Promise<void> {
	const items = protocol.questionnaires.per_episode;
	const { values, problems } = scaleAnswers(items, raw);
	if (problems.length > 0) throw new ValidationError(problems);
	await inTransaction(db, async (trx) => {
		const at = await atEpisodeStep(trx, participantId, episodeNumber, 'questionnaire');
		if (!at) return;
		await insertMeasures(
			trx,
			items.map((i) => ({
				participantId,
				episodeId: at.episode.id,
				measure: i.id,
				kind: i.kind,
				valueNumeric: values.get(i.id)!,
				at: now
			}))
		);
		await setEpisodeStep(trx, at.episode.id, 'done');
		const total = (await episodesOf(trx, participantId)).length;
		if (episodeNumber < total)
			await updateParticipant(trx, participantId, { currentEpisode: episodeNumber + 1 }, now);
		else await advanceAfter(trx, protocol, participantId, 'episodes', now);
	});
}

/** Attention checks: each answer recorded (1 correct, 0 not); nobody is excluded automatically. */
export async function submitAttention(
	db: Queryable,
	protocol: StudyProtocol,
	participantId: string,
	raw: Record<string, string>,
	now: Date = new Date()
): Promise<void> {
	const problems = protocol.attention_checks
		.filter((c) => !c.options.includes(raw[c.id] ?? ''))
		.map((c) => ({ path: c.id, message: 'please choose an answer' }));
	if (problems.length > 0) throw new ValidationError(problems);
	await inTransaction(db, async (trx) => {
		const p = await lockParticipant(trx, participantId);
		if (p.step !== 'attention') return;
		await insertMeasures(
			trx,
			protocol.attention_checks.map((c) => ({
				participantId,
				episodeId: null,
				measure: `attention_${c.id}`,
				kind: 'covariate' as const,
				valueNumeric: raw[c.id] === c.correct ? 1 : 0,
				at: now
			}))
		);
		await advanceAfter(trx, protocol, participantId, 'attention', now);
	});
}

export async function submitEndQuestionnaire(
	db: Queryable,
	protocol: StudyProtocol,
	participantId: string,
	raw: Record<string, string>,
	now: Date = new Date()
): Promise<void> {
	const items = protocol.questionnaires.end_of_study;
	const { values, problems } = scaleAnswers(items, raw);
	if (problems.length > 0) throw new ValidationError(problems);
	await inTransaction(db, async (trx) => {
		const p = await lockParticipant(trx, participantId);
		if (p.step !== 'end_questionnaire') return;
		await insertMeasures(
			trx,
			items.map((i) => ({
				participantId,
				episodeId: null,
				measure: i.id,
				kind: i.kind,
				valueNumeric: values.get(i.id)!,
				at: now
			}))
		);
		await complete(trx, protocol, participantId, now);
	});
}

/** Withdrawal at any step; what was submitted before stays (the consent form says so). */
export async function withdraw(
	db: Queryable,
	participantId: string,
	now: Date = new Date()
): Promise<void> {
	await inTransaction(db, async (trx) => {
		const p = await lockParticipant(trx, participantId);
		if (['complete', 'declined', 'ineligible', 'withdrawn'].includes(p.step)) return;
		await updateParticipant(
			trx,
			participantId,
			{ step: 'withdrawn', status: 'withdrawn', withdrawnAt: now },
			now
		);
	});
}

const EVENT_KINDS = new Set([
	'step_view',
	'paste',
	'typing',
	'visibility_hidden',
	'visibility_visible',
	'page_blur',
	'page_focus'
]);

/** Telemetry from the page (step views, tab and visibility changes), stored as events. */
export async function recordEvents(
	db: Queryable,
	participantId: string,
	events: { kind: string; episode: number | null; at: string; detail?: Record<string, unknown> }[],
	now: Date = new Date()
): Promise<number> {
	const episodes = await episodesOf(db, participantId);
	const rows = events
		.filter((e) => EVENT_KINDS.has(e.kind))
		.slice(0, 200)
		.map((e) => {
			const clientTime = new Date(e.at);
			return {
				participantId,
				episodeId: episodes.find((x) => x.episode === e.episode)?.id ?? null,
				kind: e.kind,
				payload: boundedDetail(e.detail),
				clientTime: Number.isNaN(clientTime.getTime()) ? null : clientTime,
				at: now
			};
		});
	await insertEvents(db, rows);
	return rows.length;
}

/** A small plain object from the page, or nothing: telemetry must not become a storage channel. */
function boundedDetail(detail: unknown): Record<string, unknown> {
	if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) return {};
	return JSON.stringify(detail).length <= 2000 ? (detail as Record<string, unknown>) : {};
}
