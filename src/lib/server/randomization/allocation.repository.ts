import { sql, type Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { Queryable } from '../db/types.ts';

export interface SlotRow {
	id: number;
	stratum: string;
	position: number;
	armKey: string;
	scenarioKeys: string[];
	blockNumber: number | null;
	blockSize: number | null;
	method: string;
	algorithmVersion: string;
	covariates: Record<string, string> | null;
	participantId: string | null;
	takenAt: Date | null;
}

function slotQuery(db: Queryable) {
	return db
		.selectFrom('allocation_slots as s')
		.innerJoin('arms', 'arms.id', 's.arm_id')
		.select([
			's.id',
			's.stratum',
			's.position',
			'arms.key as arm_key',
			's.scenario_keys',
			's.block_number',
			's.block_size',
			's.method',
			's.algorithm_version',
			's.covariates',
			's.participant_id',
			's.taken_at'
		]);
}

type SlotSelection = Awaited<ReturnType<ReturnType<typeof slotQuery>['execute']>>[number];

const toSlot = (r: SlotSelection): SlotRow => ({
	id: r.id,
	stratum: r.stratum,
	position: r.position,
	armKey: r.arm_key,
	scenarioKeys: r.scenario_keys,
	blockNumber: r.block_number,
	blockSize: r.block_size,
	method: r.method,
	algorithmVersion: r.algorithm_version,
	covariates: r.covariates as Record<string, string> | null,
	participantId: r.participant_id,
	takenAt: r.taken_at
});

/** Serializes slot generation (and minimization) for one study and stratum across instances. */
export async function lockAllocationStream(
	trx: Transaction<DB>,
	studyId: string,
	stratum: string
): Promise<void> {
	await sql`select pg_advisory_xact_lock(hashtextextended(${`bedside-allocation:${studyId}:${stratum}`}, 0))`.execute(
		trx
	);
}

export async function maxPosition(
	db: Queryable,
	studyId: string,
	stratum: string
): Promise<number> {
	const row = await db
		.selectFrom('allocation_slots')
		.select((eb) => eb.fn.max('position').as('n'))
		.where('study_id', '=', studyId)
		.where('stratum', '=', stratum)
		.executeTakeFirst();
	return Number(row?.n ?? 0);
}

export async function armIds(db: Queryable, studyId: string): Promise<Map<string, string>> {
	const rows = await db
		.selectFrom('arms')
		.select(['id', 'key'])
		.where('study_id', '=', studyId)
		.execute();
	return new Map(rows.map((r) => [r.key, r.id]));
}

// Arms are rows made at preregistration and never changed (an amendment may add one): an arm's id
// by study and key is kept once read, and read again only for a key not seen yet.
const armIdsByStudy = new Map<string, Map<string, string>>();

export async function armIdOf(db: Queryable, studyId: string, key: string): Promise<string> {
	let ids = armIdsByStudy.get(studyId);
	if (!ids?.has(key)) {
		ids = await armIds(db, studyId);
		if (armIdsByStudy.size >= 1000) armIdsByStudy.clear();
		armIdsByStudy.set(studyId, ids);
	}
	const id = ids.get(key);
	if (id === undefined) throw new Error(`study ${studyId} has no arm "${key}"`);
	return id;
}

export async function insertSlots(
	trx: Transaction<DB>,
	studyId: string,
	slots: {
		stratum: string;
		position: number;
		armId: string;
		scenarioKeys: string[];
		blockNumber: number | null;
		blockSize: number | null;
		method: string;
		algorithmVersion: string;
		covariates?: Record<string, string> | null;
		participantId?: string;
		takenAt?: Date;
	}[]
): Promise<void> {
	for (let i = 0; i < slots.length; i += 500) {
		await trx
			.insertInto('allocation_slots')
			.values(
				slots.slice(i, i + 500).map((s) => ({
					study_id: studyId,
					stratum: s.stratum,
					position: s.position,
					arm_id: s.armId,
					scenario_keys: s.scenarioKeys,
					block_number: s.blockNumber,
					block_size: s.blockSize,
					method: s.method,
					algorithm_version: s.algorithmVersion,
					covariates: s.covariates ? JSON.stringify(s.covariates) : null,
					participant_id: s.participantId ?? null,
					taken_at: s.takenAt ?? null
				}))
			)
			.execute();
	}
}

/**
 * Takes the first free slot of a stratum for a participant. The row lock with SKIP LOCKED means
 * concurrent allocations never wait on, or take, the same slot; the unique participant_id means
 * one participant can never hold two.
 */
export async function takeFreeSlot(
	trx: Transaction<DB>,
	studyId: string,
	stratum: string,
	participantId: string,
	at: Date
): Promise<{ id: number; position: number; armId: string; scenarioKeys: string[] } | undefined> {
	const row = await trx
		.updateTable('allocation_slots')
		.set({ participant_id: participantId, taken_at: at })
		.where('id', '=', (eb) =>
			eb
				.selectFrom('allocation_slots')
				.select('id')
				.where('study_id', '=', studyId)
				.where('stratum', '=', stratum)
				.where('participant_id', 'is', null)
				.orderBy('position')
				.limit(1)
				.forUpdate()
				.skipLocked()
		)
		.returning(['id', 'position', 'arm_id', 'scenario_keys'])
		.executeTakeFirst();
	return (
		row && {
			id: row.id,
			position: row.position,
			armId: row.arm_id,
			scenarioKeys: row.scenario_keys
		}
	);
}

export async function slotOfParticipant(
	db: Queryable,
	participantId: string
): Promise<SlotRow | undefined> {
	const row = await slotQuery(db).where('s.participant_id', '=', participantId).executeTakeFirst();
	return row && toSlot(row);
}

/** Every slot of a study, by stratum and position. */
export async function slotsOfStudy(db: Queryable, studyId: string): Promise<SlotRow[]> {
	const rows = await slotQuery(db)
		.where('s.study_id', '=', studyId)
		.orderBy('s.stratum')
		.orderBy('s.position')
		.execute();
	return rows.map(toSlot);
}

/** The arm of a participant: their slot's, or for a test participant the arm chosen for them. */
// A participant's arm never changes once allocated (slots and test allocations refuse updates), so
// a worker keeps the answers it has read: every chat message and page asks for it. Only found arms
// are kept (allocation may come later), and the map is bounded.
const armKeys = new Map<string, string>();
const MAX_REMEMBERED = 100_000;

/**
 * `settled`: the caller knows the allocation is committed (inside a transaction that did not make
 * it, e.g. one that locked a participant already past screening), so the answer may be kept.
 */
export async function armKeyOfParticipant(
	db: Queryable,
	participantId: string,
	settled = !db.isTransaction
): Promise<string | undefined> {
	const known = armKeys.get(participantId);
	if (known !== undefined) return known;
	const slot = await slotOfParticipant(db, participantId);
	const key =
		slot?.armKey ??
		(
			await db
				.selectFrom('test_allocations as t')
				.innerJoin('arms', 'arms.id', 't.arm_id')
				.select('arms.key')
				.where('t.participant_id', '=', participantId)
				.executeTakeFirst()
		)?.key;
	// Inside the transaction that allocates, the answer may yet be rolled back: kept only when settled.
	if (key !== undefined && settled) {
		if (armKeys.size >= MAX_REMEMBERED) armKeys.clear();
		armKeys.set(participantId, key);
	}
	return key;
}

export async function insertTestAllocation(
	trx: Transaction<DB>,
	participantId: string,
	armId: string
): Promise<void> {
	await trx
		.insertInto('test_allocations')
		.values({ participant_id: participantId, arm_id: armId })
		.execute();
}
