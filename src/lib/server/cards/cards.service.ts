import { stringify } from 'yaml';
import { recordAuditEvent } from '../audit/audit.repository.ts';
import { inTransaction, type Queryable } from '../db/types.ts';
import { ValidationError, type Problem } from '../validation/problems.ts';
import type { Actor } from '../actor.ts';
import type { BenchmarkCard, CardAssumption } from './card-schema.ts';
import {
	assumptionsOfCards,
	evidenceFor,
	findCardBySlug,
	removeAssumptionsExcept,
	upsertAssumption,
	upsertCard
} from './cards.repository.ts';

export const CARD_SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * Stores a validated card under a slug, creating or replacing it, with its assumptions as rows
 * the registry can query. An assumption that a study tests cannot be removed from its card.
 */
export async function importCard(
	db: Queryable,
	slug: string,
	card: BenchmarkCard,
	actor: Actor
): Promise<{ created: boolean }> {
	if (!CARD_SLUG.test(slug)) {
		throw new ValidationError([
			{ path: 'slug', message: 'must be lowercase letters, digits and - (at most 63)' }
		]);
	}
	return inTransaction(db, async (trx) => {
		const existing = await findCardBySlug(trx, slug);
		const cardId = await upsertCard(trx, {
			slug,
			benchmarkName: card.benchmark_name,
			citation: card.citation,
			version: card.version ?? null,
			card
		});
		const keys: string[] = [];
		for (const type of ['task', 'outcome'] as const) {
			for (const [key, a] of Object.entries(card[type])) {
				keys.push(key);
				await upsertAssumption(trx, {
					cardId,
					key,
					type,
					question: a.question,
					answer: a.answer,
					holds: a.holds_at_deployment,
					note: a.note ?? null
				});
			}
		}
		const stillTested = await removeAssumptionsExcept(trx, cardId, keys);
		if (stillTested.length > 0) {
			throw new ValidationError(
				stillTested.map((key): Problem => ({
					path: key,
					message: 'a study tests this assumption; it cannot be removed from the card'
				}))
			);
		}
		await recordAuditEvent(trx, {
			actorKind: actor.kind,
			actorId: actor.id,
			action: existing ? 'card.update' : 'card.create',
			target: slug
		});
		return { created: !existing };
	});
}

/**
 * The card as stored, with each assumption's current status and all its evidence: what the card
 * said on import plus what Bedside studies have written back since.
 */
export async function exportCard(db: Queryable, slug: string): Promise<BenchmarkCard | undefined> {
	const row = await findCardBySlug(db, slug);
	if (!row) return undefined;
	const card = structuredClone(row.card) as BenchmarkCard;
	const assumptions = await assumptionsOfCards(db, [row.id]);
	const evidence = await evidenceFor(
		db,
		assumptions.map((a) => a.id)
	);
	for (const a of assumptions) {
		const section = card[a.type];
		const previous = section[a.key];
		const merged: CardAssumption = {
			question: a.question,
			answer: a.answer,
			holds_at_deployment: a.holdsAtDeployment
		};
		if (a.note !== null) merged.note = a.note;
		const written = evidence
			.filter((e) => e.assumptionId === a.id)
			.map((e) => ({
				study: e.studySlug,
				estimate: e.estimate,
				value: e.value,
				ci: e.ciLow !== null && e.ciHigh !== null ? ([e.ciLow, e.ciHigh] as [number, number]) : null
			}));
		const all = [...(previous?.evidence ?? []), ...written];
		if (all.length > 0) merged.evidence = all;
		section[a.key] = merged;
	}
	return card;
}

export function cardToYaml(card: BenchmarkCard): string {
	return stringify(card, { lineWidth: 100 });
}
