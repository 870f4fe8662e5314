import { pt, qt, zCritical } from './distributions.ts';
import type { Interval } from './proportions.ts';

/** Average ranks (ties get the mean of their positions), as R's `rank`. */
export function ranks(values: number[]): number[] {
	const order = values.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v);
	const out = new Array<number>(values.length);
	for (let start = 0; start < order.length;) {
		let end = start;
		while (end + 1 < order.length && order[end + 1]!.v === order[start]!.v) end++;
		for (let j = start; j <= end; j++) out[order[j]!.i] = (start + end) / 2 + 1;
		start = end + 1;
	}
	return out;
}

function pearson(x: number[], y: number[]): number {
	const n = x.length;
	const mx = x.reduce((s, v) => s + v, 0) / n;
	const my = y.reduce((s, v) => s + v, 0) / n;
	let sxy = 0,
		sxx = 0,
		syy = 0;
	for (let i = 0; i < n; i++) {
		sxy += (x[i]! - mx) * (y[i]! - my);
		sxx += (x[i]! - mx) ** 2;
		syy += (y[i]! - my) ** 2;
	}
	return sxy / Math.sqrt(sxx * syy);
}

/**
 * Spearman's rho (as R's `cor.test(method = "spearman")$estimate`), with a Fisher-z interval whose
 * variance is Bonett and Wright's (2000, Psychometrika 65:23) (1 + rho²/2)/(n − 3): the plain
 * 1/(n − 3) is Pearson's and is too narrow for rank correlations. The p-value is the
 * t-approximation R uses when there are ties.
 */
export function spearman(
	x: number[],
	y: number[],
	confidence = 0.95
): { rho: number; ci: Interval; pValue: number; n: number } {
	const n = x.length;
	const rho = pearson(ranks(x), ranks(y));
	const z = Math.atanh(rho);
	const half = zCritical(confidence) * Math.sqrt((1 + (rho * rho) / 2) / (n - 3));
	const t = rho * Math.sqrt((n - 2) / (1 - rho * rho));
	return {
		rho,
		ci: [Math.tanh(z - half), Math.tanh(z + half)],
		pValue: 2 * pt(-Math.abs(t), n - 2),
		n
	};
}

/**
 * AUC of a score for a binary outcome (Mann–Whitney, ties counted half) with DeLong's standard
 * error (DeLong, DeLong & Clarke-Pearson 1988) and a Wald interval clipped to [0, 1].
 */
/** The number of entries of a sorted array below x. */
function lowerBound(sorted: Float64Array, x: number): number {
	let lo = 0;
	let hi = sorted.length;
	while (lo < hi) {
		const mid = (lo + hi) >>> 1;
		if (sorted[mid]! < x) lo = mid + 1;
		else hi = mid;
	}
	return lo;
}

/** The number of entries of a sorted array at or below x. */
function upperBound(sorted: Float64Array, x: number): number {
	let lo = 0;
	let hi = sorted.length;
	while (lo < hi) {
		const mid = (lo + hi) >>> 1;
		if (sorted[mid]! <= x) lo = mid + 1;
		else hi = mid;
	}
	return lo;
}

export function aucDeLong(
	score: number[],
	outcome: (0 | 1)[],
	confidence = 0.95
): { estimate: number; se: number; ci: Interval } {
	const pos = score.filter((_, i) => outcome[i] === 1);
	const neg = score.filter((_, i) => outcome[i] === 0);
	// Placement values by binary search in the sorted other group (ties count a half): the same
	// numbers as comparing every pair, in O(n log n) rather than O(n_pos · n_neg).
	const sortedPos = Float64Array.from(pos).sort();
	const sortedNeg = Float64Array.from(neg).sort();
	const v10 = pos.map((p) => {
		const below = lowerBound(sortedNeg, p);
		return (below + 0.5 * (upperBound(sortedNeg, p) - below)) / neg.length;
	});
	const v01 = neg.map((q) => {
		const below = lowerBound(sortedPos, q);
		const notAbove = upperBound(sortedPos, q);
		return (pos.length - notAbove + 0.5 * (notAbove - below)) / pos.length;
	});
	const estimate = v10.reduce((s, v) => s + v, 0) / pos.length;
	const variance = (xs: number[]) => {
		const m = xs.reduce((s, v) => s + v, 0) / xs.length;
		return xs.reduce((s, v) => s + (v - m) ** 2, 0) / (xs.length - 1);
	};
	const se = Math.sqrt(variance(v10) / pos.length + variance(v01) / neg.length);
	const z = zCritical(confidence);
	return { estimate, se, ci: [Math.max(0, estimate - z * se), Math.min(1, estimate + z * se)] };
}

