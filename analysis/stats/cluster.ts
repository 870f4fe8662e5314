import { pnorm } from './distributions.ts';
import type { LogisticFit } from './logistic.ts';
import { multinomialResampler, type Uniform } from './resample.ts';
import type { Interval } from './proportions.ts';

// When a participant decides on several scenarios, their episodes are not independent: the plain
// standard errors are too small. Two cluster-robust variants, clustered by participant
// (docs/analysis-estimands.md, "Unit"): sandwich standard errors for the logistic model and a
// cluster (participant) bootstrap for differences in proportions.

/**
 * Cluster-robust covariance of a logistic fit, as R's `sandwich::vcovCL(fit, cluster, type =
 * "HC1")` (default cadjust = TRUE): B · (Σ_g s_g s_gᵀ) · B · G/(G−1) · (n−1)/(n−k), where B is
 * the model-based covariance (X'WX)⁻¹, s_g the sum of the score contributions x_i (y_i − μ_i) of
 * cluster g, G the number of clusters, n the rows and k the coefficients (Zeileis, Köll & Graham
 * 2020).
 */
export function clusterRobustLogistic(
	X: readonly (readonly number[])[],
	y: readonly number[],
	clusters: readonly string[],
	fit: Pick<LogisticFit, 'coefficients' | 'covariance'>
): { covariance: number[][]; standardErrors: number[]; pValues: number[]; clusters: number } {
	const k = fit.coefficients.length;
	const n = X.length;
	const scoreOf = new Map<string, Float64Array>();
	for (let i = 0; i < n; i++) {
		const x = X[i]!;
		let eta = 0;
		for (let j = 0; j < k; j++) eta += x[j]! * fit.coefficients[j]!;
		const residual = y[i]! - 1 / (1 + Math.exp(-eta));
		let s = scoreOf.get(clusters[i]!);
		if (!s) scoreOf.set(clusters[i]!, (s = new Float64Array(k)));
		for (let j = 0; j < k; j++) s[j]! += x[j]! * residual;
	}
	const G = scoreOf.size;
	const meat = Array.from({ length: k }, () => new Array<number>(k).fill(0));
	for (const s of scoreOf.values())
		for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) meat[a]![b]! += s[a]! * s[b]!;
	const adjust = (G / (G - 1)) * ((n - 1) / (n - k));
	const B = fit.covariance;
	const BM = B.map((row) =>
		Array.from({ length: k }, (_, b) => row.reduce((t, v, j) => t + v * meat[j]![b]!, 0))
	);
	const covariance = BM.map((row) =>
		Array.from({ length: k }, (_, b) => adjust * row.reduce((t, v, j) => t + v * B[j]![b]!, 0))
	);
	const standardErrors = covariance.map((row, i) => Math.sqrt(row[i]!));
	return {
		covariance,
		standardErrors,
		pValues: fit.coefficients.map((b, i) => 2 * pnorm(-Math.abs(b / standardErrors[i]!))),
		clusters: G
	};
}

/** A cluster's contribution to a proportion: its successes out of its episodes. */
export interface ClusterCount {
	successes: number;
	n: number;
}

/**
 * Difference of two pooled proportions with a percentile cluster-bootstrap interval: each arm's
 * clusters (participants) resampled with replacement, each resample's proportion the pooled
 * successes over the pooled episodes (Davison & Hinkley 1997, §3.8). Clusters with the same
 * (successes, n) are interchangeable, so a resample is one multinomial draw of pattern counts.
 */
export function clusterBootstrapDifference(
	treated: readonly ClusterCount[],
	control: readonly ClusterCount[],
	resamples: number,
	random: Uniform
): { diff: number; ci: Interval | null; clusters: [number, number]; method: string } {
	const patterns = (clusters: readonly ClusterCount[]) => {
		const index = new Map<string, number>();
		const kinds: ClusterCount[] = [];
		const counts: number[] = [];
		for (const c of clusters) {
			const key = `${c.successes}/${c.n}`;
			const at = index.get(key);
			if (at === undefined) {
				index.set(key, kinds.length);
				kinds.push(c);
				counts.push(1);
			} else counts[at]!++;
		}
		return { kinds, observed: Float64Array.from(counts), drawn: new Float64Array(kinds.length) };
	};
	const pooled = (kinds: ClusterCount[], counts: Float64Array) => {
		let x = 0;
		let m = 0;
		kinds.forEach((c, i) => {
			x += counts[i]! * c.successes;
			m += counts[i]! * c.n;
		});
		return m > 0 ? x / m : NaN;
	};
	const t = patterns(treated);
	const c = patterns(control);
	const diff = pooled(t.kinds, t.observed) - pooled(c.kinds, c.observed);
	const method = `cluster-bootstrap-percentile (by participant, ${resamples} resamples)`;
	if (treated.length < 2 || control.length < 2 || resamples < 1)
		return { diff, ci: null, clusters: [treated.length, control.length], method };
	const draw = multinomialResampler(random);
	const draws = new Float64Array(resamples);
	for (let b = 0; b < resamples; b++) {
		draw(t.observed, t.drawn);
		draw(c.observed, c.drawn);
		draws[b] = pooled(t.kinds, t.drawn) - pooled(c.kinds, c.drawn);
	}
	draws.sort();
	return {
		diff,
		ci: [draws[Math.floor(0.025 * (resamples - 1))]!, draws[Math.ceil(0.975 * (resamples - 1))]!],
		clusters: [treated.length, control.length],
		method
	};
}
