import seedrandom from 'seedrandom';
import { clusterBootstrap } from '../stats/cluster.ts';
import { logisticRegression } from '../stats/logistic.ts';
import type { Interval } from '../stats/proportions.ts';
import { multinomialResampler, percentileInterval } from '../stats/resample.ts';
import type { ProxyRow } from './proxies.ts';

// Freedman's proportion of the treatment effect explained by a proxy (docs/analysis-estimands.md
// §3), with its bootstrap interval.

/**
 * The fits of PTE need only the counts of each (T, Z, Y) pattern: grouped, weighted logistic
 * regressions give the same estimates as row-level ones, and a bootstrap resample is a re-count.
 */
function pteModel(rows: readonly ProxyRow[], treated: string) {
	const keys = new Map<string, number>();
	const patterns: { t: number; z: number; y: number }[] = [];
	const cellOf = new Int32Array(rows.length);
	rows.forEach((r, i) => {
		const t = r.arm === treated ? 1 : 0;
		const key = `${t}|${r.proxy}|${r.outcome}`;
		if (!keys.has(key)) {
			keys.set(key, patterns.length);
			patterns.push({ t, z: r.proxy, y: r.outcome });
		}
		cellOf[i] = keys.get(key)!;
	});
	const slope = (counts: Float64Array, withProxy: boolean) => {
		const used = patterns.map((p, k) => ({ p, w: counts[k]! })).filter((c) => c.w > 0);
		try {
			const f = logisticRegression(
				used.map(({ p }) => (withProxy ? [1, p.t, p.z] : [1, p.t])),
				used.map(({ p }) => p.y),
				used.map(({ w }) => w)
			);
			return f.converged ? f.coefficients[1]! : null;
		} catch {
			return null;
		}
	};
	const point = (counts: Float64Array) => {
		const bT = slope(counts, false);
		const bTZ = slope(counts, true);
		return bT === null || bTZ === null || bT === 0 ? NaN : 1 - bTZ / bT;
	};
	const observed = new Float64Array(patterns.length);
	for (const c of cellOf) observed[c]!++;
	return { width: patterns.length, cellOf, observed, point };
}

/**
 * Freedman's proportion of treatment effect explained, PTE = 1 − β(T | Z) / β(T), from logistic
 * regressions Y ~ T and Y ~ T + Z (Freedman, Graubard & Schatzkin 1992), with a percentile
 * bootstrap interval (seeded): episodes resampled, or participants when they have several episodes.
 */
export function pte(
	rows: ProxyRow[],
	treated: string,
	bootstrap: number,
	seed: number,
	clustered = false
): { estimate: number | null; ci: Interval | null; method: string } {
	const model = pteModel(rows, treated);
	const estimate = model.point(model.observed);
	if (!Number.isFinite(estimate))
		return { estimate: null, ci: null, method: 'freedman-pte, not estimable' };
	if (clustered) {
		const byParticipant = new Map<string, Map<number, number>>();
		rows.forEach((r, i) => {
			const cells = byParticipant.get(r.participant) ?? new Map<number, number>();
			cells.set(model.cellOf[i]!, (cells.get(model.cellOf[i]!) ?? 0) + 1);
			byParticipant.set(r.participant, cells);
		});
		const { ci, estimable } = clusterBootstrap(
			[{ width: model.width, clusters: [...byParticipant.values()].map((m) => [...m]) }],
			([counts]) => model.point(counts!),
			bootstrap,
			seedrandom(`${seed}:pte-cluster:${treated}`)
		);
		return {
			estimate,
			ci,
			method: `freedman-pte, cluster-bootstrap-percentile by participant (${estimable} of ${bootstrap} resamples estimable)`
		};
	}
	const resample = multinomialResampler(seedrandom(`${seed}:pte:${treated}`));
	const draws: number[] = [];
	const counts = new Float64Array(model.width);
	for (let b = 0; b < bootstrap; b++) {
		resample(model.observed, counts);
		const v = model.point(counts);
		if (Number.isFinite(v)) draws.push(v);
	}
	return {
		estimate,
		ci: percentileInterval(draws, bootstrap),
		method: `freedman-pte, percentile-bootstrap (${draws.length} of ${bootstrap} resamples estimable)`
	};
}
