import { sql, type Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { Queryable } from '../db/types.ts';

export type StudyStatus = 'draft' | 'preregistered' | 'recruiting' | 'paused' | 'closed';

export interface StudySummary {
	id: string;
	slug: string;
	title: string;
	status: StudyStatus;
	createdAt: Date;
}

/** An arm as its row holds it: materialized from the preregistered protocol. */
export interface ArmRow {
	key: string;
	kind: 'control' | 'llm_assisted' | 'llm_alone' | 'other';
	label: string;
	allocationWeight: number;
	assistantConfig: unknown;
}

export interface ScenarioRow {
	key: string;
	title: string;
	participantText: string;
	benchmarkPrompt: string;
	correctDisposition: string;
	relevantConditions: unknown;
	redFlags: unknown;
}

export async function countStudies(db: Queryable): Promise<number> {
	const row = await db
		.selectFrom('studies')
		.select((eb) => eb.fn.countAll<number>().as('n'))
		.executeTakeFirstOrThrow();
	return Number(row.n);
}

export async function listStudies(db: Queryable): Promise<StudySummary[]> {
	const rows = await db.selectFrom('studies').select(STUDY_COLUMNS).orderBy('created_at').execute();
	return rows.map(toStudy);
}

/**
 * Serializes first-start seeding across instances: the second instance waits, then sees the
 * first one's study. Transaction-scoped, so it is released at commit or rollback.
 */
export async function lockSeeding(trx: Transaction<DB>): Promise<void> {
	await sql`select pg_advisory_xact_lock(4207220262)`.execute(trx);
}

const STUDY_COLUMNS = ['id', 'slug', 'title', 'status', 'created_at'] as const;

function toStudy(r: {
	id: string;
	slug: string;
	title: string;
	status: string;
	created_at: Date;
}): StudySummary {
	return {
		id: r.id,
		slug: r.slug,
		title: r.title,
		status: r.status as StudyStatus,
		createdAt: r.created_at
	};
}

export async function findStudyBySlug(
	db: Queryable,
	slug: string
): Promise<StudySummary | undefined> {
	const r = await db
		.selectFrom('studies')
		.select(STUDY_COLUMNS)
		.where('slug', '=', slug)
		.executeTakeFirst();
	return r && toStudy(r);
}

export async function findStudyById(db: Queryable, id: string): Promise<StudySummary | undefined> {
	const r = await db
		.selectFrom('studies')
		.select(STUDY_COLUMNS)
		.where('id', '=', id)
		.executeTakeFirst();
	return r && toStudy(r);
}

/** The study row, locked until the transaction ends: status changes and new versions serialize on it. */
export async function lockStudyBySlug(
	trx: Transaction<DB>,
	slug: string
): Promise<StudySummary | undefined> {
	const r = await trx
		.selectFrom('studies')
		.select(STUDY_COLUMNS)
		.where('slug', '=', slug)
		.forUpdate()
		.executeTakeFirst();
	return r && toStudy(r);
}

export async function updateStudy(
	trx: Transaction<DB>,
	id: string,
	changes: { title?: string; status?: StudyStatus; revealedSeed?: string }
): Promise<void> {
	await trx
		.updateTable('studies')
		.set({
			...(changes.title !== undefined && { title: changes.title }),
			...(changes.status !== undefined && { status: changes.status }),
			...(changes.revealedSeed !== undefined && { revealed_seed: changes.revealedSeed }),
			updated_at: new Date()
		})
		.where('id', '=', id)
		.execute();
}

export async function insertStudy(
	trx: Transaction<DB>,
	study: { slug: string; title: string }
): Promise<string> {
	const row = await trx
		.insertInto('studies')
		.values({ slug: study.slug, title: study.title })
		.returning('id')
		.executeTakeFirstOrThrow();
	return row.id;
}

/** Inserts or updates the study's arms to match a protocol (rows for other keys are kept). */
export async function upsertArms(
	trx: Transaction<DB>,
	studyId: string,
	arms: ArmRow[]
): Promise<void> {
	for (const a of arms) {
		const values = {
			kind: a.kind,
			label: a.label,
			allocation_weight: a.allocationWeight,
			assistant_config: a.assistantConfig === null ? null : JSON.stringify(a.assistantConfig)
		};
		await trx
			.insertInto('arms')
			.values({ study_id: studyId, key: a.key, ...values })
			.onConflict((oc) => oc.columns(['study_id', 'key']).doUpdateSet(values))
			.execute();
	}
}

export async function upsertScenarios(
	trx: Transaction<DB>,
	studyId: string,
	scenarios: ScenarioRow[]
): Promise<void> {
	for (const x of scenarios) {
		const values = {
			title: x.title,
			participant_text: x.participantText,
			benchmark_prompt: x.benchmarkPrompt,
			correct_disposition: x.correctDisposition,
			relevant_conditions: JSON.stringify(x.relevantConditions),
			red_flags: JSON.stringify(x.redFlags)
		};
		await trx
			.insertInto('scenarios')
			.values({ study_id: studyId, key: x.key, ...values })
			.onConflict((oc) => oc.columns(['study_id', 'key']).doUpdateSet(values))
			.execute();
	}
}

export async function armsOf(db: Queryable, studyId: string): Promise<ArmRow[]> {
	const rows = await db
		.selectFrom('arms')
		.selectAll()
		.where('study_id', '=', studyId)
		.orderBy('key')
		.execute();
	return rows.map((r) => ({
		key: r.key,
		kind: r.kind as ArmRow['kind'],
		label: r.label,
		allocationWeight: Number(r.allocation_weight),
		assistantConfig: r.assistant_config
	}));
}

export async function scenariosOf(db: Queryable, studyId: string): Promise<ScenarioRow[]> {
	const rows = await db
		.selectFrom('scenarios')
		.selectAll()
		.where('study_id', '=', studyId)
		.orderBy('key')
		.execute();
	return rows.map((r) => ({
		key: r.key,
		title: r.title,
		participantText: r.participant_text,
		benchmarkPrompt: r.benchmark_prompt,
		correctDisposition: r.correct_disposition,
		relevantConditions: r.relevant_conditions,
		redFlags: r.red_flags
	}));
}

/**
 * A study and the SHA-256 chain of its preregistrations in one read: the participant flow checks
 * the chain on every request (see runningConfig in prereg.service.ts).
 */
export async function findStudyWithChain(
	db: Queryable,
	slug: string
): Promise<{ study: StudySummary; chain: string } | undefined> {
	const row = await db
		.selectFrom('studies')
		.select(STUDY_COLUMNS)
		.select((eb) =>
			eb
				.selectFrom('preregistrations as p')
				.select(
					sql<string>`coalesce(string_agg(p.sha256, ',' order by p.created_at, p.id), '')`.as(
						'chain'
					)
				)
				.whereRef('p.study_id', '=', 'studies.id')
				.as('chain')
		)
		.where('slug', '=', slug)
		.executeTakeFirst();
	return row && { study: toStudy(row), chain: row.chain ?? '' };
}
