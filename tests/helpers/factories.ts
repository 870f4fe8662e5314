import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB } from '../../src/lib/server/db/schema.ts';
import { sha256OfJson } from '../../src/lib/server/protocols/hash.ts';

// Small factories for the rows tests need. Each takes overrides and fills the rest with valid,
// unique values, so a test states only what it is about.

const unique = () => randomBytes(4).toString('hex');

export async function newStudy(db: Kysely<DB>, overrides: { slug?: string; title?: string } = {}) {
	return db
		.insertInto('studies')
		.values({
			slug: overrides.slug ?? `study-${unique()}`,
			title: overrides.title ?? 'A test study'
		})
		.returningAll()
		.executeTakeFirstOrThrow();
}

export async function newProtocolVersion(
	db: Kysely<DB>,
	studyId: string,
	overrides: { version?: number; protocol?: Record<string, unknown>; lockedAt?: Date | null } = {}
) {
	const protocol = overrides.protocol ?? { title: 'protocol', nonce: unique() };
	return db
		.insertInto('protocol_versions')
		.values({
			study_id: studyId,
			version: overrides.version ?? 1,
			protocol: JSON.stringify(protocol),
			sha256: sha256OfJson(protocol),
			locked_at: overrides.lockedAt ?? null
		})
		.returningAll()
		.executeTakeFirstOrThrow();
}

export async function newPreregistration(
	db: Kysely<DB>,
	studyId: string,
	protocolVersionId: string
) {
	return db
		.insertInto('preregistrations')
		.values({
			study_id: studyId,
			protocol_version_id: protocolVersionId,
			kind: 'initial',
			sha256: sha256OfJson({ protocolVersionId }),
			protocol_sha256: sha256OfJson({ protocol: protocolVersionId }),
			seed_sha256: sha256OfJson({ seed: unique() })
		})
		.returningAll()
		.executeTakeFirstOrThrow();
}

export async function newArm(
	db: Kysely<DB>,
	studyId: string,
	overrides: { key?: string; kind?: 'control' | 'llm_assisted' | 'llm_alone' | 'other' } = {}
) {
	const kind = overrides.kind ?? 'control';
	return db
		.insertInto('arms')
		.values({
			study_id: studyId,
			key: overrides.key ?? `arm-${unique()}`,
			kind,
			label: `${kind} arm`,
			assistant_config:
				kind === 'llm_assisted' || kind === 'llm_alone'
					? JSON.stringify({ provider: 'scripted' })
					: null
		})
		.returningAll()
		.executeTakeFirstOrThrow();
}

export async function newScenario(
	db: Kysely<DB>,
	studyId: string,
	overrides: { key?: string } = {}
) {
	return db
		.insertInto('scenarios')
		.values({
			study_id: studyId,
			key: overrides.key ?? `scenario-${unique()}`,
			title: 'Sore throat',
			participant_text: 'You have had a sore throat for two days.',
			correct_disposition: 'self_care'
		})
		.returningAll()
		.executeTakeFirstOrThrow();
}

export async function newParticipant(db: Kysely<DB>, studyId: string) {
	return db
		.insertInto('participants')
		.values({ study_id: studyId, status: 'consented', consented_at: new Date() })
		.returningAll()
		.executeTakeFirstOrThrow();
}

export async function newEpisode(
	db: Kysely<DB>,
	participantId: string,
	scenarioId: string,
	episode = 1
) {
	return db
		.insertInto('episodes')
		.values({ participant_id: participantId, scenario_id: scenarioId, episode })
		.returningAll()
		.executeTakeFirstOrThrow();
}

/** A study with one arm, one scenario, one participant and one episode: the usual starting point. */
export async function newEpisodeWorld(db: Kysely<DB>) {
	const study = await newStudy(db);
	const arm = await newArm(db, study.id);
	const scenario = await newScenario(db, study.id);
	const participant = await newParticipant(db, study.id);
	const episode = await newEpisode(db, participant.id, scenario.id);
	return { study, arm, scenario, participant, episode };
}
