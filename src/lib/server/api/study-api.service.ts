import { runsOfStudy } from '../assistant/benchmark.repository.ts';
import type { Queryable } from '../db/types.ts';
import { followUpResponsesOf } from '../follow-ups/follow-ups.repository.ts';
import type { StudySummary } from '../studies/studies.repository.ts';
import { studyOverview } from '../studies/study-overview.service.ts';

// What the API says of a study, in the export's snake_case: its state and registrations, the
// monitoring counts, the benchmark runs. Thin over the services the pages use.

export async function studyStatus(db: Queryable, study: StudySummary) {
	const o = await studyOverview(db, study);
	const latest = o.versions[0];
	return {
		slug: study.slug,
		title: study.title,
		status: study.status,
		protocol: latest
			? { version: latest.version, sha256: latest.sha256, locked: latest.locked }
			: null,
		preregistrations: o.registrations.map((r) => ({
			kind: r.kind,
			protocol_version: r.protocolVersion,
			registered_at: r.registeredAt,
			sha256: r.sha256,
			protocol_sha256: r.protocolSha256
		})),
		deviations: o.deviationCount
	};
}

export async function studyMonitoring(db: Queryable, study: StudySummary) {
	const o = await studyOverview(db, study);
	const m = o.monitoring;
	const followUps = await followUpResponsesOf(db, study.id);
	return {
		slug: study.slug,
		status: study.status,
		consort: m
			? {
					consented: m.consort.consented,
					declined: m.consort.declined,
					screened_out: m.consort.ineligible,
					allocated: m.consort.allocated,
					in_progress: m.consort.inProgress,
					completed: m.consort.completed,
					withdrawn: m.consort.withdrawn
				}
			: null,
		arms: (m?.arms ?? []).map((a) => ({
			arm: a.arm,
			allocated: a.allocated,
			in_progress: a.inProgress,
			completed: a.completed,
			withdrawn: a.withdrawn
		})),
		strata: (m?.strata ?? []).map((s) => ({ stratum: s.stratum, by_arm: s.byArm })),
		median_minutes_to_complete: m?.medianMinutesToComplete ?? null,
		follow_ups_answered: Object.entries(
			followUps.reduce<Record<string, number>>((acc, r) => {
				acc[r.followUp] = (acc[r.followUp] ?? 0) + 1;
				return acc;
			}, {})
		).map(([follow_up, answered]) => ({ follow_up, answered }))
	};
}

export async function benchmarkRuns(db: Queryable, study: StudySummary) {
	return (await runsOfStudy(db, study.id)).map((r) => ({
		id: r.id,
		arm: r.armKey,
		mode: r.mode,
		repeats: r.repeats,
		started_at: r.startedAt.toISOString(),
		finished_at: r.finishedAt?.toISOString() ?? null,
		state: r.finishedAt ? 'finished' : 'unfinished',
		recommendations_stored: r.stored
	}));
}
