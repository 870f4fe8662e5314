import type { Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { Queryable } from '../db/types.ts';
import type { Holds } from './card-schema.ts';

export interface CardRow {
	id: string;
	slug: string;
	benchmarkName: string;
	citation: string;
	version: string | null;
	card: unknown;
	updatedAt: Date;
}

export interface AssumptionRow {
	id: string;
	cardId: string;
	cardSlug: string;
	key: string;
	type: 'task' | 'outcome';
	question: string;
	answer: string;
	holdsAtDeployment: Holds;
	note: string | null;
}

export interface EvidenceRow {
	assumptionId: string;
	studySlug: string;
	estimate: string;
	value: number | null;
	ciLow: number | null;
	ciHigh: number | null;
	createdAt: Date;
}

function toCard(r: {
	id: string;
	slug: string;
	benchmark_name: string;
	citation: string;
	version: string | null;
	card: unknown;
	updated_at: Date;
}): CardRow {
	return {
		id: r.id,
		slug: r.slug,
		benchmarkName: r.benchmark_name,
		citation: r.citation,
		version: r.version,
		card: r.card,
		updatedAt: r.updated_at
	};
}

export async function findCardBySlug(db: Queryable, slug: string): Promise<CardRow | undefined> {
	const r = await db
		.selectFrom('benchmark_cards')
		.selectAll()
		.where('slug', '=', slug)
		.executeTakeFirst();
	return r && toCard(r);
}

export async function listCards(db: Queryable): Promise<CardRow[]> {
	const rows = await db
		.selectFrom('benchmark_cards')
		.selectAll()
		.orderBy('benchmark_name')
		.execute();
	return rows.map(toCard);
}

export async function upsertCard(
	trx: Transaction<DB>,
	c: {
		slug: string;
		benchmarkName: string;
		citation: string;
		version: string | null;
		card: unknown;
	}
): Promise<string> {
	const values = {
		benchmark_name: c.benchmarkName,
		citation: c.citation,
		version: c.version,
		card: JSON.stringify(c.card),
		updated_at: new Date()
	};
	const row = await trx
		.insertInto('benchmark_cards')
		.values({ slug: c.slug, ...values })
		.onConflict((oc) => oc.column('slug').doUpdateSet(values))
		.returning('id')
		.executeTakeFirstOrThrow();
	return row.id;
}

function assumptionQuery(db: Queryable) {
	return db
		.selectFrom('assumptions')
		.innerJoin('benchmark_cards', 'benchmark_cards.id', 'assumptions.card_id')
		.select([
			'assumptions.id',
			'assumptions.card_id',
			'benchmark_cards.slug as card_slug',
			'assumptions.key',
			'assumptions.type',
			'assumptions.question',
			'assumptions.answer',
			'assumptions.holds_at_deployment',
			'assumptions.note'
		]);
}

type AssumptionSelection = Awaited<
	ReturnType<ReturnType<typeof assumptionQuery>['execute']>
>[number];

function toAssumption(r: AssumptionSelection): AssumptionRow {
	return {
		id: r.id,
		cardId: r.card_id,
		cardSlug: r.card_slug,
		key: r.key,
		type: r.type as 'task' | 'outcome',
		question: r.question,
		answer: r.answer,
		holdsAtDeployment: r.holds_at_deployment as Holds,
		note: r.note
	};
}

/** Assumptions of the given cards (all cards when omitted), grouped by card, task before outcome. */
export async function assumptionsOfCards(
	db: Queryable,
	cardIds?: string[]
): Promise<AssumptionRow[]> {
	if (cardIds && cardIds.length === 0) return [];
	const rows = await assumptionQuery(db)
		.$if(cardIds !== undefined, (q) => q.where('assumptions.card_id', 'in', cardIds!))
		.orderBy('benchmark_cards.slug')
		.orderBy('assumptions.type', 'desc')
		.orderBy('assumptions.key')
		.execute();
	return rows.map(toAssumption);
}

export async function upsertAssumption(
	trx: Transaction<DB>,
	a: {
		cardId: string;
		key: string;
		type: 'task' | 'outcome';
		question: string;
		answer: string;
		holds: Holds;
		note: string | null;
	}
): Promise<void> {
	const values = {
		type: a.type,
		question: a.question,
		answer: a.answer,
		holds_at_deployment: a.holds,
		note: a.note
	};
	await trx
		.insertInto('assumptions')
		.values({ card_id: a.cardId, key: a.key, ...values })
		.onConflict((oc) => oc.columns(['card_id', 'key']).doUpdateSet(values))
		.execute();
}

/** Removes a card's assumptions that are not in `keep`; returns the keys that studies still test. */
export async function removeAssumptionsExcept(
	trx: Transaction<DB>,
	cardId: string,
	keep: string[]
): Promise<string[]> {
	const stale = await trx
		.selectFrom('assumptions')
		.leftJoin('study_assumptions', 'study_assumptions.assumption_id', 'assumptions.id')
		.select(['assumptions.id', 'assumptions.key', 'study_assumptions.study_id'])
		.where('assumptions.card_id', '=', cardId)
		.$if(keep.length > 0, (q) => q.where('assumptions.key', 'not in', keep))
		.execute();
	const tested = [...new Set(stale.filter((s) => s.study_id !== null).map((s) => s.key))];
	if (tested.length > 0) return tested;
	const ids = stale.map((s) => s.id);
	if (ids.length > 0) await trx.deleteFrom('assumptions').where('id', 'in', ids).execute();
	return [];
}

export async function findAssumption(
	db: Queryable,
	cardSlug: string,
	key: string
): Promise<AssumptionRow | undefined> {
	const row = await assumptionQuery(db)
		.where('benchmark_cards.slug', '=', cardSlug)
		.where('assumptions.key', '=', key)
		.executeTakeFirst();
	return row && toAssumption(row);
}

export async function replaceStudyAssumptions(
	trx: Transaction<DB>,
	studyId: string,
	assumptionIds: string[]
): Promise<void> {
	await trx.deleteFrom('study_assumptions').where('study_id', '=', studyId).execute();
	if (assumptionIds.length === 0) return;
	await trx
		.insertInto('study_assumptions')
		.values(
			[...new Set(assumptionIds)].map((assumption_id) => ({ study_id: studyId, assumption_id }))
		)
		.execute();
}

/** Which studies test which assumptions: (assumption id → study slugs and statuses). */
export async function studiesTestingAssumptions(
	db: Queryable
): Promise<{ assumptionId: string; studySlug: string; studyTitle: string; status: string }[]> {
	const rows = await db
		.selectFrom('study_assumptions')
		.innerJoin('studies', 'studies.id', 'study_assumptions.study_id')
		.select(['study_assumptions.assumption_id', 'studies.slug', 'studies.title', 'studies.status'])
		.orderBy('studies.slug')
		.execute();
	return rows.map((r) => ({
		assumptionId: r.assumption_id,
		studySlug: r.slug,
		studyTitle: r.title,
		status: r.status
	}));
}

export async function evidenceFor(db: Queryable, assumptionIds: string[]): Promise<EvidenceRow[]> {
	if (assumptionIds.length === 0) return [];
	const rows = await db
		.selectFrom('assumption_evidence')
		.innerJoin('studies', 'studies.id', 'assumption_evidence.study_id')
		.select([
			'assumption_evidence.assumption_id',
			'studies.slug',
			'assumption_evidence.estimate',
			'assumption_evidence.value',
			'assumption_evidence.ci_low',
			'assumption_evidence.ci_high',
			'assumption_evidence.created_at'
		])
		.where('assumption_evidence.assumption_id', 'in', assumptionIds)
		.orderBy('assumption_evidence.created_at')
		.execute();
	return rows.map((r) => ({
		assumptionId: r.assumption_id,
		studySlug: r.slug,
		estimate: r.estimate,
		value: r.value,
		ciLow: r.ci_low,
		ciHigh: r.ci_high,
		createdAt: r.created_at
	}));
}

/** The card assumptions a study is linked to (the ones it tests). */
export async function assumptionsOfStudy(
	db: Queryable,
	studyId: string
): Promise<{ id: string; key: string; cardSlug: string }[]> {
	const rows = await db
		.selectFrom('study_assumptions')
		.innerJoin('assumptions', 'assumptions.id', 'study_assumptions.assumption_id')
		.innerJoin('benchmark_cards', 'benchmark_cards.id', 'assumptions.card_id')
		.select(['assumptions.id', 'assumptions.key', 'benchmark_cards.slug'])
		.where('study_assumptions.study_id', '=', studyId)
		.orderBy('benchmark_cards.slug')
		.orderBy('assumptions.key')
		.execute();
	return rows.map((r) => ({ id: r.id, key: r.key, cardSlug: r.slug }));
}

export interface NewEvidence {
	assumptionId: string;
	estimate: string;
	value: number | null;
	ciLow: number | null;
	ciHigh: number | null;
}

/**
 * Replaces what one study has written on the given assumptions with its current estimates (the
 * card shows each study's latest analysis; the audit log keeps every write).
 */
export async function replaceStudyEvidence(
	trx: Transaction<DB>,
	studyId: string,
	assumptionIds: string[],
	evidence: NewEvidence[],
	analysisSha256: string
): Promise<void> {
	if (assumptionIds.length > 0)
		await trx
			.deleteFrom('assumption_evidence')
			.where('study_id', '=', studyId)
			.where('assumption_id', 'in', assumptionIds)
			.execute();
	if (evidence.length === 0) return;
	await trx
		.insertInto('assumption_evidence')
		.values(
			evidence.map((e) => ({
				assumption_id: e.assumptionId,
				study_id: studyId,
				estimate: e.estimate,
				value: e.value,
				ci_low: e.ciLow,
				ci_high: e.ciHigh,
				analysis_sha256: analysisSha256
			}))
		)
		.execute();
}
