import { sql, type Kysely } from 'kysely';

// Studies, their protocol versions, preregistrations, arms, scenarios and per-study roles.
// Protocol content is never edited: every save is a new version. A version becomes locked when
// it is preregistered; a preregistration row is immutable and hash-chained to the one before.
const statements = [
	`create table studies (
		id uuid primary key default gen_random_uuid(),
		slug text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
		title text not null check (length(title) between 1 and 300),
		status text not null default 'draft'
			check (status in ('draft', 'preregistered', 'recruiting', 'paused', 'closed')),
		revealed_seed text,
		created_at timestamptz not null default now(),
		updated_at timestamptz not null default now()
	)`,
	`create table protocol_versions (
		id uuid primary key default gen_random_uuid(),
		study_id uuid not null references studies (id) on delete cascade,
		version integer not null check (version >= 1),
		protocol jsonb not null,
		sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
		previous_sha256 text check (previous_sha256 ~ '^[0-9a-f]{64}$'),
		reason text,
		created_by uuid references users (id) on delete set null,
		created_at timestamptz not null default now(),
		locked_at timestamptz,
		unique (study_id, version)
	)`,
	`create function bedside_protocol_version_guard() returns trigger language plpgsql as $$
	begin
		if tg_op = 'DELETE' then
			if old.locked_at is not null then
				raise exception 'DELETE on protocol_versions refused: version % is locked by a preregistration', old.version
					using errcode = 'BS001';
			end if;
			return old;
		end if;
		if old.locked_at is not null then
			raise exception 'UPDATE on protocol_versions refused: version % is locked by a preregistration; amend instead', old.version
				using errcode = 'BS001';
		end if;
		if (new.id, new.study_id, new.version, new.protocol, new.sha256, new.previous_sha256, new.reason, new.created_by, new.created_at)
			is distinct from
			(old.id, old.study_id, old.version, old.protocol, old.sha256, old.previous_sha256, old.reason, old.created_by, old.created_at) then
			raise exception 'UPDATE on protocol_versions refused: protocol content is immutable; save a new version instead'
				using errcode = 'BS001';
		end if;
		return new;
	end
	$$`,
	`create trigger protocol_versions_guard before update or delete on protocol_versions
		for each row execute function bedside_protocol_version_guard()`,
	`create table preregistrations (
		id uuid primary key default gen_random_uuid(),
		study_id uuid not null references studies (id) on delete restrict,
		protocol_version_id uuid not null unique references protocol_versions (id) on delete restrict,
		kind text not null check (kind in ('initial', 'amendment')),
		sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
		seed_sha256 text not null check (seed_sha256 ~ '^[0-9a-f]{64}$'),
		previous_id uuid references preregistrations (id) on delete restrict,
		previous_sha256 text check (previous_sha256 ~ '^[0-9a-f]{64}$'),
		reason text,
		created_by uuid references users (id) on delete set null,
		created_at timestamptz not null default now(),
		check ((kind = 'initial') = (previous_id is null)),
		check (kind = 'initial' or length(trim(coalesce(reason, ''))) > 0)
	)`,
	`create trigger preregistrations_immutable before update or delete on preregistrations
		for each row execute function bedside_refuse_change('a preregistration is immutable; amend with a new version')`,
	`create trigger preregistrations_no_truncate before truncate on preregistrations
		for each statement execute function bedside_refuse_change('a preregistration is immutable')`,
	`create table arms (
		id uuid primary key default gen_random_uuid(),
		study_id uuid not null references studies (id) on delete cascade,
		key text not null check (key ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
		kind text not null check (kind in ('control', 'llm_assisted', 'llm_alone', 'other')),
		label text not null,
		allocation_weight numeric not null default 1 check (allocation_weight > 0),
		assistant_config jsonb,
		unique (study_id, key),
		check (kind not in ('llm_assisted', 'llm_alone') or assistant_config is not null)
	)`,
	`create table scenarios (
		id uuid primary key default gen_random_uuid(),
		study_id uuid not null references studies (id) on delete cascade,
		key text not null check (key ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
		title text not null,
		participant_text text not null,
		benchmark_prompt text not null default '',
		correct_disposition text not null,
		relevant_conditions jsonb not null default '[]',
		red_flags jsonb not null default '[]',
		unique (study_id, key)
	)`,
	`create table memberships (
		user_id uuid not null references users (id) on delete cascade,
		study_id uuid not null references studies (id) on delete cascade,
		role text not null check (role in ('owner', 'researcher', 'analyst', 'viewer')),
		created_at timestamptz not null default now(),
		primary key (user_id, study_id)
	)`,
	`create index memberships_study_id_idx on memberships (study_id)`
];

export async function up(db: Kysely<unknown>): Promise<void> {
	for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
	for (const table of [
		'memberships',
		'scenarios',
		'arms',
		'preregistrations',
		'protocol_versions',
		'studies'
	]) {
		await sql.raw(`drop table if exists ${table} cascade`).execute(db);
	}
	await sql`drop function if exists bedside_protocol_version_guard()`.execute(db);
}
