import { dhyper, pchisqUpper, pnorm, zCritical } from './distributions.ts';

export type Interval = [number, number];

/**
 * Wilson score interval for a proportion (Wilson 1927), as R's
 * `prop.test(x, n, correct = FALSE)$conf.int`.
 */
export function wilson(x: number, n: number, confidence = 0.95): Interval {
	if (n === 0) return [0, 1];
	const z = zCritical(confidence);
	const p = x / n;
	const z2 = z * z;
	const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
	const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
	// Exact bounds at 0 and n, as R reports them.
	return [x === 0 ? 0 : Math.max(0, centre - half), x === n ? 1 : Math.min(1, centre + half)];
}

/**
 * Difference of two independent proportions p1 − p2 with Newcombe's hybrid score interval
 * (Newcombe 1998, Stat Med 17:873, method 10).
 */
export function newcombeHybrid(
	x1: number,
	n1: number,
	x2: number,
	n2: number,
	confidence = 0.95
): { diff: number; ci: Interval } {
	const p1 = x1 / n1;
	const p2 = x2 / n2;
	const [l1, u1] = wilson(x1, n1, confidence);
	const [l2, u2] = wilson(x2, n2, confidence);
	const d = p1 - p2;
	return {
		diff: d,
		ci: [
			d - Math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
			d + Math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
		]
	};
}

/**
 * Difference of paired proportions (a+b)/n − (a+c)/n for the 2×2 table [[a, b], [c, d]] with
 * Newcombe's score interval for paired data (Newcombe 1998, Stat Med 17:2635, method 10): the
 * Wilson intervals of both margins combined with the continuity-corrected phi of the table (ad − bc
 * reduced by n/2 towards 0 when positive; phi 0 when a margin is empty). The plain phi gives a
 * zero-width interval for a fully concordant table and misses the paper's values in the third
 * decimal.
 */
export function newcombePaired(
	a: number,
	b: number,
	c: number,
	d: number,
	confidence = 0.95
): { diff: number; ci: Interval } {
	const n = a + b + c + d;
	const p1 = (a + b) / n;
	const p2 = (a + c) / n;
	const [l1, u1] = wilson(a + b, n, confidence);
	const [l2, u2] = wilson(a + c, n, confidence);
	const denominator = Math.sqrt((a + b) * (c + d) * (a + c) * (b + d));
	const cross = a * d - b * c;
	const corrected = cross > 0 ? Math.max(cross - n / 2, 0) : cross;
	const phi = denominator === 0 ? 0 : corrected / denominator;
	const diff = p1 - p2;
	const lower = Math.sqrt(
		Math.max(0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2)
	);
	const upper = Math.sqrt(
		Math.max(0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2)
	);
	return { diff, ci: [diff - lower, diff + upper] };
}

/**
 * Pearson's chi-square test of two proportions, as R's `prop.test(c(x1, x2), c(n1, n2), correct)`
 * (Yates' continuity correction when `correct`, never larger than |x − E|).
 */
export function chisqTwoProportions(
	x1: number,
	n1: number,
	x2: number,
	n2: number,
	correct = false
): { statistic: number; pValue: number } {
	const observed = [x1, n1 - x1, x2, n2 - x2];
	const total = n1 + n2;
	const successes = x1 + x2;
	const expected = [
		(n1 * successes) / total,
		(n1 * (total - successes)) / total,
		(n2 * successes) / total,
		(n2 * (total - successes)) / total
	];
	let statistic = 0;
	for (let i = 0; i < 4; i++) {
		const deviation = Math.abs(observed[i]! - expected[i]!);
		const yates = correct ? Math.min(0.5, deviation) : 0;
		statistic += (deviation - yates) ** 2 / expected[i]!;
	}
	return { statistic, pValue: pchisqUpper(statistic, 1) };
}

/** The smallest expected count of the 2×2 table of two proportions (chi-square needs ≥ 5). */
export function minExpected(x1: number, n1: number, x2: number, n2: number): number {
	const total = n1 + n2;
	const s = x1 + x2;
	return Math.min(n1 * s, n1 * (total - s), n2 * s, n2 * (total - s)) / total;
}

