import type { Actor } from '../actor.ts';
import { recordAuditEvent } from '../audit/audit.repository.ts';
import { findAssumption, replaceStudyAssumptions } from '../cards/cards.repository.ts';
import { inTransaction, type Queryable } from '../db/types.ts';
import { diffJson, type Change } from '../protocols/diff.ts';
import { sha256OfJson } from '../protocols/hash.ts';
import {
	insertProtocolVersion,
	latestProtocolVersion,
	protocolVersionByNumber,
	type ProtocolVersionRow
} from '../protocols/protocols.repository.ts';
import { validateProtocol } from '../protocols/study-file.ts';
import type { StudyProtocol } from '../protocols/study-schema.ts';
import { ValidationError, type Problem } from '../validation/problems.ts';
import {
	findStudyBySlug,
	insertStudy,
	lockStudyBySlug,
	updateStudy,
	type StudySummary
} from './studies.repository.ts';

/** A rule of the study lifecycle was broken (the request was well-formed, the state forbids it). */
export class StudyStateError extends Error {
	constructor(
		message: string,
		readonly reason: 'not_found' | 'conflict'
	) {
		super(message);
		this.name = 'StudyStateError';
	}
}

export interface SaveResult {
	study: StudySummary;
	version: ProtocolVersionRow;
	outcome: 'created' | 'new_version' | 'unchanged';
	changes: Change[];
}

/** Resolves the card assumptions a protocol names; every missing one is a problem with its path. */
async function resolveAssumptions(db: Queryable, protocol: StudyProtocol): Promise<string[]> {
	const ids: string[] = [];
	const problems: Problem[] = [];
	for (const [i, ref] of protocol.tests_assumptions.entries()) {
		const found = await findAssumption(db, ref.card, ref.assumption);
		if (found) ids.push(found.id);
		else {
			problems.push({
				path: `tests_assumptions[${i}]`,
				message: `no assumption "${ref.assumption}" on a BenchmarkCard "${ref.card}" (import the card first: bedside card import)`
			});
		}
	}
	if (problems.length > 0) throw new ValidationError(problems);
	return ids;
}

/**
 * Saves a protocol as the study's newest draft version. A new slug creates the study; the same
 * content as the newest version changes nothing (imports are idempotent); different content
 * becomes version n+1, hash-linked to version n. Only a draft study takes new versions:
 * a preregistered one changes by amendment.
 */
export async function saveProtocolDraft(
	db: Queryable,
	input: StudyProtocol,
	actor: Actor,
	reason: string | null = null
): Promise<SaveResult> {
	// Re-validate: callers may pass a value that was edited after it was first checked.
	const checked = validateProtocol(input);
	if (!checked.ok) throw new ValidationError(checked.problems);
	const protocol = checked.protocol;
	const sha256 = sha256OfJson(protocol);
	return inTransaction(db, async (trx) => {
		const assumptionIds = await resolveAssumptions(trx, protocol);
		const existing = await lockStudyBySlug(trx, protocol.slug);
		if (!existing) {
			const studyId = await insertStudy(trx, { slug: protocol.slug, title: protocol.title });
			const version = await insertProtocolVersion(trx, {
				studyId,
				version: 1,
				protocol,
				sha256,
				previousSha256: null,
				reason,
				createdBy: actor.kind === 'user' ? (actor.id ?? null) : null
			});
			await replaceStudyAssumptions(trx, studyId, assumptionIds);
			await recordAuditEvent(trx, {
				actorKind: actor.kind,
				actorId: actor.id,
				studyId,
				protocolVersionId: version.id,
				action: 'study.create',
				target: protocol.slug,
				details: { sha256 }
			});
			const study = (await findStudyBySlug(trx, protocol.slug))!;
			return { study, version, outcome: 'created', changes: [] };
		}
		const latest = await latestProtocolVersion(trx, existing.id);
		if (latest && latest.sha256 === sha256) {
			return { study: existing, version: latest, outcome: 'unchanged', changes: [] };
		}
		if (existing.status !== 'draft') {
			throw new StudyStateError(
				`study "${protocol.slug}" is ${existing.status}: its protocol is locked; change it with an amendment and a reason`,
				'conflict'
			);
		}
		const version = await insertProtocolVersion(trx, {
			studyId: existing.id,
			version: (latest?.version ?? 0) + 1,
			protocol,
			sha256,
			previousSha256: latest?.sha256 ?? null,
			reason,
			createdBy: actor.kind === 'user' ? (actor.id ?? null) : null
		});
		if (existing.title !== protocol.title)
			await updateStudy(trx, existing.id, { title: protocol.title });
		await replaceStudyAssumptions(trx, existing.id, assumptionIds);
		const changes = diffJson(latest?.protocol ?? {}, protocol);
		await recordAuditEvent(trx, {
			actorKind: actor.kind,
			actorId: actor.id,
			studyId: existing.id,
			protocolVersionId: version.id,
			action: 'protocol.save',
			target: protocol.slug,
			details: { version: version.version, sha256, changed: changes.length }
		});
		return {
			study: { ...existing, title: protocol.title },
			version,
			outcome: 'new_version',
			changes
		};
	});
}

/** A study's protocol (newest version, or the one asked for), validated back into its type. */
export async function getProtocol(
	db: Queryable,
	slug: string,
	versionNumber?: number
): Promise<{ study: StudySummary; version: ProtocolVersionRow; protocol: StudyProtocol }> {
	const study = await findStudyBySlug(db, slug);
	if (!study) throw new StudyStateError(`no study "${slug}"`, 'not_found');
	const version =
		versionNumber === undefined
			? await latestProtocolVersion(db, study.id)
			: await protocolVersionByNumber(db, study.id, versionNumber);
	if (!version)
		throw new StudyStateError(
			`study "${slug}" has no protocol version ${versionNumber ?? ''}`.trim(),
			'not_found'
		);
	const checked = validateProtocol(version.protocol);
	if (!checked.ok) {
		throw new Error(
			`stored protocol v${version.version} of "${slug}" no longer validates: ${checked.problems[0]?.message}`
		);
	}
	return { study, version, protocol: checked.protocol };
}
