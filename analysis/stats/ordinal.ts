import { clusterSandwich } from './cluster.ts';
import { invert } from './logistic.ts';

// The proportional-odds (cumulative logit) model of an ordered response, as R's `ordinal::clm`
// (equivalently `MASS::polr`): logit P(Y ≤ j) = θ_j − x'β for the J − 1 thresholds θ_1 < … <
// θ_{J−1}, so a positive β moves the response up the scale. Fitted by Newton–Raphson on the
// exact log-likelihood with its analytic gradient and Hessian (step halving keeps the thresholds
// ordered and the likelihood rising); the covariance is the inverse of the negative Hessian, as
// clm's vcov. Rows may carry weights (one row per distinct pattern gives the same fit).

export interface OrdinalFit {
	thresholds: number[];
	coefficients: number[];
	/** Covariance of (thresholds, coefficients), in that order. */
	covariance: number[][];
	standardErrors: number[];
	logLik: number;
	iterations: number;
	converged: boolean;
}

const F = (z: number) => (z === Infinity ? 1 : z === -Infinity ? 0 : 1 / (1 + Math.exp(-z)));
const f = (z: number) => {
	if (!Number.isFinite(z)) return 0;
	const p = F(z);
	return p * (1 - p);
};
/** f'(z) = f(z)(1 − 2F(z)). */
const g = (z: number) => {
	if (!Number.isFinite(z)) return 0;
	const p = F(z);
	return p * (1 - p) * (1 - 2 * p);
};

/** The two ends of row i's interval on the latent scale, for parameters (θ, β). */
function ends(theta: number[], eta: number, level: number, J: number) {
	return {
		upper: level === J - 1 ? Infinity : theta[level]! - eta,
		lower: level === 0 ? -Infinity : theta[level - 1]! - eta
	};
}

function linear(x: readonly number[], beta: readonly number[]) {
	let eta = 0;
	for (let j = 0; j < beta.length; j++) eta += x[j]! * beta[j]!;
	return eta;
}

function logLikelihood(
	X: readonly (readonly number[])[],
	y: readonly number[],
	w: readonly number[],
	theta: number[],
	beta: number[],
	J: number
): number {
	for (let j = 1; j < theta.length; j++) if (!(theta[j]! > theta[j - 1]!)) return -Infinity;
	let total = 0;
	for (let i = 0; i < y.length; i++) {
		const { upper, lower } = ends(theta, linear(X[i]!, beta), y[i]!, J);
		const P = F(upper) - F(lower);
		if (!(P > 0)) return -Infinity;
		total += w[i]! * Math.log(P);
	}
	return total;
}

/** The score of one row: d log P / d(θ, β). */
export function ordinalScore(
	x: readonly number[],
	level: number,
	theta: readonly number[],
	beta: readonly number[]
): number[] {
	const J = theta.length + 1;
	const { upper, lower } = ends([...theta], linear(x, beta), level, J);
	const P = F(upper) - F(lower);
	const s = new Array<number>(J - 1 + beta.length).fill(0);
	if (level < J - 1) s[level] = f(upper) / P;
	if (level > 0) s[level - 1] = -f(lower) / P;
	const d = (f(upper) - f(lower)) / P;
	for (let j = 0; j < beta.length; j++) s[J - 1 + j] = -x[j]! * d;
	return s;
}

/** Gradient and Hessian of the log-likelihood. */
function derivatives(
	X: readonly (readonly number[])[],
	y: readonly number[],
	w: readonly number[],
	theta: number[],
	beta: number[],
	J: number
) {
	const k = J - 1 + beta.length;
	const grad = new Array<number>(k).fill(0);
	const hess = Array.from({ length: k }, () => new Array<number>(k).fill(0));
	const dP = new Array<number>(k);
	const d2P = Array.from({ length: k }, () => new Array<number>(k));
	for (let i = 0; i < y.length; i++) {
		const x = X[i]!;
		const level = y[i]!;
		const { upper, lower } = ends(theta, linear(x, beta), level, J);
		const P = F(upper) - F(lower);
		const [fu, fl, gu, gl] = [f(upper), f(lower), g(upper), g(lower)];
		dP.fill(0);
		for (const row of d2P) row.fill(0);
		const hasUpper = level < J - 1;
		const hasLower = level > 0;
		if (hasUpper) {
			dP[level] = fu;
			d2P[level]![level] = gu;
		}
		if (hasLower) {
			dP[level - 1] = -fl;
			d2P[level - 1]![level - 1] = -gl;
		}
		for (let a = 0; a < beta.length; a++) {
			const A = J - 1 + a;
			dP[A] = -x[a]! * (fu - fl);
			if (hasUpper) d2P[level]![A] = d2P[A]![level] = -x[a]! * gu;
			if (hasLower) d2P[level - 1]![A] = d2P[A]![level - 1] = x[a]! * gl;
			for (let b = 0; b < beta.length; b++) d2P[A]![J - 1 + b] = x[a]! * x[b]! * (gu - gl);
		}
		const wi = w[i]!;
		for (let a = 0; a < k; a++) {
			grad[a]! += (wi * dP[a]!) / P;
			for (let b = 0; b < k; b++)
				hess[a]![b]! += wi * (d2P[a]![b]! / P - (dP[a]! * dP[b]!) / (P * P));
		}
	}
	return { grad, hess };
}

