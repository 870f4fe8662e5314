import { sql, type Kysely } from 'kysely';

// The export reads each episode's events (telemetry per episode); without an index on the episode
// every episode scanned the whole events table, which grows with every page a participant views.
export async function up(db: Kysely<unknown>): Promise<void> {
	await sql`create index episode_events_episode_idx on episode_events (episode_id, kind)`.execute(
		db
	);
}

export async function down(db: Kysely<unknown>): Promise<void> {
	await sql`drop index episode_events_episode_idx`.execute(db);
}
