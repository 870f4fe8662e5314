import { sql, type Kysely } from 'kysely';

// What the participant journey needs:
// - a per-participant session (only the SHA-256 of the cookie token is stored);
// - a secret shared by all instances, for the keyed hash (HMAC) of panel ids;
// - the covariates a minimization allocation used, so it can be replayed and verified;
// - questionnaire answers written once: a double submit cannot add or change one.
const statements = [
	`alter table participants add column session_token_hash text unique check (session_token_hash ~ '^[0-9a-f]{64}$')`,
	`alter table participants add column current_episode integer not null default 0`,
	`create table instance_secrets (
		name text primary key,
		value text not null,
		created_at timestamptz not null default now()
	)`,
	`create trigger instance_secrets_immutable before update or delete on instance_secrets
		for each row execute function bedside_refuse_change('an instance secret is fixed once created')`,
	`alter table allocation_slots add column covariates jsonb`,
	`create or replace function bedside_allocation_slot_guard() returns trigger language plpgsql as $$
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
			new.block_size, new.method, new.algorithm_version, new.created_at, new.covariates)
			is distinct from
			(old.id, old.study_id, old.stratum, old.position, old.arm_id, old.scenario_keys, old.block_number,
			old.block_size, old.method, old.algorithm_version, old.created_at, old.covariates) then
			raise exception 'UPDATE on allocation_slots refused: the allocation sequence is immutable; only taking a slot is allowed'
				using errcode = 'BS001';
		end if;
		return new;
	end
	$$`,
	`create unique index measures_once_per_episode on measures (participant_id, episode_id, measure)
		where source = 'questionnaire' and episode_id is not null`,
	`create unique index measures_once_per_participant on measures (participant_id, measure)
		where source = 'questionnaire' and episode_id is null`,
	`create trigger measures_no_update before update on measures
		for each row execute function bedside_refuse_change('a recorded measure is immutable; add a new row instead')`
];

export async function up(db: Kysely<unknown>): Promise<void> {
	for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
	await sql`drop trigger if exists measures_no_update on measures`.execute(db);
	await sql`drop index if exists measures_once_per_participant`.execute(db);
	await sql`drop index if exists measures_once_per_episode`.execute(db);
	await sql`alter table allocation_slots drop column if exists covariates`.execute(db);
	await sql`drop table if exists instance_secrets`.execute(db);
	await sql`alter table participants drop column if exists current_episode`.execute(db);
	await sql`alter table participants drop column if exists session_token_hash`.execute(db);
}
