import { sql, type Kysely } from 'kysely';

// BenchmarkCards and their assumptions (shared/spec/benchmark-card.md), the link from a study to
// the assumptions it tests, and the evidence a study's analysis writes back.
const statements = [
	`create table benchmark_cards (
		id uuid primary key default gen_random_uuid(),
		slug text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
		benchmark_name text not null,
		citation text not null,
		version text,
		card jsonb not null,
		created_at timestamptz not null default now(),
		updated_at timestamptz not null default now()
	)`,
	`create table assumptions (
		id uuid primary key default gen_random_uuid(),
		card_id uuid not null references benchmark_cards (id) on delete cascade,
		key text not null check (key ~ '^[a-z][a-z0-9_]{0,62}$'),
		type text not null check (type in ('task', 'outcome')),
		question text not null,
		answer text not null default '',
		holds_at_deployment text not null default 'untested'
			check (holds_at_deployment in ('yes', 'partially', 'no', 'untested')),
		note text,
		unique (card_id, key)
	)`,
	`create table study_assumptions (
		study_id uuid not null references studies (id) on delete cascade,
		assumption_id uuid not null references assumptions (id) on delete restrict,
		primary key (study_id, assumption_id)
	)`,
	`create table assumption_evidence (
		id uuid primary key default gen_random_uuid(),
		assumption_id uuid not null references assumptions (id) on delete cascade,
		study_id uuid not null references studies (id) on delete cascade,
		estimate text not null,
		value double precision,
		ci_low double precision,
		ci_high double precision,
		analysis_sha256 text,
		created_at timestamptz not null default now()
	)`
];

export async function up(db: Kysely<unknown>): Promise<void> {
	for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
	for (const table of [
		'assumption_evidence',
		'study_assumptions',
		'assumptions',
		'benchmark_cards'
	]) {
		await sql.raw(`drop table if exists ${table} cascade`).execute(db);
	}
}
