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

export interface NewArm {
	key: string;
	kind: 'control' | 'llm_assisted' | 'llm_alone' | 'other';
	label: string;
	allocationWeight: number;
	assistantConfig: Record<string, unknown> | null;
}

export interface NewScenario {
	key: string;
	title: string;
	participantText: string;
	benchmarkPrompt: string;
	correctDisposition: string;
	relevantConditions: { id: string; name: string; synonyms: string[] }[];
	redFlags: string[];
}

export async function countStudies(db: Queryable): Promise<number> {
	const row = await db
		.selectFrom('studies')
		.select((eb) => eb.fn.countAll<number>().as('n'))
		.executeTakeFirstOrThrow();
	return Number(row.n);
}

export async function listStudies(db: Queryable): Promise<StudySummary[]> {
	const rows = await db
		.selectFrom('studies')
		.select(['id', 'slug', 'title', 'status', 'created_at'])
		.orderBy('created_at')
		.execute();
	return rows.map((r) => ({
		id: r.id,
		slug: r.slug,
		title: r.title,
		status: r.status as StudyStatus,
		createdAt: r.created_at
	}));
}

/**
 * Serializes first-start seeding across instances: the second instance waits, then sees the
 * first one's study. Transaction-scoped, so it is released at commit or rollback.
 */
export async function lockSeeding(trx: Transaction<DB>): Promise<void> {
	await sql`select pg_advisory_xact_lock(4207220262)`.execute(trx);
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

export async function insertProtocolVersion(
	trx: Transaction<DB>,
	version: {
		studyId: string;
		version: number;
		protocol: unknown;
		sha256: string;
		previousSha256: string | null;
		reason: string | null;
	}
): Promise<string> {
	const row = await trx
		.insertInto('protocol_versions')
		.values({
			study_id: version.studyId,
			version: version.version,
			protocol: JSON.stringify(version.protocol),
			sha256: version.sha256,
			previous_sha256: version.previousSha256,
			reason: version.reason
		})
		.returning('id')
		.executeTakeFirstOrThrow();
	return row.id;
}

export async function insertArms(
	trx: Transaction<DB>,
	studyId: string,
	arms: NewArm[]
): Promise<void> {
	if (arms.length === 0) return;
	await trx
		.insertInto('arms')
		.values(
			arms.map((a) => ({
				study_id: studyId,
				key: a.key,
				kind: a.kind,
				label: a.label,
				allocation_weight: a.allocationWeight,
				assistant_config: a.assistantConfig === null ? null : JSON.stringify(a.assistantConfig)
			}))
		)
		.execute();
}

export async function insertScenarios(
	trx: Transaction<DB>,
	studyId: string,
	scenarios: NewScenario[]
): Promise<void> {
	if (scenarios.length === 0) return;
	await trx
		.insertInto('scenarios')
		.values(
			scenarios.map((s) => ({
				study_id: studyId,
				key: s.key,
				title: s.title,
				participant_text: s.participantText,
				benchmark_prompt: s.benchmarkPrompt,
				correct_disposition: s.correctDisposition,
				relevant_conditions: JSON.stringify(s.relevantConditions),
				red_flags: JSON.stringify(s.redFlags)
			}))
		)
		.execute();
}
