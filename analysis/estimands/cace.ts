import { pnorm, zCritical } from '../stats/distributions.ts';
import { twoStageLeastSquares } from '../stats/instrumental.ts';
import type { Cace, Interval } from '../result.ts';
import { outcomeOf, type AnalysisContext, type BinaryOutcome } from './context.ts';

// The effect of actually using the assistant (docs/analysis-estimands.md §8.2): D = 1 when the
// participant sent at least the plan's number of messages in the episode, Z = assigned to the
// LLM arm (control participants have no assistant: D = 0). The complier average causal effect is
// ITT(Y)/ITT(D), by two-stage least squares Y ~ D | Z over the arm's and control's episodes,
// with participant-cluster-robust standard errors (as AER::ivreg + sandwich::vcovCL, HC1).

export function caceBlock(ctx: AnalysisContext, arm: string, outcome: BinaryOutcome): Cace | null {
	const control = ctx.control;
	if (!control) return null;
	const minimum = ctx.data.study.plan.used_assistant_min_messages;
	const rows = [...ctx.episodesOfArm(arm), ...ctx.episodesOfArm(control.id)].filter(
		(e) => outcomeOf(e, outcome) !== null && e.userMessages !== null
	);
	const assigned = rows.map((e) => (ctx.armOf.get(e.participant) === arm ? 1 : 0));
	const used = rows.map((e, i) => (assigned[i] === 1 && e.userMessages! >= minimum ? 1 : 0));
	const inArm = assigned.filter((z) => z === 1).length;
	if (inArm === 0 || inArm === rows.length) return null;
	const usedShare = used.reduce<number>((s, d) => s + d, 0) / inArm;
	if (usedShare === 0) return null;
	const y = rows.map((e) => outcomeOf(e, outcome)!);
	const fit = twoStageLeastSquares(
		y,
		used,
		assigned,
		rows.map((e) => e.participant)
	);
	if (!fit) return null;
	const [, effect] = fit.coefficients;
	const se = fit.standardErrors[1];
	const z = zCritical();
	const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
	const itt =
		mean(y.filter((_, i) => assigned[i] === 1)) - mean(y.filter((_, i) => assigned[i] === 0));
	return {
		arm,
		vs: control.id,
		outcome,
		n: rows.length,
		clusters: fit.clusters,
		used_share: usedShare,
		definition: `sent at least ${minimum} message${minimum === 1 ? '' : 's'} in the episode`,
		itt,
		cace: {
			estimate: effect,
			se,
			ci: [effect - z * se, effect + z * se] as Interval,
			p_value: 2 * pnorm(-Math.abs(effect / se))
		},
		method:
			'two-stage least squares Y ~ D | Z (Wald ratio), participant-cluster-robust SE (as AER::ivreg with sandwich::vcovCL HC1)'
	};
}
