import { sequentialDecomposition } from '../decompose.ts';
import { wilson } from '../stats/proportions.ts';
import { moverDifference } from '../stats/standardized.ts';
import type { Decomposition, DecompositionStage, Mediation } from '../result.ts';

// The staged decomposition derived from the study itself (docs/analysis-estimands.md §4), for the
// first LLM arm with all three stages on the primary outcome: the model alone (benchmark runs) →
// the model in conversation (relaxes interaction_type, a task assumption) → the people it advised
// (relaxes decision_mediation, an outcome assumption). Each drop carries an interval: the first
// joins two independent samples (MOVER of the standardized and the Wilson interval), the second is
// the paired mediation gap (Newcombe's paired interval).

export function studyDecomposition(
	mediation: readonly Mediation[],
	outcome: string | undefined
): Decomposition | null {
	const m = mediation.find(
		(x) =>
			x.outcome === outcome &&
			x.llm_alone !== null &&
			x.llm_in_conversation.p !== null &&
			x.users.p !== null
	);
	if (!m || !m.llm_alone) return null;
	const inConversation = m.llm_in_conversation.p!;
	const stages: DecompositionStage[] = [
		{ name: 'LLM alone (benchmark runs)', p: m.llm_alone.p },
		{
			name: 'LLM in conversation',
			p: inConversation,
			relaxes: 'interaction_type',
			type: 'task'
		},
		{ name: 'users with the LLM', p: m.users.p!, relaxes: 'decision_mediation', type: 'outcome' }
	];
	const { steps, taskTotal, outcomeTotal } = sequentialDecomposition(stages);
	const conversations = m.llm_in_conversation.n;
	const firstDrop = moverDifference(m.llm_alone, {
		p: inConversation,
		ci: wilson(Math.round(inConversation * conversations), conversations)
	});
	const intervals = [firstDrop.ci, m.gap?.ci ?? null];
	return {
		arm: m.arm,
		outcome: m.outcome,
		stages,
		steps: steps.map((s, i) => ({ ...s, ci: intervals[i] ?? null })),
		task_total: taskTotal,
		outcome_total: outcomeTotal,
		shapley: null,
		method:
			'sequential, derived from the study (benchmark runs → conversations → users); drops with mover and newcombe-paired intervals'
	};
}
