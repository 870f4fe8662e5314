import { createHash } from 'node:crypto';
import type { Queryable } from '../db/types.ts';

export interface BenchmarkRunRow {
	id: string;
	armId: string;
	armKey: string;
	mode: 'physician' | 'patient-first-turn' | 'simulated';
	repeats: number;
	settings: Record<string, unknown>;
	startedAt: Date;
	finishedAt: Date | null;
	stored: number;
}

export async function findRun(db: Queryable, runId: string): Promise<BenchmarkRunRow | undefined> {
	return (await runs(db, { runId }))[0];
}

export async function runsOfStudy(db: Queryable, studyId: string): Promise<BenchmarkRunRow[]> {
	return runs(db, { studyId });
}

async function runs(db: Queryable, by: { runId?: string; studyId?: string }) {
	let query = db
		.selectFrom('benchmark_runs as r')
		.innerJoin('arms', 'arms.id', 'r.arm_id')
		.select((eb) => [
			'r.id',
			'r.arm_id',
			'arms.key as arm_key',
			'r.mode',
			'r.repeats',
			'r.settings',
			'r.started_at',
			'r.finished_at',
			eb
				.selectFrom('recommendations')
				.select((e) => e.fn.countAll<number>().as('n'))
				.whereRef('recommendations.run_id', '=', 'r.id')
				.where('recommendations.coder', '=', 'rule')
				.as('stored')
		])
		.orderBy('r.started_at');
	if (by.runId) query = query.where('r.id', '=', by.runId);
	if (by.studyId) query = query.where('r.study_id', '=', by.studyId);
	return (await query.execute()).map((r) => ({
		id: r.id,
		armId: r.arm_id,
		armKey: r.arm_key,
		mode: r.mode as BenchmarkRunRow['mode'],
		repeats: r.repeats,
		settings: r.settings as Record<string, unknown>,
		startedAt: new Date(r.started_at),
		finishedAt: r.finished_at ? new Date(r.finished_at) : null,
		stored: Number(r.stored ?? 0)
	}));
}

export async function insertRun(
	db: Queryable,
	run: {
		id: string;
		studyId: string;
		armId: string;
		protocolVersionId: string;
		mode: string;
		repeats: number;
		settings: Record<string, unknown>;
	}
): Promise<void> {
	await db
		.insertInto('benchmark_runs')
		.values({
			id: run.id,
			study_id: run.studyId,
			arm_id: run.armId,
			protocol_version_id: run.protocolVersionId,
			mode: run.mode,
			repeats: run.repeats,
			settings: JSON.stringify(run.settings)
		})
		.execute();
}

export async function finishRun(db: Queryable, runId: string): Promise<void> {
	await db
		.updateTable('benchmark_runs')
		.set({ finished_at: new Date() })
		.where('id', '=', runId)
		.execute();
}

/** The first message each participant wrote in each scenario (LLM arms), deduplicated by text. */
export async function firstTurnsByScenario(
	db: Queryable,
	studyId: string
): Promise<Map<string, { key: string; text: string }[]>> {
	const rows = await db
		.selectFrom('messages')
		.innerJoin('episodes', 'episodes.id', 'messages.episode_id')
		.innerJoin('participants', 'participants.id', 'episodes.participant_id')
		.innerJoin('scenarios', 'scenarios.id', 'episodes.scenario_id')
		.select(['scenarios.key as scenario_key', 'messages.content'])
		.where('participants.study_id', '=', studyId)
		.where('participants.is_test', '=', false)
		.where('messages.role', '=', 'user')
		.where('messages.turn', '=', 1)
		.orderBy('messages.id')
		.execute();
	const byScenario = new Map<string, { key: string; text: string }[]>();
	for (const r of rows) {
		const list = byScenario.get(r.scenario_key) ?? [];
		const key = `first-turn:${createHash('sha256').update(r.content).digest('hex').slice(0, 16)}`;
		if (!list.some((i) => i.key === key)) list.push({ key, text: r.content });
		byScenario.set(r.scenario_key, list);
	}
	return byScenario;
}
