import { randomBytes } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Actor } from '../actor.ts';
import { designPowerOf } from './design-power.ts';
import { answerKeyCommitment, answerKeySalt } from './answer-key.ts';
import { recordAuditEvent } from '../audit/audit.repository.ts';
import { findAssumption, replaceStudyAssumptions } from '../cards/cards.repository.ts';
import type { DB } from '../db/schema.ts';
import { inTransaction, type Queryable } from '../db/types.ts';
import { canonicalJson, sha256Hex, sha256OfJson } from '../protocols/hash.ts';
import { deepFreeze } from '../deep-freeze.ts';
import { scenarioIdsByKey } from '../participants/participants.repository.ts';
import { armIds } from '../randomization/allocation.repository.ts';
import {
	insertProtocolVersion,
	latestProtocolVersion,
	lockProtocolVersion,
	protocolVersionById
} from '../protocols/protocols.repository.ts';
import { validateProtocol } from '../protocols/study-file.ts';
import type { StudyProtocol } from '../protocols/study-schema.ts';
import { StudyStateError } from '../studies/studies.service.ts';
import {
	armsOf,
	findStudyBySlug,
	findStudyWithChain,
	lockStudyBySlug,
	scenariosOf,
	updateStudy,
	upsertArms,
	upsertScenarios,
	type ArmRow,
	type ScenarioRow,
	type StudyStatus,
	type StudySummary
} from '../studies/studies.repository.ts';
import { ValidationError } from '../validation/problems.ts';
import {
	insertPreregistration,
	insertSeed,
	preregistrationsOf,
	readSeed,
	revealedSeed,
	type PreregistrationRow
} from './prereg.repository.ts';

// Preregistration freezes a protocol version and its analysis plan. What is frozen is hashed
// (SHA-256 over RFC 8785 canonical JSON), stored in rows the database refuses to change, and
// checked again before the study runs. The randomization seed is committed, not revealed: the
// preregistration holds SHA-256(seed); the seed itself is revealed when the study closes.

export const PREREGISTRATION_FORMAT = 'bedside-preregistration/1';

/** What a preregistration's hash covers, field by field. */
export function preregistrationPayload(
	slug: string,
	p: Omit<
		PreregistrationRow,
		'id' | 'sha256' | 'studyId' | 'protocolVersionId' | 'createdBy' | 'previousId'
	>
) {
	return {
		format: PREREGISTRATION_FORMAT,
		study: slug,
		kind: p.kind,
		protocol_version: p.protocolVersion,
		protocol_sha256: p.protocolSha256,
		seed_sha256: p.seedSha256,
		// Registrations made before answer keys were committed have none, and keep their hash.
		...(p.answerKeySha256 !== null && { answer_key_sha256: p.answerKeySha256 }),
		// Likewise the design's power (registrations before it, or without power inputs, have none).
		...(p.designPower !== null && { design_power: p.designPower }),
		previous_sha256: p.previousSha256,
		reason: p.reason,
		registered_at: p.createdAt.toISOString()
	};
}

/** The arm and scenario rows a protocol stands for: what the running study reads. */
export function armRowsOf(protocol: StudyProtocol): ArmRow[] {
	return protocol.arms.map((a) => ({
		key: a.id,
		kind: a.kind,
		label: a.label,
		allocationWeight: a.weight,
		assistantConfig: a.assistant ?? null
	}));
}

export function scenarioRowsOf(protocol: StudyProtocol): ScenarioRow[] {
	return protocol.scenarios.map((s) => ({
		key: s.id,
		title: s.title,
		participantText: s.participant_text,
		benchmarkPrompt: s.benchmark_prompt,
		correctDisposition: s.correct_disposition,
		relevantConditions: s.relevant_conditions,
		redFlags: s.red_flags
	}));
}

async function materialize(
	trx: Transaction<DB>,
	studyId: string,
	protocol: StudyProtocol
): Promise<void> {
	await upsertArms(trx, studyId, armRowsOf(protocol));
	await upsertScenarios(trx, studyId, scenarioRowsOf(protocol));
	const ids: string[] = [];
	for (const ref of protocol.tests_assumptions) {
		const found = await findAssumption(trx, ref.card, ref.assumption);
		if (!found) {
			throw new ValidationError([
				{
					path: 'tests_assumptions',
					message: `no assumption "${ref.assumption}" on card "${ref.card}"`
				}
			]);
		}
		ids.push(found.id);
	}
	await replaceStudyAssumptions(trx, studyId, ids);
}

export interface PreregisterOptions {
	/** The randomization seed to commit to; a random 128-bit one when omitted. */
	seed?: string;
	now?: Date;
}

