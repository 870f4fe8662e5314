import { designPower } from '../../../../analysis/stats/design-power.ts';
import type { StudyProtocol } from '../protocols/study-schema.ts';

// The power of the study as designed (docs/analysis-estimands.md §8.7), from its protocol: the
// sample-size target split by the arms' weights between control and the first LLM-assisted arm,
// the episodes per participant, and the expected intraclass correlation. Computed when the
// protocol is preregistered, with the analysis plan's seed, and kept with the registration.

export interface DesignPowerRecord {
	participants_control: number;
	participants_treatment: number;
	episodes_per_participant: number;
	icc: number;
	p_control: number;
	p_treatment: number;
	alpha: number;
	design_effect: number;
	analytic_power: number;
	/** Null when no simulation was asked for (the study page's quick look). */
	simulated_power: number | null;
	monte_carlo_se: number | null;
	simulations: number;
	seed: number;
	method: string;
}

/** Numbers rounded to 6 decimals: what is hashed must read back from jsonb the same. */
const r6 = (x: number) => Math.round(x * 1e6) / 1e6;

export function designPowerOf(
	protocol: StudyProtocol,
	simulations = 1000
): DesignPowerRecord | null {
	const power = protocol.sample_size.power;
	const control = protocol.arms.find((a) => a.kind === 'control');
	const treated = protocol.arms.find((a) => a.kind === 'llm_assisted');
	if (!power || !control || !treated) return null;
	const people = protocol.arms.filter((a) => a.kind !== 'llm_alone');
	const total = people.reduce((s, a) => s + a.weight, 0);
	const participantsControl = Math.max(
		2,
		Math.round((protocol.sample_size.target * control.weight) / total)
	);
	const ratio = treated.weight / control.weight;
	const icc = power.icc ?? 0;
	const seed = protocol.analysis_plan.seed;
	const result = designPower(
		{
			participantsControl,
			ratio,
			episodesPerParticipant: protocol.episodes_per_participant,
			icc,
			scenarios: [{ weight: 1, control: power.p_control, treatment: power.p_treatment }],
			alpha: power.alpha
		},
		simulations,
		seed
	);
	return {
		participants_control: participantsControl,
		participants_treatment: Math.round(ratio * participantsControl),
		episodes_per_participant: protocol.episodes_per_participant,
		icc,
		p_control: power.p_control,
		p_treatment: power.p_treatment,
		alpha: power.alpha,
		design_effect: r6(result.design_effect),
		analytic_power: r6(result.analytic.power),
		simulated_power: result.simulated ? r6(result.simulated.power) : null,
		monte_carlo_se: result.simulated ? r6(result.simulated.monte_carlo_se) : null,
		simulations,
		seed,
		method: `control against ${treated.id}: ${result.analytic.method}${result.simulated ? `; ${result.simulated.method}` : ''}`
	};
}