/**
 * Fisher's exact test, two-sided, for the table [[a, b], [c, d]], as R's `fisher.test`: the sum of
 * the probabilities of all tables with the same margins that are no more likely than the observed.
 */
export function fisherExact(a: number, b: number, c: number, d: number): number {
	const N = a + b + c + d;
	const K = a + c; // first column total
	const n = a + b; // first row total
	const lo = Math.max(0, n + K - N);
	const hi = Math.min(n, K);
	const observed = dhyper(a, N, K, n);
	let p = 0;
	for (let k = lo; k <= hi; k++) {
		const pk = dhyper(k, N, K, n);
		if (pk <= observed * (1 + 1e-7)) p += pk;
	}
	return Math.min(1, p);
}

/**
 * McNemar's test without continuity correction on the discordant cells b and c, as R's
 * `mcnemar.test(table, correct = FALSE)`; null when there are no discordant pairs.
 */
export function mcnemar(b: number, c: number): number | null {
	if (b + c === 0) return null;
	return pchisqUpper((b - c) ** 2 / (b + c), 1);
}

/** Odds ratio of [[a, b], [c, d]] with Woolf's logit interval (Woolf 1955); 0.5 added to every cell when one is 0. */
export function woolfOddsRatio(
	a: number,
	b: number,
	c: number,
	d: number,
	confidence = 0.95
): { oddsRatio: number; ci: Interval; corrected: boolean } {
	const corrected = a === 0 || b === 0 || c === 0 || d === 0;
	const [A, B, C, D] = corrected ? [a + 0.5, b + 0.5, c + 0.5, d + 0.5] : [a, b, c, d];
	const or = (A * D) / (B * C);
	const se = Math.sqrt(1 / A + 1 / B + 1 / C + 1 / D);
	const z = zCritical(confidence);
	return {
		oddsRatio: or,
		ci: [Math.exp(Math.log(or) - z * se), Math.exp(Math.log(or) + z * se)],
		corrected
	};
}

/** Holm's step-down adjustment (Holm 1979), as R's `p.adjust(p, "holm")`. */
export function holm(pValues: number[]): number[] {
	const m = pValues.length;
	const order = pValues.map((p, i) => ({ p, i })).sort((x, y) => x.p - y.p);
	const adjusted = new Array<number>(m);
	let running = 0;
	order.forEach(({ p, i }, rank) => {
		running = Math.max(running, Math.min(1, (m - rank) * p));
		adjusted[i] = running;
	});
	return adjusted;
}

/**
 * Equivalence of two proportions within ±margin by two one-sided tests (Schuirmann 1987), with
 * unpooled z statistics (d + Δ)/SE and (Δ − d)/SE, SE = √(p1(1−p1)/n1 + p2(1−p2)/n2): p of each
 * one-sided test, the TOST p (their maximum), and the (1 − 2α) Newcombe interval, which lies
 * inside (−Δ, Δ) exactly when equivalence is shown by it. Non-inferiority is the lower test alone.
 */
export function equivalenceTwoProportions(
	x1: number,
	n1: number,
	x2: number,
	n2: number,
	margin: number,
	alpha = 0.05
) {
	const p1 = x1 / n1;
	const p2 = x2 / n2;
	const d = p1 - p2;
	const se = Math.sqrt((p1 * (1 - p1)) / n1 + (p2 * (1 - p2)) / n2);
	// P(Z > z) as Φ(−z): no cancellation in the tail.
	const pLower = se > 0 ? pnorm(-(d + margin) / se) : d > -margin ? 0 : 1;
	const pUpper = se > 0 ? pnorm(-(margin - d) / se) : d < margin ? 0 : 1;
	const { ci } = newcombeHybrid(x1, n1, x2, n2, 1 - 2 * alpha);
	return {
		diff: d,
		margin,
		p_lower: pLower,
		p_upper: pUpper,
		p_tost: Math.max(pLower, pUpper),
		ci_90: ci,
		equivalent: ci[0] > -margin && ci[1] < margin,
		non_inferior: ci[0] > -margin
	};
}
