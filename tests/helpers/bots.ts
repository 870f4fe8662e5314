import type { Kysely } from 'kysely';
import type { BotRunSummary } from '../../src/bots/run-bots.ts';
import type { DB } from '../../src/lib/server/db/schema.ts';
import { externalIdHash } from '../../src/lib/server/participants/entry.service.ts';

// What the server stored, read back to compare with what the bots did.

export interface StoredParticipant {
	id: string;
	completionCode: string | null;
	externalIdHash: string | null;
	status: string;
	decisions: { episode: number; disposition: string }[];
}

export async function storedParticipants(
	db: Kysely<DB>,
	slug: string
): Promise<StoredParticipant[]> {
	const people = await db
		.selectFrom('participants')
		.innerJoin('studies', 'studies.id', 'participants.study_id')
		.where('studies.slug', '=', slug)
		.select([
			'participants.id',
			'participants.completion_code',
			'participants.external_id_hash',
			'participants.status'
		])
		.execute();
	const decisions = await db
		.selectFrom('decisions')
		.innerJoin('episodes', 'episodes.id', 'decisions.episode_id')
		.innerJoin('participants', 'participants.id', 'episodes.participant_id')
		.innerJoin('studies', 'studies.id', 'participants.study_id')
		.where('studies.slug', '=', slug)
		.select(['episodes.participant_id', 'episodes.episode', 'decisions.disposition'])
		.orderBy('episodes.episode')
		.execute();
	return people.map((p) => ({
		id: p.id,
		completionCode: p.completion_code,
		externalIdHash: p.external_id_hash,
		status: p.status,
		decisions: decisions
			.filter((d) => d.participant_id === p.id)
			.map((d) => ({ episode: d.episode, disposition: d.disposition }))
	}));
}

/**
 * Checks that every decision a bot made is stored exactly once, as made, and nothing else is:
 * each bot is matched to its participant by its panel id (hashed as the server hashes it), and
 * completed bots must hold their completion code. Returns the problems found (none is the pass).
 */
export async function compareWithBots(
	db: Kysely<DB>,
	slug: string,
	summary: BotRunSummary,
	stored: StoredParticipant[]
): Promise<string[]> {
	const problems: string[] = [];
	const byHash = new Map(stored.map((p) => [p.externalIdHash, p]));
	const key = (d: { episode: number; disposition: string }) => `${d.episode}:${d.disposition}`;
	for (const bot of summary.results) {
		const p = byHash.get(await externalIdHash(db, slug, bot.externalId));
		if (!p) {
			problems.push(`bot ${bot.index}: no participant`);
			continue;
		}
		const mine = bot.decisions.map(key).join(',');
		const theirs = p.decisions.map(key).join(',');
		if (mine !== theirs) problems.push(`bot ${bot.index}: made ${mine}, stored ${theirs}`);
		if (bot.outcome === 'completed' && p.completionCode !== bot.completionCode)
			problems.push(
				`bot ${bot.index}: shown code ${bot.completionCode}, stored ${p.completionCode}`
			);
	}
	for (const bot of summary.results.filter((r) => r.previousPerson !== null)) {
		// The person before the bot in a shared browser declined; the bot never continued them.
		const before = byHash.get(await externalIdHash(db, slug, bot.previousPerson!));
		if (before?.status !== 'declined' || before.decisions.length > 0)
			problems.push(
				`bot ${bot.index}: the browser's previous person is ${before?.status ?? 'missing'}`
			);
	}
	const made = summary.results.flatMap((r) => r.decisions).length;
	const kept = stored.flatMap((p) => p.decisions).length;
	if (made !== kept) problems.push(`the bots made ${made} decisions, the server stored ${kept}`);
	return problems;
}
