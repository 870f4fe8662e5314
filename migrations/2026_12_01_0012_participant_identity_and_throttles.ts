import { sql, type Kysely } from 'kysely';

// - A resume code per participant (stored as a SHA-256 of the code, which is itself derived from a
//   secret): continuing on another device needs it, so knowing someone's panel id is not enough
//   to read their conversation or take over their session.
// - Test participants (researchers trying their own study): flagged, left out of counts, export
//   and analysis by default.
// - Rate events: counted attempts (resume codes, enrolments per address, password checks) kept in
//   the database so a limit holds across instances; each is recorded before it is checked, so
//   concurrent attempts cannot all pass the limit.
// - Sign-in attempts remember the device that made them (a keyed cookie set after a successful
//   sign-in), so failures from elsewhere never lock a known device out.
// - Answer-key commitments: the public registry shows a salted hash of the answer key (correct
//   dispositions, relevant conditions, red flags, attention-check answers) until the study closes.
const statements = [
	`alter table participants add column is_test boolean not null default false`,
	`alter table participants add column resume_code_hash text unique check (resume_code_hash ~ '^[0-9a-f]{64}$')`,
	`create index participants_study_test_idx on participants (study_id) where is_test`,
	// A test participant's arm, chosen by the researcher: never a slot of the real sequence, so
	// trying a study changes neither the allocation nor its audit.
	`create table test_allocations (
		participant_id uuid primary key references participants (id) on delete cascade,
		arm_id uuid not null references arms (id) on delete restrict,
		created_at timestamptz not null default now()
	)`,
	`create table rate_events (
		id bigint generated always as identity primary key,
		bucket text not null,
		subject text not null,
		succeeded boolean not null default false,
		at timestamptz not null default now()
	)`,
	`create index rate_events_subject_idx on rate_events (bucket, subject, at)`,
	`create index rate_events_at_idx on rate_events (at)`,
	`alter table login_attempts add column device text`,
	// A one-time password is for a first sign-in soon after it was handed over, not forever.
	`alter table users add column one_time_password_expires_at timestamptz`,
	// A reply longer than the arm allows is cut and recorded (max_tokens is a request, not a limit).
	`alter table protocol_deviations drop constraint protocol_deviations_kind_check`,
	`alter table protocol_deviations add constraint protocol_deviations_kind_check
		check (kind in ('assistant_failure', 'budget_reached', 'turn_cap', 'token_cap', 'reply_truncated'))`,
	`alter table preregistrations add column answer_key_sha256 text check (answer_key_sha256 ~ '^[0-9a-f]{64}$')`
];

export async function up(db: Kysely<unknown>): Promise<void> {
	for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
	await sql`alter table preregistrations drop column if exists answer_key_sha256`.execute(db);
	await sql`alter table login_attempts drop column if exists device`.execute(db);
	await sql`alter table users drop column if exists one_time_password_expires_at`.execute(db);
	await sql`alter table protocol_deviations drop constraint protocol_deviations_kind_check`.execute(
		db
	);
	await sql`alter table protocol_deviations add constraint protocol_deviations_kind_check
		check (kind in ('assistant_failure', 'budget_reached', 'turn_cap', 'token_cap'))`.execute(db);
	await sql`drop table if exists rate_events`.execute(db);
	await sql`drop table if exists test_allocations`.execute(db);
	await sql`drop index if exists participants_study_test_idx`.execute(db);
	await sql`alter table participants drop column if exists resume_code_hash`.execute(db);
	await sql`alter table participants drop column if exists is_test`.execute(db);
}
