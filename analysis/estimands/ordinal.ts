import { pnorm, zCritical } from '../stats/distributions.ts';
import { designMatrix } from '../stats/logistic.ts';
import { cumulativeLogit, ordinalClusterCovariance } from '../stats/ordinal.ts';
import type { Interval, OrdinalModel } from '../result.ts';
import type { AnalysisContext } from './context.ts';

// The chosen disposition as an ordered response (docs/analysis-estimands.md §8.5): a
// proportional-odds model on arm + scenario, as ordinal::clm, reported as the common odds ratio of
// a more urgent decision in each arm against control, with a participant-cluster-robust interval
// beside the model one when participants have several episodes. Levels nobody chose are left out
// (their thresholds are not identified), which does not change the arm effects.

export function ordinalBlock(ctx: AnalysisContext): OrdinalModel | null {
	const control = ctx.control;
	if (!control) return null;
	const scale = ctx.data.study.dispositionScale;
	const rows = ctx.analysed.filter((e) => e.disposition !== null && scale.includes(e.disposition));
	const chosen = scale.filter((d) => rows.some((e) => e.disposition === d));
	const others = ctx.peopleArms.filter((a) => a.id !== control.id).map((a) => a.id);
	const arms = [control.id, ...others];
	if (chosen.length < 2 || others.length === 0) return null;
	const levelOf = new Map(chosen.map((d, i) => [d, i]));
	const scenarios = [...new Set(rows.map((e) => e.scenario))].sort();
	const X = designMatrix([
		{ values: rows.map((e) => ctx.armOf.get(e.participant)!), levels: arms },
		{ values: rows.map((e) => e.scenario), levels: scenarios }
	]).map((x) => x.slice(1)); // no intercept: the thresholds are the intercepts
	const y = rows.map((e) => levelOf.get(e.disposition!)!);
	// The fit needs only the count of each (arm, scenario, level) pattern: weighted rows give the
	// same estimates as one row per episode, at a cost that does not grow with the study.
	const patterns = new Map<string, { x: number[]; y: number; w: number }>();
	X.forEach((x, i) => {
		const key = `${x.join(',')}|${y[i]}`;
		const pattern = patterns.get(key);
		if (pattern) pattern.w++;
		else patterns.set(key, { x, y: y[i]!, w: 1 });
	});
	const grouped = [...patterns.values()];
	let fit;
	try {
		fit = cumulativeLogit(
			grouped.map((g) => g.x),
			grouped.map((g) => g.y),
			chosen.length,
			grouped.map((g) => g.w)
		);
	} catch {
		return null;
	}
	if (!fit.converged) return null;
	const robust = ctx.clustered
		? ordinalClusterCovariance(
				X,
				y,
				rows.map((e) => e.participant),
				fit
			)
		: null;
	const J = chosen.length;
	const z = zCritical();
	const wald = (b: number, se: number): Interval => [Math.exp(b - z * se), Math.exp(b + z * se)];
	const p = (b: number, se: number) => 2 * pnorm(-Math.abs(b / se));
	return {
		n: rows.length,
		levels: chosen,
		thresholds: fit.thresholds,
		effects: others.map((arm, i) => {
			const b = fit.coefficients[i]!;
			const se = fit.standardErrors[J - 1 + i]!;
			const rse = robust?.standardErrors[J - 1 + i];
			return {
				arm,
				vs: control.id,
				odds_ratio: Math.exp(b),
				ci: wald(b, se),
				p_value: p(b, se),
				cluster_robust:
					rse === undefined
						? null
						: {
								ci: wald(b, rse),
								p_value: p(b, rse),
								clusters: robust!.clusters,
								method: 'sandwich HC1 by participant (scores of the cumulative logit)'
							}
			};
		}),
		method: 'proportional-odds cumulative logit, arm + scenario (as ordinal::clm); Wald intervals'
	};
}
