import { sql, type Kysely } from 'kysely';

// Participants, the pre-generated allocation sequence, episodes and per-episode telemetry.
// An allocation slot is written once when the sequence is generated and taken once; after that
// it never changes, so the stored sequence can be re-derived from the seed and checked.
const statements = [
	`create table participants (
		id uuid primary key default gen_random_uuid(),
		study_id uuid not null references studies (id) on delete cascade,
		protocol_version_id uuid references protocol_versions (id) on delete restrict,
		external_id_hash text check (external_id_hash ~ '^[0-9a-f]{64}$'),
		entry_params jsonb not null default '{}',
		status text not null default 'entered'
			check (status in ('entered', 'declined', 'ineligible', 'consented', 'allocated',
				'in_progress', 'completed', 'withdrawn', 'excluded')),
		step text not null default 'consent',
		stratum text,
		screening jsonb not null default '{}',
		consented_at timestamptz,
		allocated_at timestamptz,
		completed_at timestamptz,
		withdrawn_at timestamptz,
		exclusion_reason text,
		completion_code text,
		created_at timestamptz not null default now(),
		updated_at timestamptz not null default now(),
		unique (study_id, external_id_hash)
	)`,
	`create index participants_study_status_idx on participants (study_id, status)`,
	`create table allocation_slots (
		id bigint generated always as identity primary key,
		study_id uuid not null references studies (id) on delete cascade,
		stratum text not null default '',
		position integer not null check (position >= 1),
		arm_id uuid not null references arms (id) on delete restrict,
		scenario_keys text[] not null default '{}',
		block_number integer,
		block_size integer,
		method text not null,
		algorithm_version text not null,
		participant_id uuid unique references participants (id) on delete restrict,
		taken_at timestamptz,
		created_at timestamptz not null default now(),
		unique (study_id, stratum, position),
		check ((participant_id is null) = (taken_at is null))
	)`,
	`create index allocation_slots_free_idx on allocation_slots (study_id, stratum, position)
		where participant_id is null`,
	`create function bedside_allocation_slot_guard() returns trigger language plpgsql as $$
	begin
		if tg_op = 'DELETE' then
			if old.participant_id is not null then
				raise exception 'DELETE on allocation_slots refused: slot % of stratum "%" is taken', old.position, old.stratum
					using errcode = 'BS001';
			end if;
			return old;
		end if;
		if old.participant_id is not null then
			raise exception 'UPDATE on allocation_slots refused: slot % of stratum "%" is already taken', old.position, old.stratum
				using errcode = 'BS001';
		end if;
		if (new.id, new.study_id, new.stratum, new.position, new.arm_id, new.scenario_keys, new.block_number,
			new.block_size, new.method, new.algorithm_version, new.created_at)
			is distinct from
			(old.id, old.study_id, old.stratum, old.position, old.arm_id, old.scenario_keys, old.block_number,
			old.block_size, old.method, old.algorithm_version, old.created_at) then
			raise exception 'UPDATE on allocation_slots refused: the allocation sequence is immutable; only taking a slot is allowed'
				using errcode = 'BS001';
		end if;
		return new;
	end
	$$`,
	`create trigger allocation_slots_guard before update or delete on allocation_slots
		for each row execute function bedside_allocation_slot_guard()`,
	`create table episodes (
		id uuid primary key default gen_random_uuid(),
		participant_id uuid not null references participants (id) on delete cascade,
		episode integer not null check (episode >= 1),
		scenario_id uuid not null references scenarios (id) on delete restrict,
		step text not null default 'scenario',
		started_at timestamptz not null default now(),
		submitted_at timestamptz,
		unique (participant_id, episode)
	)`,
	`create table episode_events (
		id bigint generated always as identity primary key,
		participant_id uuid not null references participants (id) on delete cascade,
		episode_id uuid references episodes (id) on delete cascade,
		kind text not null,
		payload jsonb not null default '{}',
		client_time timestamptz,
		created_at timestamptz not null default now()
	)`,
	`create index episode_events_participant_idx on episode_events (participant_id, created_at)`
];

export async function up(db: Kysely<unknown>): Promise<void> {
	for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
	for (const table of ['episode_events', 'episodes', 'allocation_slots', 'participants']) {
		await sql.raw(`drop table if exists ${table} cascade`).execute(db);
	}
	await sql`drop function if exists bedside_allocation_slot_guard()`.execute(db);
}
