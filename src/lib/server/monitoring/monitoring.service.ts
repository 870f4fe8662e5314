import type { Queryable } from '../db/types.ts';
import {
	auditLogOf,
	enrollmentCounts,
	medianMinutesToComplete,
	type AuditRow,
	type EnrollmentRow
} from './monitoring.repository.ts';

// What a researcher watches while a study fills up: the CONSORT flow so far, enrollment per arm
// and per stratum, and how long completing takes.

const ALLOCATED = new Set(['allocated', 'in_progress', 'completed', 'withdrawn', 'excluded']);

export interface Monitoring {
	consort: {
		consented: number;
		declined: number;
		ineligible: number;
		allocated: number;
		inProgress: number;
		completed: number;
		withdrawn: number;
	};
	arms: {
		arm: string;
		allocated: number;
		inProgress: number;
		completed: number;
		withdrawn: number;
	}[];
	strata: { stratum: string; byArm: Record<string, number> }[];
	medianMinutesToComplete: number | null;
}

export async function monitoring(
	db: Queryable,
	studyId: string,
	armKeys: string[]
): Promise<Monitoring> {
	const rows = await enrollmentCounts(db, studyId);
	const count = (filter: (r: EnrollmentRow) => boolean) =>
		rows.filter(filter).reduce((n, r) => n + r.n, 0);
	const strata = [
		...new Set(rows.filter((r) => r.armKey && r.stratum !== null).map((r) => r.stratum!))
	].sort();
	return {
		consort: {
			consented: count((r) => r.status !== 'declined' && r.status !== 'entered'),
			declined: count((r) => r.status === 'declined'),
			ineligible: count((r) => r.status === 'ineligible'),
			allocated: count((r) => ALLOCATED.has(r.status)),
			inProgress: count((r) => r.status === 'allocated' || r.status === 'in_progress'),
			completed: count((r) => r.status === 'completed'),
			withdrawn: count((r) => r.status === 'withdrawn')
		},
		arms: armKeys.map((arm) => ({
			arm,
			allocated: count((r) => r.armKey === arm && ALLOCATED.has(r.status)),
			inProgress: count(
				(r) => r.armKey === arm && (r.status === 'allocated' || r.status === 'in_progress')
			),
			completed: count((r) => r.armKey === arm && r.status === 'completed'),
			withdrawn: count((r) => r.armKey === arm && r.status === 'withdrawn')
		})),
		strata: strata.map((stratum) => ({
			stratum,
			byArm: Object.fromEntries(
				armKeys.map((arm) => [arm, count((r) => r.armKey === arm && r.stratum === stratum)])
			)
		})),
		medianMinutesToComplete: await medianMinutesToComplete(db, studyId)
	};
}

/** A study's audit log, newest first: `limit` events before the event `before` (for paging). */
export async function auditLog(
	db: Queryable,
	studyId: string,
	limit: number,
	before?: number
): Promise<AuditRow[]> {
	return auditLogOf(db, studyId, limit, before);
}
