import type { Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { Queryable } from '../db/types.ts';
import type { DesignPowerRecord } from './design-power.ts';

export interface PreregistrationRow {
	id: string;
	studyId: string;
	protocolVersionId: string;
	protocolVersion: number;
	kind: 'initial' | 'amendment';
	sha256: string;
	protocolSha256: string;
	seedSha256: string;
	/** The salted commitment to the answer key (null on registrations made before it existed). */
	answerKeySha256: string | null;
	/** The power of the design when it was registered (null on older registrations or without power inputs). */
	designPower: DesignPowerRecord | null;
	previousId: string | null;
	previousSha256: string | null;
	reason: string | null;
	createdBy: string | null;
	createdAt: Date;
}

/** Every preregistration of a study, oldest first: the initial one, then each amendment. */
export async function preregistrationsOf(
	db: Queryable,
	studyId: string
): Promise<PreregistrationRow[]> {
	const rows = await db
		.selectFrom('preregistrations')
		.innerJoin('protocol_versions', 'protocol_versions.id', 'preregistrations.protocol_version_id')
		.selectAll('preregistrations')
		.select('protocol_versions.version as protocol_version')
		.where('preregistrations.study_id', '=', studyId)
		.orderBy('preregistrations.created_at')
		.orderBy('protocol_versions.version')
		.execute();
	return rows.map((r) => ({
		id: r.id,
		studyId: r.study_id,
		protocolVersionId: r.protocol_version_id,
		protocolVersion: r.protocol_version,
		kind: r.kind as 'initial' | 'amendment',
		sha256: r.sha256,
		protocolSha256: r.protocol_sha256,
		seedSha256: r.seed_sha256,
		answerKeySha256: r.answer_key_sha256,
		designPower: (r.design_power as DesignPowerRecord | null) ?? null,
		previousId: r.previous_id,
		previousSha256: r.previous_sha256,
		reason: r.reason,
		createdBy: r.created_by,
		createdAt: r.created_at
	}));
}

export async function insertPreregistration(
	trx: Transaction<DB>,
	p: Omit<PreregistrationRow, 'id' | 'protocolVersion'>
): Promise<string> {
	const row = await trx
		.insertInto('preregistrations')
		.values({
			study_id: p.studyId,
			protocol_version_id: p.protocolVersionId,
			kind: p.kind,
			sha256: p.sha256,
			protocol_sha256: p.protocolSha256,
			seed_sha256: p.seedSha256,
			answer_key_sha256: p.answerKeySha256,
			design_power: p.designPower === null ? null : JSON.stringify(p.designPower),
			previous_id: p.previousId,
			previous_sha256: p.previousSha256,
			reason: p.reason,
			created_by: p.createdBy,
			created_at: p.createdAt
		})
		.returning('id')
		.executeTakeFirstOrThrow();
	return row.id;
}

export async function insertSeed(
	trx: Transaction<DB>,
	studyId: string,
	seed: string
): Promise<void> {
	await trx
		.insertInto('study_secrets')
		.values({ study_id: studyId, randomization_seed: seed })
		.execute();
}

/** The randomization seed. Only the randomization service and closing a study may read it. */
export async function readSeed(db: Queryable, studyId: string): Promise<string | undefined> {
	const row = await db
		.selectFrom('study_secrets')
		.select('randomization_seed')
		.where('study_id', '=', studyId)
		.executeTakeFirst();
	return row?.randomization_seed;
}

export async function revealedSeed(db: Queryable, studyId: string): Promise<string | null> {
	const row = await db
		.selectFrom('studies')
		.select('revealed_seed')
		.where('id', '=', studyId)
		.executeTakeFirst();
	return row?.revealed_seed ?? null;
}
