import { sql, type Kysely } from 'kysely';

// The common allocation in one statement: lock the participant (still at screening), take the
// next free slot of the stratum, write the slot's episodes, the covariates and the participant's
// new state, and answer with the participant. One round trip where the transaction took six
// (the socket write of each statement was the largest cost of an allocation). The service calls
// it for block randomization of a real participant; when there is no free slot it answers
// 'no_free_slot' having changed nothing, and a slot whose scenarios the participant's protocol
// lacks (an amendment) raises BS002: the service then runs the allocation as a transaction.
const up_ = `
create function bedside_allocate(
	p_participant uuid,
	p_study uuid,
	p_stratum text,
	p_screening jsonb,
	p_covariates jsonb,
	p_scenario_ids jsonb,
	p_at timestamptz
) returns table (outcome text, participant jsonb) language plpgsql as $$
declare
	v_step text;
	v_slot record;
	v_episode integer := 0;
	v_key text;
	v_scenario uuid;
	v_row jsonb;
begin
	select p.step into v_step from participants p where p.id = p_participant for update;
	if v_step is distinct from 'screening' then
		return query select 'not_at_screening'::text, null::jsonb;
		return;
	end if;
	update allocation_slots s set participant_id = p_participant, taken_at = p_at
	where s.id = (
		select f.id from allocation_slots f
		where f.study_id = p_study and f.stratum = p_stratum and f.participant_id is null
		order by f.position limit 1 for update skip locked
	)
	returning s.id, s.scenario_keys into v_slot;
	if not found then
		return query select 'no_free_slot'::text, null::jsonb;
		return;
	end if;
	foreach v_key in array v_slot.scenario_keys loop
		v_scenario := (p_scenario_ids ->> v_key)::uuid;
		if v_scenario is null then
			raise exception 'slot % plans scenario "%", which the participant''s protocol lacks', v_slot.id, v_key
				using errcode = 'BS002';
		end if;
		v_episode := v_episode + 1;
		insert into episodes (participant_id, episode, scenario_id, started_at)
		values (p_participant, v_episode, v_scenario, p_at);
	end loop;
	insert into measures (participant_id, episode_id, measure, kind, value_text, source, recorded_at)
	select p_participant, null, c.measure, 'covariate', c.value_text, 'questionnaire', p_at
	from jsonb_to_recordset(p_covariates) as c(measure text, value_text text)
	on conflict do nothing;
	update participants p set status = 'allocated', step = 'episode', current_episode = 1,
		stratum = p_stratum, screening = p_screening, allocated_at = p_at, updated_at = p_at
	where p.id = p_participant
	returning to_jsonb(p.*) into v_row;
	return query select 'allocated'::text, v_row;
end $$`;

export async function up(db: Kysely<unknown>): Promise<void> {
	await sql.raw(up_).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
	await sql`drop function bedside_allocate(uuid, uuid, text, jsonb, jsonb, jsonb, timestamptz)`.execute(
		db
	);
}
