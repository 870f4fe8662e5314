import type { Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { Queryable } from '../db/types.ts';
import type { StudyProtocol } from '../protocols/study-schema.ts';
import { sha256Hex } from '../protocols/hash.ts';
import {
	armIds,
	insertSlots,
	lockAllocationStream,
	maxPosition,
	slotsOfStudy,
	takeFreeSlot,
	type SlotRow
} from './allocation.repository.ts';
import {
	ALGORITHM_VERSION,
	minimizationPick,
	planSlots,
	scenarioChunks,
	shuffle,
	stream,
	type ArmWeight,
	type BlockDesign
} from './sequence.ts';

/** Arms that take participants (the LLM-alone condition runs without people). */
export function allocatedArms(protocol: StudyProtocol): ArmWeight[] {
	return protocol.arms
		.filter((a) => a.kind !== 'llm_alone')
		.map((a) => ({ key: a.id, weight: a.weight }));
}

/** The stratum a participant falls in: the answers to the stratifying questions, in a fixed order. */
export function stratumOf(protocol: StudyProtocol, screening: Record<string, string>): string {
	const r = protocol.randomization;
	if (r.method !== 'stratified_blocks') return '';
	return [...r.strata]
		.sort()
		.map((q) => `${q}=${screening[q] ?? ''}`)
		.join('&');
}

function blockDesign(protocol: StudyProtocol): BlockDesign {
	const r = protocol.randomization;
	return r.method === 'simple'
		? { method: 'simple' }
		: r.method === 'minimization'
			? { method: 'simple' }
			: { method: r.method, blockSizes: r.block_sizes };
}

const scenarioKeysOf = (p: StudyProtocol) => p.scenarios.map((s) => s.id);

/** How many slots to generate ahead per stratum when it runs out: enough for the target sample. */
const batchSize = (p: StudyProtocol) => Math.max(60, Math.min(p.sample_size.target, 5000));

export interface Allocation {
	slotId: number;
	armKey: string;
	scenarioKeys: string[];
	stratum: string;
	position: number;
	method: string;
}

/**
 * Allocates a participant, inside the caller's transaction (which has already committed the
 * participant to the study: consent and screening). Block methods take the next free pre-generated
 * slot; minimization computes the arm from the current totals under a lock.
 */
export async function allocate(
	trx: Transaction<DB>,
	input: {
		studyId: string;
		protocol: StudyProtocol;
		seed: string;
		participantId: string;
		screening: Record<string, string>;
		now: Date;
		/** The study's arm ids by key, when the caller has them (else read). */
		armIds?: ReadonlyMap<string, string>;
	}
): Promise<Allocation> {
	const { studyId, protocol, seed, participantId, now } = input;
	const stratum = stratumOf(protocol, input.screening);
	const ids = input.armIds ?? (await armIds(trx, studyId));
	const method = protocol.randomization.method;

	if (protocol.randomization.method === 'minimization') {
		const r = protocol.randomization;
		await lockAllocationStream(trx, studyId, stratum);
		const taken = (await slotsOfStudy(trx, studyId)).filter((s) => s.participantId !== null);
		const levels = Object.fromEntries(r.factors.map((f) => [f, input.screening[f] ?? '']));
		const position = taken.length + 1;
		const armKey = pickByMinimization(seed, protocol, taken, levels, position);
		const already = taken.filter((s) => s.armKey === armKey).length;
		const scenarioKeys = scenarioChunks(
			seed,
			stratum,
			armKey,
			scenarioKeysOf(protocol),
			protocol.episodes_per_participant,
			already + 1
		)[already]!;
		await insertSlots(trx, studyId, [
			{
				stratum,
				position,
				armId: ids.get(armKey)!,
				scenarioKeys,
				blockNumber: null,
				blockSize: null,
				method,
				algorithmVersion: ALGORITHM_VERSION,
				covariates: levels,
				participantId,
				takenAt: now
			}
		]);
		const slot = (await slotsOfStudy(trx, studyId)).find((s) => s.participantId === participantId)!;
		return { slotId: slot.id, armKey, scenarioKeys, stratum, position, method };
	}

	for (let attempt = 0; attempt < 3; attempt++) {
		const slot = await takeFreeSlot(trx, studyId, stratum, participantId, now);
		if (slot !== undefined) {
			const armKey = [...ids].find(([, id]) => id === slot.armId)?.[0];
			if (!armKey) throw new Error(`allocation slot ${slot.id} names an unknown arm`);
			return {
				slotId: slot.id,
				armKey,
				scenarioKeys: scenariosForProtocol(seed, protocol, stratum, slot),
				stratum,
				position: slot.position,
				method
			};
		}
		await extendSlots(trx, studyId, protocol, seed, stratum);
	}
	throw new Error(`no allocation slot could be taken in stratum "${stratum}"`);
}

/**
 * The slot's planned scenarios, when the participant's protocol version has them all (always,
 * unless an amendment renamed or removed scenarios after the slot was generated). Otherwise the
 * participant gets scenarios of their own version, drawn from a stream of the seed and the slot's
 * position: still re-derivable by an auditor, never a scenario their version lacks.
 */
function scenariosForProtocol(
	seed: string,
	protocol: StudyProtocol,
	stratum: string,
	slot: { position: number; scenarioKeys: string[] }
): string[] {
	const keys = scenarioKeysOf(protocol);
	if (slot.scenarioKeys.every((k) => keys.includes(k))) return slot.scenarioKeys;
	const random = stream(seed, 'scenarios-after-amendment', stratum, slot.position);
	return shuffle(keys, random).slice(0, protocol.episodes_per_participant);
}

/** Generates the next batch of a stratum's sequence (positions after the last stored one). */
async function extendSlots(
	trx: Transaction<DB>,
	studyId: string,
	protocol: StudyProtocol,
	seed: string,
	stratum: string
): Promise<void> {
	await lockAllocationStream(trx, studyId, stratum);
	const existing = await maxPosition(trx, studyId, stratum);
	const ids = await armIds(trx, studyId);
	const planned = planSlots(
		seed,
		blockDesign(protocol),
		allocatedArms(protocol),
		scenarioKeysOf(protocol),
		protocol.episodes_per_participant,
		stratum,
		existing + batchSize(protocol)
	);
	await insertSlots(
		trx,
		studyId,
		planned
			.filter((s) => s.position > existing)
			.map((s) => ({
				stratum,
				position: s.position,
				armId: ids.get(s.armKey)!,
				scenarioKeys: s.scenarioKeys,
				blockNumber: s.blockNumber,
				blockSize: s.blockSize,
				method: protocol.randomization.method,
				algorithmVersion: ALGORITHM_VERSION
			}))
	);
}

function pickByMinimization(
	seed: string,
	protocol: StudyProtocol,
	earlier: SlotRow[],
	levels: Record<string, string>,
	position: number
): string {
	const r = protocol.randomization;
	if (r.method !== 'minimization') throw new Error('not a minimization design');
	const counts = new Map<string, Map<string, number>>();
	for (const s of earlier) {
		for (const [f, l] of Object.entries(s.covariates ?? {})) {
			const m = counts.get(`${f}=${l}`) ?? new Map<string, number>();
			m.set(s.armKey, (m.get(s.armKey) ?? 0) + 1);
			counts.set(`${f}=${l}`, m);
		}
	}
	const random = stream(seed, 'minimization', position);
	return minimizationPick(
		allocatedArms(protocol),
		counts,
		levels,
		r.probability,
		random(),
		random()
	);
}

export interface VerifyReport {
	ok: boolean;
	seedMatchesCommitment: boolean;
	checked: number;
	taken: number;
	problems: string[];
}

/**
 * Re-derives the allocation sequence from the revealed seed and checks every stored slot against
 * it: block methods position by position, minimization by replaying the allocations in order.
 */
export async function verifyAllocations(
	db: Queryable,
	studyId: string,
	protocol: StudyProtocol,
	seed: string,
	seedSha256: string
): Promise<VerifyReport> {
	const problems: string[] = [];
	const seedMatchesCommitment = sha256Hex(seed) === seedSha256;
	if (!seedMatchesCommitment)
		problems.push('the seed does not hash to the preregistered commitment');
	const slots = await slotsOfStudy(db, studyId);
	const byStratum = new Map<string, SlotRow[]>();
	for (const s of slots) byStratum.set(s.stratum, [...(byStratum.get(s.stratum) ?? []), s]);

	if (protocol.randomization.method === 'minimization') {
		const ordered = [...slots].sort((a, b) => a.position - b.position);
		ordered.forEach((slot, i) => {
			const expected = pickByMinimization(
				seed,
				protocol,
				ordered.slice(0, i),
				slot.covariates ?? {},
				slot.position
			);
			if (expected !== slot.armKey)
				problems.push(
					`position ${slot.position}: stored arm ${slot.armKey}, the seed gives ${expected}`
				);
		});
	} else {
		for (const [stratum, stored] of byStratum) {
			const last = Math.max(...stored.map((s) => s.position));
			const planned = planSlots(
				seed,
				blockDesign(protocol),
				allocatedArms(protocol),
				scenarioKeysOf(protocol),
				protocol.episodes_per_participant,
				stratum,
				last
			);
			for (const s of stored) {
				const p = planned[s.position - 1];
				if (!p) problems.push(`stratum "${stratum}" position ${s.position}: not in the sequence`);
				else if (p.armKey !== s.armKey)
					problems.push(
						`stratum "${stratum}" position ${s.position}: stored arm ${s.armKey}, the seed gives ${p.armKey}`
					);
				else if (p.scenarioKeys.join(',') !== s.scenarioKeys.join(','))
					problems.push(
						`stratum "${stratum}" position ${s.position}: stored scenarios ${s.scenarioKeys.join(',')}, the seed gives ${p.scenarioKeys.join(',')}`
					);
			}
			const positions = stored.map((s) => s.position);
			if (new Set(positions).size !== positions.length || positions.some((p, i) => p !== i + 1)) {
				problems.push(`stratum "${stratum}": positions are not 1..${stored.length} without gaps`);
			}
		}
	}
	return {
		ok: problems.length === 0,
		seedMatchesCommitment,
		checked: slots.length,
		taken: slots.filter((s) => s.participantId).length,
		problems
	};
}
