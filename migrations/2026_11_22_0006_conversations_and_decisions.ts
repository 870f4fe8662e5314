import { sql, type Kysely } from 'kysely';

// What happened in each episode: the assistant calls, the logged conversation (append-only),
// the participant's decision (immutable once submitted; corrections are new rows with a reason),
// proxy and clinical measures, and what the assistant recommended as coded by a rule, model or person.
const statements = [
	`create table assistant_calls (
		id bigint generated always as identity primary key,
		study_id uuid not null references studies (id) on delete cascade,
		arm_id uuid not null references arms (id) on delete restrict,
		episode_id uuid references episodes (id) on delete restrict,
		purpose text not null check (purpose in ('chat', 'benchmark', 'simulated_patient', 'grader')),
		provider text not null,
		request jsonb not null,
		model_returned text,
		system_fingerprint text,
		tokens_in integer,
		tokens_out integer,
		time_to_first_token_ms integer,
		latency_ms integer,
		finish_reason text,
		attempt integer not null default 1,
		error text,
		started_at timestamptz not null default now(),
		finished_at timestamptz
	)`,
	`create index assistant_calls_arm_idx on assistant_calls (arm_id, started_at)`,
	`create table messages (
		id bigint generated always as identity primary key,
		episode_id uuid not null references episodes (id) on delete restrict,
		turn integer not null check (turn >= 1),
		role text not null check (role in ('user', 'assistant')),
		content text not null,
		assistant_call_id bigint references assistant_calls (id) on delete restrict,
		created_at timestamptz not null default now(),
		unique (episode_id, turn, role)
	)`,
	`create trigger messages_append_only before update or delete on messages
		for each row execute function bedside_refuse_change('a logged message is append-only')`,
	`create trigger messages_no_truncate before truncate on messages
		for each statement execute function bedside_refuse_change('a logged message is append-only')`,
	`create table decisions (
		id uuid primary key default gen_random_uuid(),
		episode_id uuid not null unique references episodes (id) on delete restrict,
		disposition text not null,
		conditions_text text[] not null default '{}',
		submitted_at timestamptz not null default now()
	)`,
	`create trigger decisions_immutable before update or delete on decisions
		for each row execute function bedside_refuse_change('a submitted decision is immutable; record a correction instead')`,
	`create trigger decisions_no_truncate before truncate on decisions
		for each statement execute function bedside_refuse_change('a submitted decision is immutable')`,
	`create table decision_corrections (
		id uuid primary key default gen_random_uuid(),
		decision_id uuid not null references decisions (id) on delete restrict,
		field text not null,
		old_value jsonb,
		new_value jsonb,
		reason text not null check (length(trim(reason)) > 0),
		corrected_by uuid references users (id) on delete set null,
		created_at timestamptz not null default now()
	)`,
	`create trigger decision_corrections_immutable before update or delete on decision_corrections
		for each row execute function bedside_refuse_change('a correction record is immutable')`,
	`create table measures (
		id bigint generated always as identity primary key,
		participant_id uuid not null references participants (id) on delete cascade,
		episode_id uuid references episodes (id) on delete cascade,
		measure text not null,
		kind text not null check (kind in ('proxy', 'clinical', 'covariate')),
		value_numeric double precision,
		value_text text,
		source text not null default 'questionnaire',
		recorded_at timestamptz not null default now(),
		check (value_numeric is not null or value_text is not null)
	)`,
	`create index measures_participant_idx on measures (participant_id, measure)`,
	`create table recommendations (
		id bigint generated always as identity primary key,
		study_id uuid not null references studies (id) on delete cascade,
		source text not null check (source in ('conversation', 'benchmark')),
		episode_id uuid references episodes (id) on delete restrict,
		run_id text,
		mode text check (mode in ('physician', 'patient-first-turn', 'simulated')),
		arm_id uuid not null references arms (id) on delete restrict,
		scenario_id uuid not null references scenarios (id) on delete restrict,
		coder text not null check (coder = 'rule' or coder ~ '^(model|person):.+'),
		disposition text,
		conditions_coded text[] not null default '{}',
		details jsonb not null default '{}',
		created_at timestamptz not null default now(),
		check ((source = 'conversation') = (episode_id is not null)),
		check ((source = 'benchmark') = (run_id is not null))
	)`,
	`create index recommendations_study_idx on recommendations (study_id, source)`
];

export async function up(db: Kysely<unknown>): Promise<void> {
	for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
	for (const table of [
		'recommendations',
		'measures',
		'decision_corrections',
		'decisions',
		'messages',
		'assistant_calls'
	]) {
		await sql.raw(`drop table if exists ${table} cascade`).execute(db);
	}
}