/** Freezes the newest draft version: draft → preregistered. Returns the record and the seed hash. */
export async function preregister(
	db: Queryable,
	slug: string,
	actor: Actor,
	options: PreregisterOptions = {}
): Promise<PreregistrationRow> {
	const seed = options.seed ?? randomBytes(16).toString('hex');
	if (seed.length < 8 || seed.length > 200) {
		throw new ValidationError([{ path: 'seed', message: 'must be 8 to 200 characters' }]);
	}
	const now = options.now ?? new Date();
	return inTransaction(db, async (trx) => {
		const study = await lockStudyBySlug(trx, slug);
		if (!study) throw new StudyStateError(`no study "${slug}"`, 'not_found');
		if (study.status !== 'draft') {
			throw new StudyStateError(
				`study "${slug}" is already ${study.status}; amend it instead`,
				'conflict'
			);
		}
		const version = await latestProtocolVersion(trx, study.id);
		if (!version)
			throw new StudyStateError(`study "${slug}" has no protocol to preregister`, 'conflict');
		const checked = validateProtocol(version.protocol);
		if (!checked.ok) throw new ValidationError(checked.problems, `protocol v${version.version}`);

		await materialize(trx, study.id, checked.protocol);
		await lockProtocolVersion(trx, version.id, now);
		await insertSeed(trx, study.id, seed);
		const record = {
			studyId: study.id,
			protocolVersionId: version.id,
			protocolVersion: version.version,
			kind: 'initial' as const,
			protocolSha256: version.sha256,
			seedSha256: sha256Hex(seed),
			answerKeySha256: answerKeyCommitment(seed, checked.protocol),
			designPower: designPowerOf(checked.protocol),
			previousId: null,
			previousSha256: null,
			reason: null,
			createdBy: actor.kind === 'user' ? (actor.id ?? null) : null,
			createdAt: now
		};
		const sha256 = sha256OfJson(preregistrationPayload(slug, record));
		const id = await insertPreregistration(trx, { ...record, sha256 });
		await updateStudy(trx, study.id, { status: 'preregistered' });
		await recordAuditEvent(trx, {
			actorKind: actor.kind,
			actorId: actor.id,
			studyId: study.id,
			protocolVersionId: version.id,
			action: 'study.preregister',
			target: slug,
			details: { sha256, protocol_sha256: version.sha256, seed_sha256: record.seedSha256 }
		});
		return { ...record, id, sha256 };
	});
}

/**
 * Amends a preregistered study: the new protocol becomes a new locked version, and a new
 * preregistration, with its reason, is hash-chained to the one before. The seed stays committed.
 */
export async function amend(
	db: Queryable,
	slug: string,
	input: unknown,
	reason: string,
	actor: Actor,
	now: Date = new Date()
): Promise<PreregistrationRow> {
	if (typeof reason !== 'string' || reason.trim() === '') {
		throw new ValidationError([{ path: 'reason', message: 'an amendment needs a reason' }]);
	}
	const checked = validateProtocol(input);
	if (!checked.ok) throw new ValidationError(checked.problems);
	const protocol = checked.protocol;
	if (protocol.slug !== slug) {
		throw new ValidationError([
			{ path: 'slug', message: `must stay "${slug}": an amendment cannot rename the study` }
		]);
	}
	const sha256 = sha256OfJson(protocol);
	return inTransaction(db, async (trx) => {
		const study = await lockStudyBySlug(trx, slug);
		if (!study) throw new StudyStateError(`no study "${slug}"`, 'not_found');
		if (!['preregistered', 'recruiting', 'paused'].includes(study.status)) {
			throw new StudyStateError(
				`study "${slug}" is ${study.status}: only a preregistered, running study is amended`,
				'conflict'
			);
		}
		const chain = await preregistrationsOf(trx, study.id);
		const previous = chain[chain.length - 1]!;
		const seed = await readSeed(trx, study.id);
		if (!seed) throw new RunningConfigError(slug, ['the study has no randomization seed']);
		if (previous.protocolSha256 === sha256) {
			throw new StudyStateError(
				'the amended protocol is identical to the preregistered one: nothing to amend',
				'conflict'
			);
		}
		const latest = await latestProtocolVersion(trx, study.id);
		const version = await insertProtocolVersion(trx, {
			studyId: study.id,
			version: (latest?.version ?? 0) + 1,
			protocol,
			sha256,
			previousSha256: previous.protocolSha256,
			reason: reason.trim(),
			createdBy: actor.kind === 'user' ? (actor.id ?? null) : null,
			lockedAt: now
		});
		await materialize(trx, study.id, protocol);
		if (study.title !== protocol.title) await updateStudy(trx, study.id, { title: protocol.title });
		const record = {
			studyId: study.id,
			protocolVersionId: version.id,
			protocolVersion: version.version,
			kind: 'amendment' as const,
			protocolSha256: sha256,
			seedSha256: previous.seedSha256,
			answerKeySha256: answerKeyCommitment(seed, protocol),
			designPower: designPowerOf(protocol),
			previousId: previous.id,
			previousSha256: previous.sha256,
			reason: reason.trim(),
			createdBy: actor.kind === 'user' ? (actor.id ?? null) : null,
			createdAt: now
		};
		const preregSha = sha256OfJson(preregistrationPayload(slug, record));
		const id = await insertPreregistration(trx, { ...record, sha256: preregSha });
		await recordAuditEvent(trx, {
			actorKind: actor.kind,
			actorId: actor.id,
			studyId: study.id,
			protocolVersionId: version.id,
			action: 'study.amend',
			target: slug,
			details: { sha256: preregSha, protocol_sha256: sha256, reason: reason.trim() }
		});
		return { ...record, id, sha256: preregSha };
	});
}

