import { sql, type Kysely } from 'kysely';

// What preregistration needs beyond the first cut:
// - the preregistered protocol hash on the preregistration row, so the running configuration can
//   be checked against it without trusting anything mutable;
// - the randomization seed, kept apart from everything participants or exports can reach: the
//   preregistration stores only its SHA-256; the seed is copied to studies.revealed_seed at close;
// - study status transitions enforced by the database: a study never goes back to draft, and a
//   closed study stays closed.
const statements = [
	`alter table preregistrations add column protocol_sha256 text not null check (protocol_sha256 ~ '^[0-9a-f]{64}$')`,
	`create table study_secrets (
		study_id uuid primary key references studies (id) on delete cascade,
		randomization_seed text not null check (length(randomization_seed) between 8 and 200),
		created_at timestamptz not null default now()
	)`,
	`create trigger study_secrets_immutable before update on study_secrets
		for each row execute function bedside_refuse_change('the randomization seed is fixed at preregistration')`,
	`create function bedside_study_status_guard() returns trigger language plpgsql as $$
	begin
		if new.status is distinct from old.status and not (
			(old.status = 'draft' and new.status = 'preregistered') or
			(old.status = 'preregistered' and new.status in ('recruiting', 'closed')) or
			(old.status = 'recruiting' and new.status in ('paused', 'closed')) or
			(old.status = 'paused' and new.status in ('recruiting', 'closed'))
		) then
			raise exception 'UPDATE on studies refused: status cannot go from % to %', old.status, new.status
				using errcode = 'BS001';
		end if;
		if new.slug is distinct from old.slug and old.status <> 'draft' then
			raise exception 'UPDATE on studies refused: the slug of a preregistered study is fixed' using errcode = 'BS001';
		end if;
		if new.revealed_seed is distinct from old.revealed_seed and (old.revealed_seed is not null or new.status <> 'closed') then
			raise exception 'UPDATE on studies refused: the seed is revealed once, when the study closes' using errcode = 'BS001';
		end if;
		return new;
	end
	$$`,
	`create trigger studies_status_guard before update on studies
		for each row execute function bedside_study_status_guard()`
];

export async function up(db: Kysely<unknown>): Promise<void> {
	for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
	await sql`drop trigger if exists studies_status_guard on studies`.execute(db);
	await sql`drop function if exists bedside_study_status_guard()`.execute(db);
	await sql`drop table if exists study_secrets`.execute(db);
	await sql`alter table preregistrations drop column if exists protocol_sha256`.execute(db);
}
