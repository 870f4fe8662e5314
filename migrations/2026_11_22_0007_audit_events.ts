import { sql, type Kysely } from 'kysely';

// Who did what, when, under which protocol version. Append-only like the conversation log.
const statements = [
	`create table audit_events (
		id bigint generated always as identity primary key,
		occurred_at timestamptz not null default now(),
		actor_kind text not null check (actor_kind in ('user', 'participant', 'system', 'cli')),
		actor_id text,
		study_id uuid references studies (id) on delete set null,
		protocol_version_id uuid references protocol_versions (id) on delete set null,
		action text not null,
		target text,
		details jsonb not null default '{}'
	)`,
	`create index audit_events_study_idx on audit_events (study_id, occurred_at)`,
	// study_id / protocol_version_id may only be cleared by ON DELETE SET NULL of a draft study;
	// everything else about an audit event is fixed.
	`create function bedside_audit_event_guard() returns trigger language plpgsql as $$
	begin
		if tg_op = 'DELETE' then
			raise exception 'DELETE on audit_events refused: the audit log is append-only' using errcode = 'BS001';
		end if;
		if (new.id, new.occurred_at, new.actor_kind, new.actor_id, new.action, new.target, new.details)
			is distinct from
			(old.id, old.occurred_at, old.actor_kind, old.actor_id, old.action, old.target, old.details)
			or (new.study_id is not null and new.study_id is distinct from old.study_id)
			or (new.protocol_version_id is not null and new.protocol_version_id is distinct from old.protocol_version_id) then
			raise exception 'UPDATE on audit_events refused: the audit log is append-only' using errcode = 'BS001';
		end if;
		return new;
	end
	$$`,
	`create trigger audit_events_guard before update or delete on audit_events
		for each row execute function bedside_audit_event_guard()`,
	`create trigger audit_events_no_truncate before truncate on audit_events
		for each statement execute function bedside_refuse_change('the audit log is append-only')`
];

export async function up(db: Kysely<unknown>): Promise<void> {
	for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
	await sql`drop table if exists audit_events cascade`.execute(db);
	await sql`drop function if exists bedside_audit_event_guard()`.execute(db);
}
