import { wilson, type Interval } from './proportions.ts';

// The model alone, standardized to the scenario mix the arm's participants saw: benchmark runs are
// rarely balanced across scenarios, so the raw share of correct runs would weigh scenarios by how
// often the model happened to be run on them rather than by how often people met them.

export interface StandardizedAccuracy {
	p: number;
	ci: Interval;
	/** Runs used (those on scenarios the arm's participants saw). */
	n: number;
}

/**
 * Σ_s w_s · p_s, with p_s the share of correct runs on scenario s and w_s the arm's share of
 * episodes on s (among the scenarios that have runs; the mix is taken as observed). The interval
 * combines each scenario's Wilson interval by MOVER for a weighted sum (Zou & Donner 2008):
 * Σ w_s p_s ∓ √Σ w_s² (p_s − limit_s)². Unlike a percentile bootstrap within scenarios, it stays
 * honest when a scenario has only a few runs (two identical runs give the bootstrap no variance at
 * all): over simulated studies with 2 to 40 runs per scenario the gap built on it covers about 94%, on the bootstrap 79%
 * (tests/unit/standardized.test.ts). Undefined when no scenario of the mix has runs.
 */
export function standardizedAccuracy(
	mix: ReadonlyMap<string, number>,
	runs: ReadonlyMap<string, readonly (0 | 1)[]>,
	confidence = 0.95
): StandardizedAccuracy | undefined {
	const covered = [...mix.keys()].filter((s) => (runs.get(s)?.length ?? 0) > 0);
	if (covered.length === 0) return undefined;
	const total = covered.reduce((sum, s) => sum + mix.get(s)!, 0);
	let p = 0;
	let below = 0;
	let above = 0;
	let n = 0;
	for (const s of covered) {
		const list = runs.get(s)!;
		const hits = list.reduce<number>((a, b) => a + b, 0);
		const w = mix.get(s)! / total;
		const ps = hits / list.length;
		const [lo, hi] = wilson(hits, list.length, confidence);
		p += w * ps;
		below += (w * (ps - lo)) ** 2;
		above += (w * (hi - ps)) ** 2;
		n += list.length;
	}
	return { p, ci: [p - Math.sqrt(below), p + Math.sqrt(above)], n };
}

/**
 * The difference of two independent estimates, each with its own interval, by MOVER (Newcombe's
 * "method of variance estimates recovery"; Zou & Donner 2008): the interval of θ1 − θ2 recovered
 * from the limits of each. With two Wilson intervals it is Newcombe's hybrid score interval.
 */
export function moverDifference(
	first: { p: number; ci: Interval },
	second: { p: number; ci: Interval }
): { diff: number; ci: Interval } {
	const diff = first.p - second.p;
	return {
		diff,
		ci: [
			diff - Math.sqrt((first.p - first.ci[0]) ** 2 + (second.ci[1] - second.p) ** 2),
			diff + Math.sqrt((first.ci[1] - first.p) ** 2 + (second.p - second.ci[0]) ** 2)
		]
	};
}
