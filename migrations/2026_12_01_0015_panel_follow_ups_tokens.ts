import { sql, type Kysely } from 'kysely';

// The study beyond one sitting: what Bedside did on the recruitment panel (each action recorded
// only once the panel accepted it), answers to follow-up waves (write-once, with the time since the
// main session), personal access tokens for the HTTP API (only their hash is stored), and the
// institutional identities (OpenID Connect issuer and subject) linked to accounts.
const statements = [
	`create table panel_settings (
		study_id uuid primary key references studies (id) on delete cascade,
		prolific_study_id text check (prolific_study_id ~ '^[A-Za-z0-9]{1,64}$'),
		updated_by uuid references users (id) on delete set null,
		updated_at timestamptz not null default now()
	)`,
	`create table panel_actions (
		id uuid primary key default gen_random_uuid(),
		study_id uuid not null references studies (id) on delete cascade,
		participant_id uuid not null references participants (id) on delete restrict,
		action text not null check (action in ('approve', 'reject', 'screen_out', 'bonus')),
		amount numeric(10, 2),
		-- done: the panel accepted it; unknown: the request left and no answer came back (a bonus
		-- payment is not idempotent, so Bedside does not retry it by itself).
		state text not null check (state in ('done', 'unknown')),
		panel_reference text,
		created_by uuid references users (id) on delete set null,
		created_at timestamptz not null default now(),
		unique (participant_id, action)
	)`,
	`create index panel_actions_study_idx on panel_actions (study_id)`,
	`create table follow_up_responses (
		participant_id uuid not null references participants (id) on delete restrict,
		follow_up text not null,
		answered_at timestamptz not null default now(),
		days_since_completion double precision not null check (days_since_completion >= 0),
		primary key (participant_id, follow_up)
	)`,
	`create trigger follow_up_responses_immutable before update or delete on follow_up_responses
		for each row execute function bedside_refuse_change('a follow-up answer is immutable')`,
	`create trigger follow_up_responses_no_truncate before truncate on follow_up_responses
		for each statement execute function bedside_refuse_change('a follow-up answer is immutable')`,
	`create table access_tokens (
		id uuid primary key default gen_random_uuid(),
		user_id uuid not null references users (id) on delete cascade,
		name text not null check (length(name) between 1 and 100),
		token_hash text not null unique check (token_hash ~ '^[0-9a-f]{64}$'),
		role text not null check (role in ('owner', 'researcher', 'analyst', 'viewer')),
		created_at timestamptz not null default now(),
		expires_at timestamptz not null,
		revoked_at timestamptz,
		last_used_at timestamptz,
		check (expires_at > created_at)
	)`,
	`create index access_tokens_user_idx on access_tokens (user_id)`,
	`create table access_token_studies (
		token_id uuid not null references access_tokens (id) on delete cascade,
		study_id uuid not null references studies (id) on delete cascade,
		primary key (token_id, study_id)
	)`,
	`create table user_identities (
		issuer text not null,
		subject text not null,
		user_id uuid not null references users (id) on delete cascade,
		linked_at timestamptz not null default now(),
		primary key (issuer, subject),
		unique (user_id, issuer)
	)`,
	`alter table audit_events drop constraint audit_events_actor_kind_check`,
	`alter table audit_events add constraint audit_events_actor_kind_check
		check (actor_kind in ('user', 'participant', 'system', 'cli', 'token'))`
];

export async function up(db: Kysely<unknown>): Promise<void> {
	for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
	await sql`alter table audit_events drop constraint audit_events_actor_kind_check`.execute(db);
	await sql`alter table audit_events add constraint audit_events_actor_kind_check
		check (actor_kind in ('user', 'participant', 'system', 'cli'))`.execute(db);
	for (const table of [
		'user_identities',
		'access_token_studies',
		'access_tokens',
		'follow_up_responses',
		'panel_actions',
		'panel_settings'
	])
		await sql.raw(`drop table ${table}`).execute(db);
}
