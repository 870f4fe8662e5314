import type { Actor } from '../actor.ts';
import { recordAuditEvent } from '../audit/audit.repository.ts';
import type { Queryable } from '../db/types.ts';
import { endingOf } from '../participants/endings.ts';
import { externalIdHash } from '../participants/entry.service.ts';
import type { PanelEnding } from '../participants/panel-match.service.ts';
import { protocolOf } from '../participants/participant-view.ts';
import { participantsByExternalHashes } from '../participants/participants.repository.ts';
import type { StudyProtocol } from '../protocols/study-schema.ts';
import { StudyStateError } from '../studies/studies.service.ts';
import { findStudyBySlug } from '../studies/studies.repository.ts';
import { ValidationError } from '../validation/problems.ts';
import {
	panelActionsOf,
	prolificStudyIdOf,
	recordPanelActions,
	setProlificStudyId,
	type PanelAction
} from './panel.repository.ts';
import { ProlificClient, ProlificError, type ProlificSubmission } from './prolific-client.ts';

// What the owner does on Prolific from Bedside, with the instance's API token: each submission of
// the Prolific study is matched to its participant by the keyed hash of its panel id (Bedside keeps
// no panel id), and the protocol says what its ending calls for: completed → approve (and the
// protocol's bonus), failed attention check → reject with the protocol's message (when it has one;
// otherwise approve), screened out → complete with the screen-out code. Bedside acts only when the
// owner asks, one action at a time, and records a submission as done only once the panel accepted
// it; when the panel refuses, what was done stays done and the rest is reported as not done.

export interface SubmissionReview {
	submissionId: string;
	panelStatus: string;
	participantId: string | null;
	ending: PanelEnding;
	/** What the protocol calls for on this submission now (already done: not listed). */
	due: PanelAction[];
	done: Partial<Record<PanelAction, 'done' | 'unknown'>>;
}

export interface PanelReview {
	prolificStudyId: string;
	submissions: SubmissionReview[];
	/** How many submissions each action would act on now. */
	counts: Record<PanelAction, number>;
	/** The bonus the protocol defines, in the Prolific study's currency. */
	bonus: number | null;
}

export interface PanelActionResult {
	action: PanelAction;
	done: number;
	/** Submissions the action was due on and did not reach (the panel refused, or did not answer). */
	notDone: number;
	/** Bonus payments that left without an answer: check them on Prolific before paying again. */
	unknown: number;
	error: string | null;
}

export class PanelNotConfiguredError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'PanelNotConfiguredError';
	}
}

const AWAITING = 'AWAITING REVIEW';

type ReviewRow = SubmissionReview & { protocol: StudyProtocol | null };
type RecordAction = (r: ReviewRow, state: 'done' | 'unknown', extra?: object) => Promise<void>;

export async function saveProlificStudyId(
	db: Queryable,
	slug: string,
	prolificStudyId: string,
	actor: Actor & { id: string }
): Promise<void> {
	const study = await studyOrThrow(db, slug);
	const id = prolificStudyId.trim();
	if (!/^[A-Za-z0-9]{1,64}$/.test(id))
		throw new ValidationError([
			{
				path: 'prolific_study_id',
				message: 'a Prolific study id is letters and digits (from its URL)'
			}
		]);
	await setProlificStudyId(db, study.id, id, actor.id);
	await recordAuditEvent(db, {
		actorKind: actor.kind,
		actorId: actor.id,
		studyId: study.id,
		action: 'panel.prolific_study',
		target: slug,
		details: { prolific_study_id: id }
	});
}

async function studyOrThrow(db: Queryable, slug: string) {
	const study = await findStudyBySlug(db, slug);
	if (!study) throw new StudyStateError(`no study "${slug}"`, 'not_found');
	return study;
}

function dueActions(
	protocol: StudyProtocol,
	ending: PanelEnding,
	panelStatus: string,
	done: Partial<Record<PanelAction, string>>
): PanelAction[] {
	const r = protocol.recruitment;
	const due: PanelAction[] = [];
	if (panelStatus === AWAITING) {
		if (ending === 'completed') due.push('approve');
		if (ending === 'failed attention check') due.push(r.rejection_message ? 'reject' : 'approve');
		if (ending === 'screened out' && r.ending_codes?.screened_out) due.push('screen_out');
	}
	if (ending === 'completed' && r.bonus && ['APPROVED', AWAITING].includes(panelStatus))
		due.push('bonus');
	return due.filter((a) => done[a] === undefined);
}

