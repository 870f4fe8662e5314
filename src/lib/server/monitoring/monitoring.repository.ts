import { sql } from 'kysely';
import type { Queryable } from '../db/types.ts';

export interface EnrollmentRow {
	armKey: string | null;
	stratum: string | null;
	status: string;
	n: number;
}

/** Participants by arm, stratum and status, with the median minutes from consent to completion. */
export async function enrollmentCounts(db: Queryable, studyId: string): Promise<EnrollmentRow[]> {
	const rows = await db
		.selectFrom('participants as p')
		.leftJoin('allocation_slots as s', 's.participant_id', 'p.id')
		.leftJoin('arms as a', 'a.id', 's.arm_id')
		.select(['a.key as arm_key', 'p.stratum', 'p.status', sql<number>`count(*)::int`.as('n')])
		.where('p.study_id', '=', studyId)
		.where('p.is_test', '=', false)
		.groupBy(['a.key', 'p.stratum', 'p.status'])
		.execute();
	return rows.map((r) => ({
		armKey: r.arm_key,
		stratum: r.stratum,
		status: r.status,
		n: Number(r.n)
	}));
}

/** Median minutes from consent to completion over the study's completed participants. */
export async function medianMinutesToComplete(
	db: Queryable,
	studyId: string
): Promise<number | null> {
	const row = await db
		.selectFrom('participants')
		.select(
			sql<
				number | null
			>`percentile_cont(0.5) within group (order by extract(epoch from (completed_at - consented_at)) / 60)`.as(
				'median'
			)
		)
		.where('study_id', '=', studyId)
		.where('is_test', '=', false)
		.where('completed_at', 'is not', null)
		.executeTakeFirst();
	return row?.median === null || row?.median === undefined ? null : Number(row.median);
}

export interface AuditRow {
	id: number;
	at: Date;
	actor: string;
	action: string;
	target: string | null;
	details: Record<string, unknown>;
}

/** The study's audit log, newest first, with the acting user's email. */
export async function auditLogOf(
	db: Queryable,
	studyId: string,
	limit: number,
	before?: number
): Promise<AuditRow[]> {
	const rows = await db
		.selectFrom('audit_events as e')
		.leftJoin('users as u', (join) =>
			join.on(sql<boolean>`e.actor_kind = 'user' and u.id::text = e.actor_id`)
		)
		.select([
			'e.id',
			'e.occurred_at',
			'e.actor_kind',
			'e.actor_id',
			'u.email',
			'e.action',
			'e.target',
			'e.details'
		])
		.where('e.study_id', '=', studyId)
		.$if(before !== undefined, (q) => q.where('e.id', '<', before!))
		.orderBy('e.id', 'desc')
		.limit(limit)
		.execute();
	return rows.map((r) => ({
		id: Number(r.id),
		at: new Date(r.occurred_at),
		actor: r.email ?? `${r.actor_kind}${r.actor_id ? `:${r.actor_id}` : ''}`,
		action: r.action,
		target: r.target,
		details: (r.details ?? {}) as Record<string, unknown>
	}));
}