/**
 * Fits the model to rows X (no intercept column: the thresholds are the intercepts) and levels y
 * in 0..J − 1, every level present.
 */
export function cumulativeLogit(
	X: readonly (readonly number[])[],
	y: readonly number[],
	J: number,
	weights?: readonly number[]
): OrdinalFit {
	const w = weights ?? y.map(() => 1);
	const p = X[0]?.length ?? 0;
	// Start where clm starts: thresholds from the cumulative shares, no effects.
	const total = w.reduce((s, v) => s + v, 0);
	const counts = new Array<number>(J).fill(0);
	y.forEach((level, i) => (counts[level]! += w[i]!));
	let cumulative = 0;
	let theta = counts.slice(0, J - 1).map((c) => {
		cumulative += c;
		const share = cumulative / total;
		return Math.log(share / (1 - share));
	});
	let beta = new Array<number>(p).fill(0);
	let logLik = logLikelihood(X, y, w, theta, beta, J);
	let converged = false;
	let iterations = 0;
	for (iterations = 1; iterations <= 100; iterations++) {
		const { grad, hess } = derivatives(X, y, w, theta, beta, J);
		if (Math.max(...grad.map(Math.abs)) < 1e-10) {
			converged = true;
			break;
		}
		const inverse = invert(hess.map((row) => row.map((v) => -v)));
		const step = inverse.map((row) => row.reduce((s, v, j) => s + v * grad[j]!, 0));
		let t = 1;
		for (; t > 1e-10; t /= 2) {
			const nextTheta = theta.map((v, j) => v + t * step[j]!);
			const nextBeta = beta.map((v, j) => v + t * step[J - 1 + j]!);
			const next = logLikelihood(X, y, w, nextTheta, nextBeta, J);
			if (next >= logLik - 1e-12) {
				theta = nextTheta;
				beta = nextBeta;
				logLik = next;
				break;
			}
		}
		if (t <= 1e-10) break;
	}
	const { hess } = derivatives(X, y, w, theta, beta, J);
	const covariance = invert(hess.map((row) => row.map((v) => -v)));
	return {
		thresholds: theta,
		coefficients: beta,
		covariance,
		standardErrors: covariance.map((row, i) => Math.sqrt(row[i]!)),
		logLik,
		iterations,
		converged
	};
}

/**
 * Participant-cluster-robust covariance of the fit, as `sandwich::vcovCL(type = "HC1")` computes
 * it for a glm: B (Σ_g s_g s_gᵀ) B · G/(G − 1) · (n − 1)/(n − k), B the model covariance and s_g
 * the summed scores of cluster g's rows.
 */
export function ordinalClusterCovariance(
	X: readonly (readonly number[])[],
	y: readonly number[],
	clusters: readonly string[],
	fit: OrdinalFit
): { covariance: number[][]; standardErrors: number[]; clusters: number } {
	const k = fit.thresholds.length + fit.coefficients.length;
	const sums = new Map<string, number[]>();
	// A row's score depends only on its pattern (x, y): computed once per pattern.
	const scoreOf = new Map<string, number[]>();
	for (let i = 0; i < y.length; i++) {
		const key = `${X[i]!.join(',')}|${y[i]}`;
		let s = scoreOf.get(key);
		if (!s) scoreOf.set(key, (s = ordinalScore(X[i]!, y[i]!, fit.thresholds, fit.coefficients)));
		const acc = sums.get(clusters[i]!) ?? new Array<number>(k).fill(0);
		for (let j = 0; j < k; j++) acc[j]! += s[j]!;
		sums.set(clusters[i]!, acc);
	}
	const covariance = clusterSandwich(fit.covariance, sums.values(), y.length);
	return {
		covariance,
		standardErrors: covariance.map((row, i) => Math.sqrt(row[i]!)),
		clusters: sums.size
	};
}
