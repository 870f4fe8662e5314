import type { Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { Queryable } from '../db/types.ts';

export interface ProtocolVersionRow {
	id: string;
	studyId: string;
	version: number;
	protocol: unknown;
	sha256: string;
	previousSha256: string | null;
	reason: string | null;
	createdBy: string | null;
	createdAt: Date;
	lockedAt: Date | null;
}

function toProtocolVersion(r: {
	id: string;
	study_id: string;
	version: number;
	protocol: unknown;
	sha256: string;
	previous_sha256: string | null;
	reason: string | null;
	created_by: string | null;
	created_at: Date;
	locked_at: Date | null;
}): ProtocolVersionRow {
	return {
		id: r.id,
		studyId: r.study_id,
		version: r.version,
		protocol: r.protocol,
		sha256: r.sha256,
		previousSha256: r.previous_sha256,
		reason: r.reason,
		createdBy: r.created_by,
		createdAt: r.created_at,
		lockedAt: r.locked_at
	};
}

export async function latestProtocolVersion(
	db: Queryable,
	studyId: string
): Promise<ProtocolVersionRow | undefined> {
	const row = await db
		.selectFrom('protocol_versions')
		.selectAll()
		.where('study_id', '=', studyId)
		.orderBy('version', 'desc')
		.limit(1)
		.executeTakeFirst();
	return row && toProtocolVersion(row);
}

export async function protocolVersionById(
	db: Queryable,
	id: string
): Promise<ProtocolVersionRow | undefined> {
	const row = await db
		.selectFrom('protocol_versions')
		.selectAll()
		.where('id', '=', id)
		.executeTakeFirst();
	return row && toProtocolVersion(row);
}

export async function protocolVersionByNumber(
	db: Queryable,
	studyId: string,
	version: number
): Promise<ProtocolVersionRow | undefined> {
	const row = await db
		.selectFrom('protocol_versions')
		.selectAll()
		.where('study_id', '=', studyId)
		.where('version', '=', version)
		.executeTakeFirst();
	return row && toProtocolVersion(row);
}

export async function listProtocolVersions(
	db: Queryable,
	studyId: string
): Promise<ProtocolVersionRow[]> {
	const rows = await db
		.selectFrom('protocol_versions')
		.selectAll()
		.where('study_id', '=', studyId)
		.orderBy('version')
		.execute();
	return rows.map(toProtocolVersion);
}

export async function insertProtocolVersion(
	trx: Transaction<DB>,
	v: {
		studyId: string;
		version: number;
		protocol: unknown;
		sha256: string;
		previousSha256: string | null;
		reason: string | null;
		createdBy: string | null;
		lockedAt?: Date | null;
	}
): Promise<ProtocolVersionRow> {
	const row = await trx
		.insertInto('protocol_versions')
		.values({
			study_id: v.studyId,
			version: v.version,
			protocol: JSON.stringify(v.protocol),
			sha256: v.sha256,
			previous_sha256: v.previousSha256,
			reason: v.reason,
			created_by: v.createdBy,
			locked_at: v.lockedAt ?? null
		})
		.returningAll()
		.executeTakeFirstOrThrow();
	return toProtocolVersion(row);
}

export async function lockProtocolVersion(
	trx: Transaction<DB>,
	id: string,
	at: Date
): Promise<void> {
	await trx.updateTable('protocol_versions').set({ locked_at: at }).where('id', '=', id).execute();
}
