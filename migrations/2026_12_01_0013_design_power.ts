import { sql, type Kysely } from 'kysely';

// The power of the actual design (episodes per participant, their intraclass correlation, the
// arms' weights), computed when a protocol is preregistered and kept with the registration (and
// in its hash), so the registry shows what the study was powered for.
export async function up(db: Kysely<unknown>): Promise<void> {
	await sql`alter table preregistrations add column design_power jsonb`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
	await sql`alter table preregistrations drop column design_power`.execute(db);
}
