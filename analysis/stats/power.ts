import { pnorm, zCritical } from './distributions.ts';

/**
 * Power of the two-sided test of two proportions with n1 in group 1 and n2 = ratio · n1 in group 2
 * (normal approximation; with ratio 1 exactly R's `power.prop.test`, strict = FALSE).
 */
export function powerTwoProportions(
	p1: number,
	p2: number,
	n1: number,
	alpha = 0.05,
	ratio = 1
): number {
	const n2 = ratio * n1;
	const pooled = (n1 * p1 + n2 * p2) / (n1 + n2);
	const z = zCritical(1 - alpha);
	const numerator = Math.abs(p1 - p2) - z * Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
	return pnorm(numerator / Math.sqrt((p1 * (1 - p1)) / n1 + (p2 * (1 - p2)) / n2));
}

/** Root of an increasing function on [lo, hi] by bisection, to full double precision. */
function solve(f: (x: number) => number, lo: number, hi: number): number {
	if (f(lo) > 0 || f(hi) < 0) throw new RangeError('no solution in the search range');
	for (let i = 0; i < 200 && hi - lo > Math.abs(lo) * 1e-15; i++) {
		const mid = (lo + hi) / 2;
		if (f(mid) < 0) lo = mid;
		else hi = mid;
	}
	return (lo + hi) / 2;
}

/** Participants per group (group 1; group 2 has ratio times as many) for a target power. */
export function sampleSizeTwoProportions(
	p1: number,
	p2: number,
	power = 0.8,
	alpha = 0.05,
	ratio = 1
): number {
	if (p1 === p2) throw new RangeError('p1 and p2 must differ');
	return solve((n) => powerTwoProportions(p1, p2, n, alpha, ratio) - power, 2, 1e9);
}

/** The smallest p2 > p1 detectable with n1 per group at the given power (the minimum detectable difference is p2 − p1). */
export function detectableProportion(
	p1: number,
	n1: number,
	power = 0.8,
	alpha = 0.05,
	ratio = 1
): number {
	return solve(
		(p2) => powerTwoProportions(p1, p2, n1, alpha, ratio) - power,
		p1 + 1e-10,
		1 - 1e-10
	);
}