/** Difference in means a − b with Welch's interval and p-value, as R's `t.test(a, b)`. */
export function welch(
	a: number[],
	b: number[],
	confidence = 0.95
): { diff: number; ci: Interval; pValue: number; df: number } {
	const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;
	const variance = (xs: number[], m: number) =>
		xs.reduce((s, v) => s + (v - m) ** 2, 0) / (xs.length - 1);
	const ma = mean(a),
		mb = mean(b);
	const va = variance(a, ma) / a.length,
		vb = variance(b, mb) / b.length;
	const se = Math.sqrt(va + vb);
	const df = (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1));
	const diff = ma - mb;
	const q = qt(1 - (1 - confidence) / 2, df);
	return { diff, ci: [diff - q * se, diff + q * se], pValue: 2 * pt(-Math.abs(diff / se), df), df };
}

/**
 * A numeric score against a binary outcome, as counts: cell 2j + y holds the episodes with the
 * j-th smallest distinct score and outcome y. The rank statistics below read only these counts, so
 * a bootstrap resample is a re-count (no re-sorting).
 */
export type ScoreCells = Float64Array;

/** Spearman's rho of a score and a 0/1 outcome from their cell counts (average ranks for ties). */
export function spearmanFromCells(cells: ScoreCells): number {
	const levels = cells.length / 2;
	let n0 = 0;
	let n1 = 0;
	for (let j = 0; j < levels; j++) {
		n0 += cells[2 * j]!;
		n1 += cells[2 * j + 1]!;
	}
	const n = n0 + n1;
	if (n0 === 0 || n1 === 0) return NaN;
	// Ranks of y: (n0 + 1)/2 for 0s, n0 + (n1 + 1)/2 for 1s; the mean rank is (n + 1)/2.
	const mean = (n + 1) / 2;
	const ry0 = (n0 + 1) / 2 - mean;
	const ry1 = n0 + (n1 + 1) / 2 - mean;
	let below = 0;
	let sxy = 0;
	let sxx = 0;
	for (let j = 0; j < levels; j++) {
		const c0 = cells[2 * j]!;
		const c1 = cells[2 * j + 1]!;
		const m = c0 + c1;
		if (m === 0) continue;
		const rx = below + (m + 1) / 2 - mean;
		sxy += rx * (c0 * ry0 + c1 * ry1);
		sxx += m * rx * rx;
		below += m;
	}
	const syy = n0 * ry0 * ry0 + n1 * ry1 * ry1;
	return sxx > 0 ? sxy / Math.sqrt(sxx * syy) : NaN;
}

/** The AUC (Mann–Whitney, ties counted half) of a score for a 0/1 outcome from its cell counts. */
export function aucFromCells(cells: ScoreCells): number {
	let zerosBelow = 0;
	let n0 = 0;
	let n1 = 0;
	let wins = 0;
	for (let j = 0; j < cells.length / 2; j++) {
		const c0 = cells[2 * j]!;
		const c1 = cells[2 * j + 1]!;
		wins += c1 * (zerosBelow + c0 / 2);
		zerosBelow += c0;
		n0 += c0;
		n1 += c1;
	}
	return n0 > 0 && n1 > 0 ? wins / (n0 * n1) : NaN;
}
