import seedrandom from 'seedrandom';
import { clusterBootstrapDifference } from '../stats/cluster.ts';
import {
	chisqTwoProportions,
	equivalenceTwoProportions,
	fisherExact,
	holm,
	minExpected,
	newcombeHybrid,
	woolfOddsRatio
} from '../stats/proportions.ts';
import type { ArmSummary, Effect } from '../result.ts';
import { adjustedOddsRatios } from './adjusted.ts';
import {
	binaryValues,
	clusterCounts,
	outcomeOf,
	proportion,
	sum,
	type AnalysisContext,
	type BinaryOutcome
} from './context.ts';

// Accuracy per arm, and each arm against control (docs/analysis-estimands.md §1): Newcombe's
// hybrid interval, the plan's test, Woolf's odds ratio, the scenario-adjusted logistic model, and
// the participant-cluster bootstrap when participants have several episodes. Holm's adjustment runs
// over the primary family (every arm against control on every primary outcome) together, and over
// the arms within each secondary outcome.

export function armSummaries(ctx: AnalysisContext): ArmSummary[] {
	return ctx.peopleArms.map((a) => {
		const episodes = ctx.episodesOfArm(a.id);
		return {
			arm: a.id,
			n: episodes.length,
			outcomes: Object.fromEntries(
				ctx.outcomes.map((o) => [o, proportion(binaryValues(episodes, o))])
			)
		};
	});
}

type Unadjusted = Omit<Effect, 'p_holm' | 'family' | 'reading'>;

/** The plan's test, with Fisher's exact test where chisq meets an expected count below 5. */
function planTest(ctx: AnalysisContext, x1: number, n1: number, x2: number, n2: number) {
	const planned = ctx.data.study.plan.test;
	if (planned === 'fisher' || (planned === 'chisq' && minExpected(x1, n1, x2, n2) < 5))
		return { test: 'fisher' as const, p: fisherExact(x1, n1 - x1, x2, n2 - x2) };
	return {
		test: planned,
		p: chisqTwoProportions(x1, n1, x2, n2, planned === 'chisq_yates').pValue
	};
}

function outcomeEffects(ctx: AnalysisContext, outcome: BinaryOutcome): Unadjusted[] {
	const control = ctx.control!;
	const others = ctx.peopleArms.filter((a) => a.id !== control.id);
	const modelRows = ctx.analysed
		.filter((e) => outcomeOf(e, outcome) !== null && ctx.armOf.get(e.participant))
		.map((e) => ({
			arm: ctx.armOf.get(e.participant)!,
			scenario: e.scenario,
			outcome: outcomeOf(e, outcome)!,
			participant: e.participant
		}));
	const adjusted = adjustedOddsRatios(
		modelRows,
		[control.id, ...others.map((a) => a.id)],
		ctx.clustered
	);
	const controlEpisodes = ctx.episodesOfArm(control.id);
	const c = binaryValues(controlEpisodes, outcome);
	return others.flatMap((a): Unadjusted[] => {
		const t = binaryValues(ctx.episodesOfArm(a.id), outcome);
		const [x1, n1, x2, n2] = [sum(t), t.length, sum(c), c.length];
		if (n1 === 0 || n2 === 0) return [];
		const { diff, ci } = newcombeHybrid(x1, n1, x2, n2);
		const { test, p } = planTest(ctx, x1, n1, x2, n2);
		const or = woolfOddsRatio(x1, n1 - x1, x2, n2 - x2);
		const margin = ctx.data.study.plan.equivalence_margins[outcome];
		const equivalence =
			margin === undefined
				? null
				: equivalenceTwoProportions(x1, n1, x2, n2, margin, ctx.data.study.plan.alpha);
		return [
			{
				outcome,
				arm: a.id,
				vs: control.id,
				n: n1,
				n_control: n2,
				diff,
				ci,
				p_value: p,
				test,
				method: 'newcombe-hybrid-score',
				odds_ratio: { estimate: or.oddsRatio, ci: or.ci, method: 'woolf' },
				adjusted: adjusted.get(a.id) ?? null,
				equivalence: equivalence && {
					margin: equivalence.margin,
					p_lower: equivalence.p_lower,
					p_upper: equivalence.p_upper,
					p_tost: equivalence.p_tost,
					ci_90: equivalence.ci_90,
					equivalent: equivalence.equivalent,
					non_inferior: equivalence.non_inferior
				},
				cluster_bootstrap: ctx.clustered
					? clusterBootstrapDifference(
							clusterCounts(ctx.episodesOfArm(a.id), outcome),
							clusterCounts(controlEpisodes, outcome),
							ctx.bootstrap,
							seedrandom(`${ctx.seed}:cluster:${a.id}:${outcome}`)
						)
					: null
			}
		];
	});
}

/** Every arm against control on every outcome present, Holm-adjusted by family. */
export function armEffects(ctx: AnalysisContext): Effect[] {
	if (!ctx.control) return [];
	const primary = new Set(
		ctx.data.study.outcomes.filter((o) => o.role === 'primary').map((o) => o.name)
	);
	const rows = ctx.outcomes.flatMap((o) => outcomeEffects(ctx, o));
	const family = (r: Unadjusted) => (primary.has(r.outcome) ? 'primary' : 'secondary');
	const adjustedP = new Map<Unadjusted, number>();
	const adjustWithin = (members: Unadjusted[]) =>
		holm(members.map((r) => r.p_value)).forEach((p, i) => adjustedP.set(members[i]!, p));
	adjustWithin(rows.filter((r) => family(r) === 'primary'));
	for (const o of ctx.outcomes)
		adjustWithin(rows.filter((r) => r.outcome === o && family(r) === 'secondary'));
	return rows.map((r) => ({
		...r,
		family: family(r),
		p_holm: adjustedP.get(r)!,
		// Never "no difference": equivalent only when shown within the plan's margin.
		reading:
			r.ci[0] > 0
				? 'higher'
				: r.ci[1] < 0
					? 'lower'
					: r.equivalence?.equivalent
						? 'equivalent'
						: 'inconclusive'
	}));
}
