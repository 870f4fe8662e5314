import { sampleSizeTwoProportions } from '../stats/power.ts';
import type { ArmSummary, PowerBlock } from '../result.ts';
import type { AnalysisContext } from './context.ts';

// The sample size a follow-up study would need for the largest difference observed on the first
// outcome (docs/analysis-estimands.md §5); exploratory by construction.

const inside = (p: number | null): p is number => p !== null && p > 0 && p < 1;

export function powerBlock(ctx: AnalysisContext, arms: readonly ArmSummary[]): PowerBlock | null {
	const outcome = ctx.outcomes[0];
	const control = ctx.control;
	// Nothing to power from before any decision is in.
	if (!control || arms.length < 2 || !outcome) return null;
	const pOf = (arm: ArmSummary | undefined) => arm?.outcomes[outcome]?.p ?? null;
	const pc = pOf(arms.find((x) => x.arm === control.id));
	const others = arms
		.filter((x) => x.arm !== control.id)
		.map(pOf)
		.filter((p): p is number => p !== null);
	const best = others.length
		? others.reduce((m, p) => (Math.abs(p - (pc ?? 0)) > Math.abs(m - (pc ?? 0)) ? p : m))
		: null;
	const alpha = ctx.data.study.plan.alpha;
	return {
		alpha,
		power: 0.8,
		outcome,
		p_control: pc,
		p_arm: best,
		n_per_arm:
			inside(pc) && inside(best) && best !== pc
				? Math.ceil(sampleSizeTwoProportions(pc, best, 0.8, alpha))
				: null,
		method:
			'normal-approximation (R power.prop.test), for the largest observed difference; exploratory'
	};
}
