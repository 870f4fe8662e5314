import { sql, type Kysely } from 'kysely';

// The decision a participant makes before the advice (the judge–advisor design): asked after the
// scenario and before the assistant (or, in control, before whatever they would normally use),
// when the protocol has `initial_decision`. Stored once, like the final decision.
const statements = [
	`create table initial_decisions (
		id uuid primary key default gen_random_uuid(),
		episode_id uuid not null unique references episodes (id) on delete restrict,
		disposition text not null,
		submitted_at timestamptz not null default now()
	)`,
	`create trigger initial_decisions_immutable before update or delete on initial_decisions
		for each row execute function bedside_refuse_change('a submitted initial decision is immutable')`,
	`create trigger initial_decisions_no_truncate before truncate on initial_decisions
		for each statement execute function bedside_refuse_change('a submitted initial decision is immutable')`
];

export async function up(db: Kysely<unknown>): Promise<void> {
	for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
	await sql`drop table initial_decisions`.execute(db);
}
