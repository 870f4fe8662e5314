import type { Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { Queryable } from '../db/types.ts';

export interface ImportedMeasure {
	participantId: string;
	episodeId: string | null;
	measure: string;
	kind: 'proxy' | 'clinical';
	value: number;
	at: Date;
}

/** Participant id → (episode number → episode id), for the study's participants. */
export async function participantEpisodes(
	db: Queryable,
	studyId: string
): Promise<Map<string, Map<number, string>>> {
	const rows = await db
		.selectFrom('participants as p')
		.leftJoin('episodes as e', 'e.participant_id', 'p.id')
		.select(['p.id as participant_id', 'e.episode', 'e.id as episode_id'])
		.where('p.study_id', '=', studyId)
		.where('p.is_test', '=', false)
		.execute();
	const map = new Map<string, Map<number, string>>();
	for (const r of rows) {
		const episodes = map.get(r.participant_id) ?? new Map<number, string>();
		if (r.episode !== null && r.episode_id !== null) episodes.set(r.episode, r.episode_id);
		map.set(r.participant_id, episodes);
	}
	return map;
}

/** `participant|episodeId|measure` keys of the given measures the study's participants already have. */
export async function existingMeasures(
	db: Queryable,
	studyId: string,
	names: string[]
): Promise<Set<string>> {
	if (names.length === 0) return new Set();
	const rows = await db
		.selectFrom('measures as m')
		.innerJoin('participants as p', 'p.id', 'm.participant_id')
		.select(['m.participant_id', 'm.episode_id', 'm.measure'])
		.where('p.study_id', '=', studyId)
		.where('m.measure', 'in', names)
		.execute();
	return new Set(rows.map((r) => `${r.participant_id}|${r.episode_id ?? ''}|${r.measure}`));
}

/** Inserts every row or none: a row that collides with a stored value aborts the transaction. */
export async function insertImportedMeasures(
	trx: Transaction<DB>,
	rows: ImportedMeasure[]
): Promise<void> {
	for (let i = 0; i < rows.length; i += 1000) {
		await trx
			.insertInto('measures')
			.values(
				rows.slice(i, i + 1000).map((m) => ({
					participant_id: m.participantId,
					episode_id: m.episodeId,
					measure: m.measure,
					kind: m.kind,
					value_numeric: m.value,
					source: 'import',
					recorded_at: m.at
				}))
			)
			.execute();
	}
}
