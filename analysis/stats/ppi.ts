import { zCritical } from './distributions.ts';
import type { Interval } from './proportions.ts';

// Prediction-powered inference for a mean (Angelopoulos, Bates, Fannjiang, Jordan & Zrnic,
// Science 2023): a model's predictions f on all N items, and on a random subset of n items also
// the gold-standard value h (here: a person's coding). The estimate corrects the model's mean by
// its average error on the subset,
//   θ̂ = mean(f over N) + mean(h − f over n),   Var = var(f)/N + var(h − f)/n,
// with a normal interval. Unbiased whatever the model's error rates, as long as the subset is a
// random draw; narrower than the people's mean alone when the model is mostly right.

export interface PpiEstimate {
	estimate: number;
	se: number;
	ci: Interval;
	/** The model's mean alone, over all N (biased by its errors). */
	naive: number;
	N: number;
	n: number;
}

const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const variance = (xs: readonly number[]) => {
	const m = mean(xs);
	return xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1);
};

export function ppiMean(
	predictions: readonly number[],
	labelled: readonly { f: number; h: number }[],
	confidence = 0.95
): PpiEstimate | null {
	const N = predictions.length;
	const n = labelled.length;
	if (N < 2 || n < 2) return null;
	const naive = mean(predictions);
	const rectifier = labelled.map((x) => x.h - x.f);
	const estimate = naive + mean(rectifier);
	const se = Math.sqrt(variance(predictions) / N + variance(rectifier) / n);
	const z = zCritical(confidence);
	return { estimate, se, ci: [estimate - z * se, estimate + z * se], naive, N, n };
}
