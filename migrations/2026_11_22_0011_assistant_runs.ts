import { sql, type Kysely } from 'kysely';

// What the assistant arms need beyond the call log and the conversation:
// - protocol deviations (an assistant that failed a participant, a budget that paused a study),
//   append-only: they are reported, never tidied away;
// - benchmark runs (the LLM-alone condition), so a run can be resumed and listed;
// - several codings of the same conversation (one per coder), and an attempt number per
//   recommendation so the same scenario can be run many times;
// - the coding of the conditions a participant typed (the decision itself stays untouched).
const statements = [
	`create table protocol_deviations (
		id bigint generated always as identity primary key,
		study_id uuid not null references studies (id) on delete cascade,
		arm_id uuid references arms (id) on delete restrict,
		participant_id uuid references participants (id) on delete restrict,
		episode_id uuid references episodes (id) on delete restrict,
		kind text not null check (kind in ('assistant_failure', 'budget_reached', 'turn_cap', 'token_cap')),
		details jsonb not null default '{}',
		created_at timestamptz not null default now()
	)`,
	`create index protocol_deviations_study_idx on protocol_deviations (study_id, created_at)`,
	`create trigger protocol_deviations_append_only before update or delete on protocol_deviations
		for each row execute function bedside_refuse_change('a protocol deviation record is append-only')`,
	`create trigger protocol_deviations_no_truncate before truncate on protocol_deviations
		for each statement execute function bedside_refuse_change('a protocol deviation record is append-only')`,
	`create table benchmark_runs (
		id text primary key check (id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
		study_id uuid not null references studies (id) on delete cascade,
		arm_id uuid not null references arms (id) on delete restrict,
		protocol_version_id uuid not null references protocol_versions (id) on delete restrict,
		mode text not null check (mode in ('physician', 'patient-first-turn', 'simulated')),
		repeats integer not null check (repeats between 1 and 1000),
		settings jsonb not null default '{}',
		started_at timestamptz not null default now(),
		finished_at timestamptz
	)`,
	`alter table recommendations add column item_key text`,
	`alter table recommendations add column repeat integer check (repeat >= 1)`,
	`alter table recommendations add constraint recommendations_benchmark_item_check
		check (source <> 'benchmark' or (item_key is not null and repeat is not null))`,
	`create unique index recommendations_benchmark_item_idx
		on recommendations (run_id, scenario_id, item_key, repeat, coder) where source = 'benchmark'`,
	`create unique index recommendations_conversation_coder_idx
		on recommendations (episode_id, coder) where source = 'conversation'`,
	`create table decision_codings (
		decision_id uuid not null references decisions (id) on delete restrict,
		coder text not null check (coder = 'rule' or coder ~ '^(model|person):.+'),
		conditions_coded text[] not null default '{}',
		details jsonb not null default '{}',
		created_at timestamptz not null default now(),
		primary key (decision_id, coder)
	)`,
	`create trigger decision_codings_append_only before update or delete on decision_codings
		for each row execute function bedside_refuse_change('a coding is append-only; add another coder instead')`,
	`alter table assistant_calls add column run_id text references benchmark_runs (id) on delete restrict`,
	`create index assistant_calls_episode_idx on assistant_calls (episode_id) where episode_id is not null`
];

export async function up(db: Kysely<unknown>): Promise<void> {
	for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
	await sql`drop index if exists recommendations_conversation_coder_idx`.execute(db);
	await sql`drop index if exists recommendations_benchmark_item_idx`.execute(db);
	await sql`alter table assistant_calls drop column if exists run_id`.execute(db);
	await sql`alter table recommendations drop column if exists repeat`.execute(db);
	await sql`alter table recommendations drop column if exists item_key`.execute(db);
	await sql`drop table if exists decision_codings cascade`.execute(db);
	await sql`drop table if exists benchmark_runs cascade`.execute(db);
	await sql`drop table if exists protocol_deviations cascade`.execute(db);
}
