import type { Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { Queryable } from '../db/types.ts';

export type PanelAction = 'approve' | 'reject' | 'screen_out' | 'bonus';

export async function prolificStudyIdOf(db: Queryable, studyId: string): Promise<string | null> {
	const row = await db
		.selectFrom('panel_settings')
		.select('prolific_study_id')
		.where('study_id', '=', studyId)
		.executeTakeFirst();
	return row?.prolific_study_id ?? null;
}

export async function setProlificStudyId(
	db: Queryable,
	studyId: string,
	prolificStudyId: string,
	userId: string
): Promise<void> {
	await db
		.insertInto('panel_settings')
		.values({ study_id: studyId, prolific_study_id: prolificStudyId, updated_by: userId })
		.onConflict((oc) =>
			oc.column('study_id').doUpdateSet({
				prolific_study_id: prolificStudyId,
				updated_by: userId,
				updated_at: new Date()
			})
		)
		.execute();
}

/** What Bedside has done (or may have done) on the panel, by participant: action → state. */
export async function panelActionsOf(
	db: Queryable,
	studyId: string
): Promise<Map<string, Map<PanelAction, 'done' | 'unknown'>>> {
	const rows = await db
		.selectFrom('panel_actions')
		.select(['participant_id', 'action', 'state'])
		.where('study_id', '=', studyId)
		.execute();
	const map = new Map<string, Map<PanelAction, 'done' | 'unknown'>>();
	for (const r of rows) {
		const actions = map.get(r.participant_id) ?? new Map();
		actions.set(r.action as PanelAction, r.state as 'done' | 'unknown');
		map.set(r.participant_id, actions);
	}
	return map;
}

export async function recordPanelActions(
	db: Queryable | Transaction<DB>,
	rows: {
		studyId: string;
		participantId: string;
		action: PanelAction;
		state: 'done' | 'unknown';
		amount?: number;
		reference?: string;
		userId: string;
	}[]
): Promise<void> {
	if (rows.length === 0) return;
	await db
		.insertInto('panel_actions')
		.values(
			rows.map((r) => ({
				study_id: r.studyId,
				participant_id: r.participantId,
				action: r.action,
				state: r.state,
				amount: r.amount ?? null,
				panel_reference: r.reference ?? null,
				created_by: r.userId
			}))
		)
		.execute();
}
