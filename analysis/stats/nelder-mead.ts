// Nelder–Mead simplex minimization (Nelder & Mead 1965, with the standard coefficients: reflect
// 1, expand 2, contract 1/2, shrink 1/2). Derivative-free, for the few parameters of a variance
// component model; stops when the simplex's values agree to `tolerance` (relative).

export interface NelderMeadResult {
	point: number[];
	value: number;
	converged: boolean;
	evaluations: number;
}

export function nelderMead(
	f: (x: readonly number[]) => number,
	start: readonly number[],
	options: { step?: number; tolerance?: number; maxEvaluations?: number } = {}
): NelderMeadResult {
	const n = start.length;
	const step = options.step ?? 0.1;
	const tolerance = options.tolerance ?? 1e-10;
	const maxEvaluations = options.maxEvaluations ?? 1000 * n;
	let evaluations = 0;
	const value = (x: number[]) => {
		evaluations++;
		const v = f(x);
		return Number.isFinite(v) ? v : Infinity;
	};
	let simplex = [start.slice()];
	for (let i = 0; i < n; i++) {
		const x = start.slice();
		x[i] = x[i]! + (x[i] === 0 ? step : step * Math.max(1, Math.abs(x[i]!)));
		simplex.push(x);
	}
	let values = simplex.map(value);
	const along = (a: number[], b: number[], t: number) => a.map((v, i) => v + t * (b[i]! - v));
	while (evaluations < maxEvaluations) {
		const order = values.map((v, i) => i).sort((i, j) => values[i]! - values[j]!);
		simplex = order.map((i) => simplex[i]!);
		values = order.map((i) => values[i]!);
		const [best, worst] = [values[0]!, values[n]!];
		if (Math.abs(worst - best) <= tolerance * (Math.abs(best) + tolerance)) {
			return { point: simplex[0]!, value: best, converged: true, evaluations };
		}
		const centroid = new Array<number>(n).fill(0);
		for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) centroid[j]! += simplex[i]![j]! / n;
		const reflected = along(centroid, simplex[n]!, -1);
		const fr = value(reflected);
		if (fr < values[0]!) {
			const expanded = along(centroid, simplex[n]!, -2);
			const fe = value(expanded);
			[simplex[n], values[n]] = fe < fr ? [expanded, fe] : [reflected, fr];
		} else if (fr < values[n - 1]!) {
			[simplex[n], values[n]] = [reflected, fr];
		} else {
			const outside = fr < values[n]!;
			const contracted = along(centroid, outside ? reflected : simplex[n]!, 0.5);
			const fc = value(contracted);
			if (fc < (outside ? fr : values[n]!)) [simplex[n], values[n]] = [contracted, fc];
			else {
				for (let i = 1; i <= n; i++) {
					simplex[i] = along(simplex[0]!, simplex[i]!, 0.5);
					values[i] = value(simplex[i]!);
				}
			}
		}
	}
	const i = values.indexOf(Math.min(...values));
	return { point: simplex[i]!, value: values[i]!, converged: false, evaluations };
}
