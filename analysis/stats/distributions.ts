// Distribution functions from @stdlib (maintained, tested against reference implementations),
// so the estimators here never hand-roll special functions.
import chisqCdf from '@stdlib/stats-base-dists-chisquare-cdf';
import hypergeometricPmf from '@stdlib/stats-base-dists-hypergeometric-pmf';
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import tCdf from '@stdlib/stats-base-dists-t-cdf';
import tQuantile from '@stdlib/stats-base-dists-t-quantile';

/** Standard normal quantile. */
export const qnorm = (p: number): number => normalQuantile(p, 0, 1);
/** Standard normal CDF. */
export const pnorm = (x: number): number => normalCdf(x, 0, 1);
/** Upper tail of the chi-square distribution. */
export const pchisqUpper = (x: number, df: number): number => 1 - chisqCdf(x, df);
/** Student t CDF and quantile. */
export const pt = (x: number, df: number): number => tCdf(x, df);
export const qt = (p: number, df: number): number => tQuantile(p, df);
/** Hypergeometric pmf: k successes in n draws from N items of which K are successes. */
export const dhyper = (k: number, N: number, K: number, n: number): number =>
	hypergeometricPmf(k, N, K, n);

/** The two-sided normal critical value for a confidence level (0.95 → 1.959964…). */
export const zCritical = (confidence = 0.95): number => qnorm(1 - (1 - confidence) / 2);