async function review(db: Queryable, slug: string, client: ProlificClient) {
	const study = await studyOrThrow(db, slug);
	const prolificStudyId = await prolificStudyIdOf(db, study.id);
	if (!prolificStudyId)
		throw new PanelNotConfiguredError(
			'save the Prolific study id first (from its URL on Prolific)'
		);
	const submissions = await client.submissions(prolificStudyId);
	const byHash = new Map<string, ProlificSubmission>();
	for (const s of submissions) byHash.set(await externalIdHash(db, slug, s.participantId), s);
	const participants = new Map(
		(await participantsByExternalHashes(db, study.id, [...byHash.keys()])).map((p) => [
			p.externalIdHash,
			p
		])
	);
	const actions = await panelActionsOf(db, study.id);
	const rows: ReviewRow[] = [];
	for (const [hash, s] of byHash) {
		const p = participants.get(hash);
		const protocol = p ? await protocolOf(db, p) : null;
		const ending: PanelEnding = p ? endingOf(p.status, p.failedAttention) : 'no record';
		const done = Object.fromEntries(actions.get(p?.id ?? '') ?? []) as SubmissionReview['done'];
		rows.push({
			submissionId: s.id,
			panelStatus: s.status,
			participantId: p?.id ?? null,
			ending,
			due: protocol ? dueActions(protocol, ending, s.status, done) : [],
			done,
			protocol
		});
	}
	return { study, prolificStudyId, rows };
}

/** The Prolific study's submissions beside their endings and what is due on each. */
export async function reviewPanel(
	db: Queryable,
	slug: string,
	client: ProlificClient
): Promise<PanelReview> {
	const { prolificStudyId, rows } = await review(db, slug, client);
	const counts = { approve: 0, reject: 0, screen_out: 0, bonus: 0 };
	for (const r of rows) for (const a of r.due) counts[a] += 1;
	const bonus = rows.find((r) => r.protocol?.recruitment.bonus)?.protocol?.recruitment.bonus;
	return {
		prolificStudyId,
		submissions: rows.map(({ protocol: _, ...r }) => r),
		counts,
		bonus: bonus?.amount ?? null
	};
}

/** Performs one action on every submission it is due on; records each only once accepted. */
export async function performPanelAction(
	db: Queryable,
	slug: string,
	action: PanelAction,
	client: ProlificClient,
	actor: Actor & { id: string }
): Promise<PanelActionResult> {
	const { study, prolificStudyId, rows } = await review(db, slug, client);
	const due = rows.filter((r) => r.due.includes(action) && r.participantId && r.protocol);
	const result: PanelActionResult = { action, done: 0, notDone: 0, unknown: 0, error: null };
	const record: RecordAction = (r, state, extra = {}) =>
		recordPanelActions(db, [
			{
				studyId: study.id,
				participantId: r.participantId!,
				action,
				state,
				userId: actor.id,
				...extra
			}
		]);
	if (action === 'bonus' && due.length > 0)
		await payBonuses(client, prolificStudyId, due, result, record);
	else
		for (const r of due) {
			try {
				const rec = r.protocol!.recruitment;
				if (action === 'approve') await client.approve(r.submissionId);
				else if (action === 'reject') await client.reject(r.submissionId, rec.rejection_message!);
				else await client.screenOut(r.submissionId, rec.ending_codes!.screened_out!);
				await record(r, 'done');
				result.done += 1;
			} catch (e) {
				if (!(e instanceof ProlificError)) throw e;
				// Transitions are idempotent on the panel: one that got no answer is simply not
				// recorded, and asking again later is safe.
				result.error = e.message;
				break;
			}
		}
	result.notDone = due.length - result.done - result.unknown;
	await recordAuditEvent(db, {
		actorKind: actor.kind,
		actorId: actor.id,
		studyId: study.id,
		action: `panel.${action}`,
		target: slug,
		details: {
			prolific_study_id: prolificStudyId,
			due: due.length,
			done: result.done,
			unknown: result.unknown,
			error: result.error
		}
	});
	return result;
}

async function payBonuses(
	client: ProlificClient,
	prolificStudyId: string,
	due: ReviewRow[],
	result: PanelActionResult,
	record: RecordAction
): Promise<void> {
	let paymentId: string;
	try {
		paymentId = await client.setUpBonuses(
			prolificStudyId,
			due.map((r) => ({
				submissionId: r.submissionId,
				amount: r.protocol!.recruitment.bonus!.amount
			}))
		);
	} catch (e) {
		if (!(e instanceof ProlificError)) throw e;
		result.error = e.message; // nothing is paid until the payment is paid
		return;
	}
	let state: 'done' | 'unknown' = 'done';
	try {
		await client.payBonuses(paymentId);
	} catch (e) {
		if (!(e instanceof ProlificError)) throw e;
		result.error = e.message;
		// Refused: nothing was paid. No answer: it may have been paid, and paying is not
		// idempotent, so the submissions are marked unknown and Bedside will not pay them again.
		if (e.status !== null) return;
		state = 'unknown';
	}
	for (const r of due)
		await record(r, state, {
			amount: r.protocol!.recruitment.bonus!.amount,
			reference: paymentId
		});
	if (state === 'done') result.done = due.length;
	else result.unknown = due.length;
}
