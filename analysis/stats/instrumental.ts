import { invert } from './logistic.ts';

// Two-stage least squares with one endogenous regressor and one instrument, Y ~ D | Z, and its
// participant-cluster-robust covariance as `sandwich::vcovCL(ivreg(...), cluster, type = "HC1")`
// computes it: the second-stage regressors are the first stage's fitted values X̂ = P_Z X, the
// scores x̂_i e_i with e = y − Xβ (residuals with the actual D), the bread (X̂'X̂)⁻¹, and the usual
// HC1 small-sample factor G/(G − 1) · (n − 1)/(n − k). With a binary Z and no covariates the
// coefficient of D is the Wald ratio ITT(Y)/ITT(D), the complier average causal effect.

export interface IvFit {
	coefficients: [number, number];
	standardErrors: [number, number];
	clusters: number;
}

export function twoStageLeastSquares(
	y: readonly number[],
	d: readonly number[],
	z: readonly number[],
	clusters: readonly string[]
): IvFit | null {
	const n = y.length;
	const W = z.map((zi) => [1, zi]);
	const X = d.map((di) => [1, di]);
	const cross = (A: number[][], B: number[][]) =>
		[0, 1].map((a) => [0, 1].map((b) => A.reduce((s, row, i) => s + row[a]! * B[i]![b]!, 0)));
	let WWi: number[][];
	try {
		WWi = invert(cross(W, W));
	} catch {
		return null;
	}
	// First stage: X̂ = W (W'W)⁻¹ W'X.
	const WX = cross(W, X);
	const projection = [0, 1].map((a) =>
		[0, 1].map((b) => WWi[a]![0]! * WX[0]![b]! + WWi[a]![1]! * WX[1]![b]!)
	);
	const Xhat = W.map((w) =>
		[0, 1].map((b) => w[0]! * projection[0]![b]! + w[1]! * projection[1]![b]!)
	);
	let bread: number[][];
	try {
		bread = invert(cross(Xhat, Xhat));
	} catch {
		return null;
	}
	const Xy = [0, 1].map((a) => Xhat.reduce((s, row, i) => s + row[a]! * y[i]!, 0));
	const beta = [0, 1].map((a) => bread[a]![0]! * Xy[0]! + bread[a]![1]! * Xy[1]!) as [
		number,
		number
	];
	const scores = new Map<string, [number, number]>();
	for (let i = 0; i < n; i++) {
		const e = y[i]! - (beta[0] + beta[1] * d[i]!);
		const s = scores.get(clusters[i]!) ?? [0, 0];
		s[0] += Xhat[i]![0]! * e;
		s[1] += Xhat[i]![1]! * e;
		scores.set(clusters[i]!, s);
	}
	const meat = [
		[0, 0],
		[0, 0]
	];
	for (const s of scores.values())
		for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) meat[a]![b]! += s[a]! * s[b]!;
	const G = scores.size;
	const adjust = (G / (G - 1)) * ((n - 1) / (n - 2));
	const BM = bread.map((row) => [0, 1].map((b) => row[0]! * meat[0]![b]! + row[1]! * meat[1]![b]!));
	const V = BM.map((row) =>
		[0, 1].map((b) => adjust * (row[0]! * bread[0]![b]! + row[1]! * bread[1]![b]!))
	);
	return {
		coefficients: beta,
		standardErrors: [Math.sqrt(V[0]![0]!), Math.sqrt(V[1]![1]!)],
		clusters: G
	};
}
