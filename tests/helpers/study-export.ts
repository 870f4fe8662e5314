import type { Episode, StudyExport, StudyInfo } from '../../analysis/io/export-reader.ts';

// Exports built in memory for the analysis tests: the study's defaults (a control arm and one LLM
// arm, the default plan, a primary disposition outcome) with what a test changes, and episodes
// with every optional field empty unless given.

type Plan = StudyInfo['plan'];

export const DEFAULT_PLAN: Plan = {
	alpha: 0.05,
	test: 'chisq',
	bootstrap: 200,
	seed: 1,
	population: 'intention_to_treat',
	primary_model: 'difference',
	used_assistant_min_messages: 1,
	equivalence_margins: {}
};

export function studyInfo(
	change: Partial<Omit<StudyInfo, 'plan'>> & { plan?: Partial<Plan> } = {}
): StudyInfo {
	const { plan, ...rest } = change;
	return {
		slug: 'memory',
		title: 'memory',
		protocolSha256: null,
		preregistrationSha256: null,
		dispositionScale: ['low', 'high'],
		arms: [
			{ id: 'control', kind: 'control', label: 'control' },
			{ id: 'llm', kind: 'llm_assisted', label: 'llm' }
		],
		scenarios: [{ id: 's', correctDisposition: 'high' }],
		outcomes: [{ name: 'disposition_correct', role: 'primary', kind: 'clinical' }],
		planDefaults: [],
		enrolment: { declined: null },
		...rest,
		plan: { ...DEFAULT_PLAN, ...plan }
	};
}

/** An episode with the required fields; the optional ones empty unless given. */
export function episode(
	e: Pick<Episode, 'participant' | 'episode' | 'scenario' | 'disposition' | 'dispositionCorrect'> &
		Partial<Episode>
): Episode {
	return {
		conditionCorrect: null,
		submitted: true,
		userMessages: null,
		initialDisposition: null,
		initialDispositionCorrect: null,
		...e
	};
}

/** Participants who all completed, each in the arm the function gives. */
export function completedParticipants(ids: readonly string[], armOf: (id: string) => string) {
	return ids.map((id) => ({
		id,
		arm: armOf(id),
		stratum: '',
		status: 'completed' as const,
		exclusionReason: ''
	}));
}

export type { StudyExport };
