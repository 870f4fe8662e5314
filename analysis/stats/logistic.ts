import { pnorm } from './distributions.ts';

export interface LogisticFit {
	coefficients: number[];
	standardErrors: number[];
	pValues: number[];
	/** (X'WX)⁻¹ at the last step: the model-based covariance (the dispersion of a binomial is 1). */
	covariance: number[][];
	iterations: number;
	converged: boolean;
	deviance: number;
}

/** Inverse of a symmetric positive-definite matrix by Gauss–Jordan elimination with partial pivoting. */
export function invert(matrix: number[][]): number[][] {
	const n = matrix.length;
	const a = matrix.map((row, i) => [
		...row,
		...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))
	]);
	for (let col = 0; col < n; col++) {
		let pivot = col;
		for (let r = col + 1; r < n; r++)
			if (Math.abs(a[r]![col]!) > Math.abs(a[pivot]![col]!)) pivot = r;
		if (Math.abs(a[pivot]![col]!) < 1e-12)
			throw new Error(
				'the design matrix is singular (a level with no observations, or separation)'
			);
		[a[col], a[pivot]] = [a[pivot]!, a[col]!];
		const p = a[col]![col]!;
		for (let j = 0; j < 2 * n; j++) a[col]![j]! /= p;
		for (let r = 0; r < n; r++) {
			if (r === col) continue;
			const f = a[r]![col]!;
			if (f !== 0) for (let j = 0; j < 2 * n; j++) a[r]![j]! -= f * a[col]![j]!;
		}
	}
	return a.map((row) => row.slice(n));
}

/**
 * Logistic regression by iteratively reweighted least squares (Fisher scoring), with Wald
 * standard errors and p-values: coefficients and standard errors as R's `glm(family = binomial)`
 * (same start, same convergence rule: relative change in deviance below 1e-8, at most 25 steps).
 * Optional case weights let grouped data (one row per distinct covariate pattern) give the same fit.
 */
export function logisticRegression(X: number[][], y: number[], weights?: number[]): LogisticFit {
	const n = X.length;
	const k = X[0]!.length;
	// R's start: mu = (y + 0.5) / 2, eta = logit(mu).
	let eta = y.map((yi) => Math.log((yi + 0.5) / 2 / (1 - (yi + 0.5) / 2)));
	let beta = new Array<number>(k).fill(0);
	let deviance = Infinity;
	let converged = false;
	let iterations = 0;
	let covariance: number[][] = [];
	for (iterations = 1; iterations <= 25; iterations++) {
		const mu = eta.map((e) => 1 / (1 + Math.exp(-e)));
		const w = mu.map((m, i) => (weights ? weights[i]! : 1) * m * (1 - m));
		const z = eta.map((e, i) => e + (y[i]! - mu[i]!) / (mu[i]! * (1 - mu[i]!)));
		const xtwx = Array.from({ length: k }, () => new Array<number>(k).fill(0));
		const xtwz = new Array<number>(k).fill(0);
		for (let i = 0; i < n; i++) {
			const xi = X[i]!;
			for (let a = 0; a < k; a++) {
				xtwz[a]! += xi[a]! * w[i]! * z[i]!;
				for (let b = 0; b < k; b++) xtwx[a]![b]! += xi[a]! * w[i]! * xi[b]!;
			}
		}
		covariance = invert(xtwx);
		beta = covariance.map((row) => row.reduce((s, v, j) => s + v * xtwz[j]!, 0));
		eta = X.map((xi) => xi.reduce((s, v, j) => s + v * beta[j]!, 0));
		const newDeviance =
			-2 *
			eta.reduce((s, e, i) => {
				const m = 1 / (1 + Math.exp(-e));
				return s + (weights ? weights[i]! : 1) * (y[i] === 1 ? Math.log(m) : Math.log(1 - m));
			}, 0);
		if (Math.abs(newDeviance - deviance) / (Math.abs(newDeviance) + 0.1) < 1e-8) {
			deviance = newDeviance;
			converged = true;
			// Like summary.glm: the covariance is that of the last weighted least-squares step.
			break;
		}
		deviance = newDeviance;
	}
	const standardErrors = covariance.map((row, i) => Math.sqrt(row[i]!));
	return {
		coefficients: beta,
		standardErrors,
		pValues: beta.map((b, i) => 2 * pnorm(-Math.abs(b / standardErrors[i]!))),
		iterations,
		converged,
		deviance,
		covariance
	};
}

/** A design matrix of an intercept and treatment-coded indicators for categorical columns. */
export function designMatrix(columns: { values: string[]; levels: string[] }[]): number[][] {
	const n = columns[0]?.values.length ?? 0;
	return Array.from({ length: n }, (_, i) => [
		1,
		...columns.flatMap((c) => c.levels.slice(1).map((level) => (c.values[i] === level ? 1 : 0)))
	]);
}

/**
 * The same fit on rows grouped by identical (x, y): frequency weights give the same
 * coefficients and standard errors as one row each, and the work is per distinct pattern (a
 * handful for arm × scenario × a Likert proxy) instead of per row.
 */
export function groupedLogisticRegression(
	X: readonly (readonly number[])[],
	y: readonly number[]
): ReturnType<typeof logisticRegression> {
	const index = new Map<string, number>();
	const rows: number[][] = [];
	const outcomes: number[] = [];
	const weights: number[] = [];
	X.forEach((x, i) => {
		const key = `${x.join(',')}|${y[i]}`;
		const at = index.get(key);
		if (at === undefined) {
			index.set(key, rows.length);
			rows.push([...x]);
			outcomes.push(y[i]!);
			weights.push(1);
		} else weights[at]!++;
	});
	return logisticRegression(rows, outcomes, weights);
}
