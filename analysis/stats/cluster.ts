import { pnorm } from './distributions.ts';
import type { LogisticFit } from './logistic.ts';
import { multinomialResampler, percentileInterval, type Uniform } from './resample.ts';
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
	const covariance = clusterSandwich(fit.covariance, scoreOf.values(), n);
	const standardErrors = covariance.map((row, i) => Math.sqrt(row[i]!));
	return {
		covariance,
		standardErrors,
		pValues: fit.coefficients.map((b, i) => 2 * pnorm(-Math.abs(b / standardErrors[i]!))),
		clusters: G
	};
}

/**
 * The cluster-robust sandwich of sandwich::vcovCL(type = "HC1"): B (Σ_g s_g s_gᵀ) B · G/(G − 1) ·
 * (n − 1)/(n − k), from the model covariance B and each cluster's summed scores s_g over n rows.
 */
export function clusterSandwich(
	B: readonly (readonly number[])[],
	clusterScores: Iterable<ArrayLike<number>>,
	n: number
): number[][] {
	const k = B.length;
	const meat = Array.from({ length: k }, () => new Array<number>(k).fill(0));
	let G = 0;
	for (const s of clusterScores) {
		G++;
		for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) meat[a]![b]! += s[a]! * s[b]!;
	}
	const adjust = (G / (G - 1)) * ((n - 1) / (n - k));
	const BM = B.map((row) =>
		Array.from({ length: k }, (_, b) => row.reduce((t, v, j) => t + v * meat[j]![b]!, 0))
	);
	return BM.map((row) =>
		Array.from({ length: k }, (_, b) => adjust * row.reduce((t, v, j) => t + v * B[j]![b]!, 0))
	);
}

/** A cluster's contribution to a proportion: its successes out of its episodes. */
export interface ClusterCount {
	successes: number;
	n: number;
}

/**
 * One cluster (participant): the sums of its episodes' contributions to a statistic, as sparse
 * (index, value) entries of a vector (for a proportion [successes, episodes]; for a rank statistic
 * the count of each cell).
 */
export type ClusterVector = readonly (readonly [number, number])[];

/** One independent sample of clusters (an arm), each summed into a vector of `width`. */
export interface ClusterSample {
	width: number;
	clusters: readonly ClusterVector[];
}

/**
 * A percentile cluster bootstrap (Davison & Hinkley 1997, §3.8): each sample's clusters resampled
 * with replacement, independently; the statistic is read from each sample's summed vector. Clusters
 * with the same vector are interchangeable, so when they repeat (a Likert proxy, 0/1 outcomes) a
 * resample is one multinomial draw of pattern counts; when most are distinct, clusters are drawn
 * one by one. Both give the same distribution; every uniform comes from the caller's generator.
 */
export function clusterBootstrap(
	samples: readonly ClusterSample[],
	statistic: (totals: readonly Float64Array[]) => number,
	resamples: number,
	random: Uniform
): { ci: Interval | null; estimable: number } {
	if (resamples < 1 || samples.some((s) => s.clusters.length < 2))
		return { ci: null, estimable: 0 };
	const prepared = samples.map((s) => {
		const index = new Map<string, number>();
		const patterns: ClusterVector[] = [];
		const counts: number[] = [];
		for (const c of s.clusters) {
			const key = c.map(([i, v]) => `${i}:${v}`).join(',');
			const at = index.get(key);
			if (at === undefined) {
				index.set(key, patterns.length);
				patterns.push(c);
				counts.push(1);
			} else counts[at]!++;
		}
		const direct = patterns.length * 8 > s.clusters.length;
		return {
			s,
			patterns,
			observed: Float64Array.from(counts),
			drawn: new Float64Array(patterns.length),
			direct,
			totals: new Float64Array(s.width)
		};
	});
	const draw = multinomialResampler(random);
	const draws: number[] = [];
	for (let b = 0; b < resamples; b++) {
		for (const p of prepared) {
			p.totals.fill(0);
			if (p.direct) {
				const G = p.s.clusters.length;
				for (let g = 0; g < G; g++)
					for (const [i, v] of p.s.clusters[Math.floor(random() * G)]!) p.totals[i]! += v;
			} else {
				draw(p.observed, p.drawn);
				p.patterns.forEach((pattern, k) => {
					const times = p.drawn[k]!;
					if (times > 0) for (const [i, v] of pattern) p.totals[i]! += times * v;
				});
			}
		}
		const value = statistic(prepared.map((p) => p.totals));
		if (Number.isFinite(value)) draws.push(value);
	}
	return { ci: percentileInterval(draws, resamples), estimable: draws.length };
}

/**
 * Difference of two pooled proportions with a percentile cluster-bootstrap interval: each arm's
 * clusters (participants) resampled with replacement, each resample's proportion the pooled
 * successes over the pooled episodes.
 */
export function clusterBootstrapDifference(
	treated: readonly ClusterCount[],
	control: readonly ClusterCount[],
	resamples: number,
	random: Uniform
): { diff: number; ci: Interval | null; clusters: [number, number]; method: string } {
	const vectors = (clusters: readonly ClusterCount[]): ClusterSample => ({
		width: 2,
		clusters: clusters.map((c) => [
			[0, c.successes],
			[1, c.n]
		])
	});
	const pooled = (xs: readonly ClusterCount[]) =>
		xs.reduce((s, c) => s + c.successes, 0) / xs.reduce((s, c) => s + c.n, 0);
	const { ci } = clusterBootstrap(
		[vectors(treated), vectors(control)],
		([t, c]) => t![0]! / t![1]! - c![0]! / c![1]!,
		resamples,
		random
	);
	return {
		diff: pooled(treated) - pooled(control),
		ci,
		clusters: [treated.length, control.length],
		method: `cluster-bootstrap-percentile (by participant, ${resamples} resamples)`
	};
}