/** The running configuration does not match what was preregistered: the study must not run. */
export class RunningConfigError extends Error {
	constructor(
		readonly slug: string,
		readonly problems: string[]
	) {
		super(`study "${slug}" refuses to run: ${problems.join('; ')}`);
		this.name = 'RunningConfigError';
	}
}

export interface RunnableStudy {
	study: StudySummary;
	preregistration: PreregistrationRow;
	protocol: StudyProtocol;
}

/**
 * Checks that what would run is what was preregistered: the hash chain of preregistrations, the
 * locked protocol's content against its preregistered hash, and the arm and scenario rows the
 * running study reads against that protocol. Throws RunningConfigError naming every mismatch.
 */
export async function verifyRunningConfig(db: Queryable, slug: string): Promise<RunnableStudy> {
	const study = await findStudyBySlug(db, slug);
	if (!study) throw new StudyStateError(`no study "${slug}"`, 'not_found');
	const chain = await preregistrationsOf(db, study.id);
	if (chain.length === 0) throw new RunningConfigError(slug, ['it is not preregistered']);
	const problems: string[] = [];

	chain.forEach((p, i) => {
		if (sha256OfJson(preregistrationPayload(slug, p)) !== p.sha256) {
			problems.push(
				`preregistration ${i + 1} (protocol v${p.protocolVersion}) does not match its own hash`
			);
		}
		const expectedPrevious = i === 0 ? null : chain[i - 1]!.sha256;
		if (p.previousSha256 !== expectedPrevious)
			problems.push(`preregistration ${i + 1} breaks the hash chain`);
	});

	const current = chain[chain.length - 1]!;
	const version = await protocolVersionById(db, current.protocolVersionId);
	if (!version || version.lockedAt === null)
		problems.push('the preregistered protocol version is not locked');
	const actualSha = version ? sha256OfJson(version.protocol) : '';
	if (actualSha !== current.protocolSha256 || version?.sha256 !== current.protocolSha256) {
		problems.push(
			`the protocol hashes to ${actualSha.slice(0, 12)}…, preregistered ${current.protocolSha256.slice(0, 12)}…`
		);
	}
	const checked = validateProtocol(version?.protocol);
	if (!checked.ok) {
		problems.push('the preregistered protocol no longer validates');
		throw new RunningConfigError(slug, problems);
	}
	const protocol = checked.protocol;

	const seed = await readSeed(db, study.id);
	if (!seed || sha256Hex(seed) !== current.seedSha256)
		problems.push('the randomization seed does not match its commitment');

	const armRows = new Map((await armsOf(db, study.id)).map((a) => [a.key, a]));
	for (const expected of armRowsOf(protocol)) {
		const actual = armRows.get(expected.key);
		if (!actual || canonicalJson(actual) !== canonicalJson(expected)) {
			problems.push(`arm "${expected.key}" differs from the preregistered protocol`);
		}
	}
	const scenarioRows = new Map((await scenariosOf(db, study.id)).map((s) => [s.key, s]));
	for (const expected of scenarioRowsOf(protocol)) {
		const actual = scenarioRows.get(expected.key);
		if (!actual || canonicalJson(actual) !== canonicalJson(expected)) {
			problems.push(`scenario "${expected.key}" differs from the preregistered protocol`);
		}
	}
	if (problems.length > 0) throw new RunningConfigError(slug, problems);
	return { study, preregistration: current, protocol };
}

/** How long a full verification vouches for a study's running configuration in this process. */
const VERIFIED_FOR_MS = 30_000;

/** What the participant flow needs on every request, read once per verification. */
export interface RunningStudy extends RunnableStudy {
	seed: string;
	/** Arm and scenario ids by key: immutable once the study is preregistered. */
	armIds: ReadonlyMap<string, string>;
	scenarioIds: ReadonlyMap<string, string>;
}

const verified = new Map<string, { chain: string; at: number; result: RunningStudy }>();

