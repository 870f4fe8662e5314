import { clusterRobustLogistic } from '../stats/cluster.ts';
import { zCritical } from '../stats/distributions.ts';
import { designMatrix, groupedLogisticRegression } from '../stats/logistic.ts';
import type { Interval } from '../stats/proportions.ts';
import type { AdjustedOddsRatio } from '../result.ts';

// The adjusted effect of each arm: logistic regression of the outcome on arm indicators and
// scenario fixed effects (docs/analysis-estimands.md §1), with sandwich intervals clustered by
// participant beside the plain Wald ones when participants have several episodes.

/** Adjusted odds ratio of each arm vs the reference arm, from Y ~ arm + scenario (Wald interval). */
export function adjustedOddsRatios(
	rows: { arm: string; scenario: string; outcome: 0 | 1; participant?: string }[],
	armLevels: string[],
	clustered = false
) {
	const scenarios = [...new Set(rows.map((r) => r.scenario))].sort();
	try {
		const X = designMatrix([
			{ values: rows.map((r) => r.arm), levels: armLevels },
			{ values: rows.map((r) => r.scenario), levels: scenarios }
		]);
		const y = rows.map((r) => r.outcome);
		const fit = groupedLogisticRegression(X, y);
		// Beside the plain Wald intervals, sandwich ones clustered by participant when participants
		// have several episodes (the same coefficients; only the standard errors change).
		const robust = clustered
			? clusterRobustLogistic(
					X,
					y,
					rows.map((r) => r.participant ?? ''),
					fit
				)
			: null;
		const z = zCritical();
		const wald = (b: number, se: number) =>
			[Math.exp(b - z * se), Math.exp(b + z * se)] as Interval;
		return new Map<string, AdjustedOddsRatio>(
			armLevels.slice(1).map((arm, i) => {
				const b = fit.coefficients[i + 1]!;
				const se = fit.standardErrors[i + 1]!;
				return [
					arm,
					{
						odds_ratio: Math.exp(b),
						ci: wald(b, se),
						p_value: fit.pValues[i + 1]!,
						method: 'logistic-scenario-fixed-effects',
						...(robust && {
							cluster_robust: {
								ci: wald(b, robust.standardErrors[i + 1]!),
								p_value: robust.pValues[i + 1]!,
								clusters: robust.clusters,
								method: 'sandwich-vcovCL-HC1 (by participant)'
							}
						})
					}
				];
			})
		);
	} catch {
		return new Map();
	}
}
