import seedrandom from 'seedrandom';
import { welch } from '../stats/association.ts';
import { clusterBootstrap } from '../stats/cluster.ts';
import { groupedLogisticRegression } from '../stats/logistic.ts';
import { chisqTwoProportions, newcombeHybrid, type Interval } from '../stats/proportions.ts';
import type { ProxyEffect } from '../result.ts';
import type { ProxyRow } from './proxies.ts';
import { clusterMethod, meanClusters, type ProxyOptions } from './proxy-clusters.ts';
import { pte } from './pte.ts';

// One arm against control, on the proxy and on the outcome side by side: discordance, Prentice's
// criteria and PTE (docs/analysis-estimands.md §3).

/** Logistic slope of T (and of Z when present) for Y ~ T [+ Z]; null when the fit is impossible. */
function slopes(rows: ProxyRow[], treated: string, withProxy: boolean) {
	const X = rows.map((r) =>
		withProxy ? [1, r.arm === treated ? 1 : 0, r.proxy] : [1, r.arm === treated ? 1 : 0]
	);
	try {
		const fit = groupedLogisticRegression(
			X,
			rows.map((r) => r.outcome)
		);
		return fit.converged ? fit : null;
	} catch {
		return null;
	}
}

const moves = (ci: Interval) => ci[0] > 0 || ci[1] < 0;

/** Y ~ Z by logistic regression (Prentice's third criterion), or null when it cannot be fitted. */
function outcomeOnProxy(rows: readonly ProxyRow[]) {
	try {
		return groupedLogisticRegression(
			rows.map((r) => [1, r.proxy]),
			rows.map((r) => r.outcome)
		);
	} catch {
		return null;
	}
}

/** The effects of one arm against control on the proxy and on the outcome, and PTE. */
export function proxyEffect(
	rows: readonly ProxyRow[],
	arm: string,
	control: string,
	options: ProxyOptions
): ProxyEffect | null {
	const pair = rows.filter((r) => r.arm === arm || r.arm === control);
	const a = pair.filter((r) => r.arm === arm);
	const c = pair.filter((r) => r.arm === control);
	if (a.length < 2 || c.length < 2) return null;
	const proxyDiff = welch(
		a.map((r) => r.proxy),
		c.map((r) => r.proxy)
	);
	const xa = a.filter((r) => r.outcome === 1).length;
	const xc = c.filter((r) => r.outcome === 1).length;
	const outcomeDiff = newcombeHybrid(xa, a.length, xc, c.length);
	const discordant =
		(moves(proxyDiff.ci) && !moves(outcomeDiff.ci)) ||
		(moves(proxyDiff.ci) &&
			moves(outcomeDiff.ci) &&
			Math.sign(proxyDiff.diff) !== Math.sign(outcomeDiff.diff));
	const cluster = options.clustered
		? clusterBootstrap(
				[meanClusters(a), meanClusters(c)],
				([t, u]) => t![0]! / t![1]! - u![0]! / u![1]!,
				options.bootstrap,
				seedrandom(`${options.seed}:proxy-diff:${options.proxy}:${options.outcome}:${arm}`)
			)
		: null;
	return {
		arm,
		n: pair.length,
		proxy_diff: {
			diff: proxyDiff.diff,
			ci: proxyDiff.ci,
			p_value: proxyDiff.pValue,
			method: 'welch',
			cluster_bootstrap: cluster
				? {
						ci: cluster.ci,
						clusters: [meanClusters(a).clusters.length, meanClusters(c).clusters.length],
						method: clusterMethod(options.bootstrap)
					}
				: null
		},
		outcome_diff: { diff: outcomeDiff.diff, ci: outcomeDiff.ci, method: 'newcombe-hybrid-score' },
		discordant,
		pte: pte([...pair], arm, options.bootstrap, options.seed, options.clustered),
		prentice: {
			treatment_affects_proxy: { p_value: proxyDiff.pValue },
			treatment_affects_outcome: {
				p_value: chisqTwoProportions(xa, a.length, xc, c.length).pValue
			},
			proxy_predicts_outcome: { p_value: outcomeOnProxy(pair)?.pValues[1] ?? null },
			outcome_independent_given_proxy: {
				p_value: slopes([...pair], arm, true)?.pValues[1] ?? null
			}
		}
	};
}