/**
 * The running configuration for the participant flow, where every request needs it: verified in
 * full (verifyRunningConfig) when the preregistration chain changes and otherwise at most every
 * 30 seconds per process. The chain is read on every call, so an amendment takes effect at once;
 * the locked rows it vouches for cannot change (the database refuses), so the periodic re-check
 * is for tampering by someone who bypasses the database's own checks. Everything else (launch,
 * export, benchmark runs, coding, imports) calls verifyRunningConfig.
 */
export async function runningConfig(
	db: Queryable,
	slug: string,
	/** The study and its registration chain as this request already read them. */
	prefetched?: { study: StudySummary; chain: string }
): Promise<RunningStudy> {
	const found = prefetched?.study.slug === slug ? prefetched : await findStudyWithChain(db, slug);
	if (!found) throw new StudyStateError(`no study "${slug}"`, 'not_found');
	const { study, chain } = found;
	const hit = verified.get(study.id);
	if (hit && hit.chain === chain && Date.now() - hit.at < VERIFIED_FOR_MS)
		return { ...hit.result, study };
	const runnable = await verifyRunningConfig(db, slug);
	const seed = await readSeed(db, study.id);
	if (!seed) throw new RunningConfigError(slug, ['the study has no randomization seed']);
	const result: RunningStudy = {
		...runnable,
		seed,
		armIds: await armIds(db, study.id),
		scenarioIds: await scenarioIdsByKey(db, study.id)
	};
	verified.set(study.id, { chain, at: Date.now(), result: deepFreeze(result) });
	return result;
}

const TRANSITIONS: Record<'launch' | 'pause' | 'close', { from: StudyStatus[]; to: StudyStatus }> =
	{
		launch: { from: ['preregistered', 'paused'], to: 'recruiting' },
		pause: { from: ['recruiting'], to: 'paused' },
		close: { from: ['preregistered', 'recruiting', 'paused'], to: 'closed' }
	};

/**
 * Moves a study through its lifecycle. Launching (or resuming) re-checks the running
 * configuration against the preregistration; closing reveals the randomization seed.
 */
export async function changeStatus(
	db: Queryable,
	slug: string,
	action: keyof typeof TRANSITIONS,
	actor: Actor
): Promise<StudyStatus> {
	const { from, to } = TRANSITIONS[action];
	return inTransaction(db, async (trx) => {
		const study = await lockStudyBySlug(trx, slug);
		if (!study) throw new StudyStateError(`no study "${slug}"`, 'not_found');
		if (!from.includes(study.status)) {
			throw new StudyStateError(
				`cannot ${action} study "${slug}": it is ${study.status}`,
				'conflict'
			);
		}
		if (action === 'launch') await verifyRunningConfig(trx, slug);
		const seed = action === 'close' ? await readSeed(trx, study.id) : undefined;
		await updateStudy(trx, study.id, {
			status: to,
			...(seed !== undefined && { revealedSeed: seed })
		});
		await recordAuditEvent(trx, {
			actorKind: actor.kind,
			actorId: actor.id,
			studyId: study.id,
			action: `study.${action}`,
			target: slug,
			details: { from: study.status, to }
		});
		return to;
	});
}

/** The preregistration as a document: every registration in the chain and the current protocol. */
export async function preregistrationDocument(db: Queryable, slug: string) {
	const study = await findStudyBySlug(db, slug);
	if (!study) throw new StudyStateError(`no study "${slug}"`, 'not_found');
	const chain = await preregistrationsOf(db, study.id);
	if (chain.length === 0)
		throw new StudyStateError(`study "${slug}" is not preregistered`, 'not_found');
	const current = chain[chain.length - 1]!;
	const version = await protocolVersionById(db, current.protocolVersionId);
	const checked = validateProtocol(version?.protocol);
	if (!checked.ok) throw new Error(`the preregistered protocol of "${slug}" no longer validates`);
	const seed = await revealedSeed(db, study.id);
	return {
		format: PREREGISTRATION_FORMAT,
		study: { slug: study.slug, title: study.title, status: study.status },
		registrations: chain.map((p) => ({
			kind: p.kind,
			protocol_version: p.protocolVersion,
			registered_at: p.createdAt.toISOString(),
			sha256: p.sha256,
			protocol_sha256: p.protocolSha256,
			seed_sha256: p.seedSha256,
			answer_key_sha256: p.answerKeySha256,
			design_power: p.designPower,
			previous_sha256: p.previousSha256,
			reason: p.reason
		})),
		randomization_seed: seed,
		/** Revealed with the seed at close, so the answer-key commitment can be checked. */
		answer_key_salt: seed === null ? null : answerKeySalt(seed),
		protocol: checked.protocol
	};
}

export type PreregistrationDocument = Awaited<ReturnType<typeof preregistrationDocument>>;
