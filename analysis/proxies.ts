import seedrandom from 'seedrandom';
import { multinomialResampler } from './stats/resample.ts';
import { aucDeLong, spearman, welch } from './stats/association.ts';
import { clusterRobustLogistic } from './stats/cluster.ts';
import { zCritical } from './stats/distributions.ts';
import { designMatrix, groupedLogisticRegression, logisticRegression } from './stats/logistic.ts';
import { newcombeHybrid, chisqTwoProportions, type Interval } from './stats/proportions.ts';

// Does the proxy track the outcome it stands in for? (docs/analysis-estimands.md §3)

export interface ProxyRow {
	arm: string;
	scenario: string;
	proxy: number;
	outcome: 0 | 1;
}

/** Logistic slope of T (and of Z when present) for Y ~ T [+ Z]; null when the fit is impossible. */
function slopes(rows: ProxyRow[], treated: string, withProxy: boolean) {
	const X = rows.map((r) =>
		withProxy ? [1, r.arm === treated ? 1 : 0, r.proxy] : [1, r.arm === treated ? 1 : 0]
	);
	try {
		const fit = groupedLogisticRegression(
			X,
			rows.map((r) => r.outcome)
		);
		return fit.converged ? fit : null;
	} catch {
		return null;
	}
}

/**
 * Freedman's proportion of treatment effect explained, PTE = 1 − β(T | Z) / β(T), from logistic
 * regressions Y ~ T and Y ~ T + Z (Freedman, Graubard & Schatzkin 1992), with a percentile
 * bootstrap interval (seeded).
 */
export function pte(
	rows: ProxyRow[],
	treated: string,
	bootstrap: number,
	seed: number
): { estimate: number | null; ci: Interval | null; method: string } {
	// The fits need only the counts of each (T, Z, Y) pattern: grouped, weighted logistic
	// regressions give the same estimates as row-level ones, and a bootstrap resample is a re-count.
	const keys = new Map<string, number>();
	const patterns: { t: number; z: number; y: number }[] = [];
	const cellOf = new Int32Array(rows.length);
	rows.forEach((r, i) => {
		const t = r.arm === treated ? 1 : 0;
		const key = `${t}|${r.proxy}|${r.outcome}`;
		if (!keys.has(key)) {
			keys.set(key, patterns.length);
			patterns.push({ t, z: r.proxy, y: r.outcome });
		}
		cellOf[i] = keys.get(key)!;
	});
	const fit = (counts: Float64Array, withProxy: boolean) => {
		const used = patterns.map((p, k) => ({ p, w: counts[k]! })).filter((c) => c.w > 0);
		try {
			const f = logisticRegression(
				used.map(({ p }) => (withProxy ? [1, p.t, p.z] : [1, p.t])),
				used.map(({ p }) => p.y),
				used.map(({ w }) => w)
			);
			return f.converged ? f.coefficients[1]! : null;
		} catch {
			return null;
		}
	};
	const point = (counts: Float64Array) => {
		const bT = fit(counts, false);
		const bTZ = fit(counts, true);
		return bT === null || bTZ === null || bT === 0 ? null : 1 - bTZ / bT;
	};
	const observed = new Float64Array(patterns.length);
	for (const c of cellOf) observed[c]!++;
	const estimate = point(observed);
	if (estimate === null) return { estimate: null, ci: null, method: 'freedman-pte, not estimable' };
	const resample = multinomialResampler(seedrandom(`${seed}:pte:${treated}`));
	const draws: number[] = [];
	const counts = new Float64Array(patterns.length);
	for (let b = 0; b < bootstrap; b++) {
		resample(observed, counts);
		const v = point(counts);
		if (v !== null && Number.isFinite(v)) draws.push(v);
	}
	draws.sort((x, y) => x - y);
	const ci: Interval | null =
		draws.length >= 0.9 * bootstrap
			? [
					draws[Math.floor(0.025 * (draws.length - 1))]!,
					draws[Math.ceil(0.975 * (draws.length - 1))]!
				]
			: null;
	return {
		estimate,
		ci,
		method: `freedman-pte, percentile-bootstrap (${draws.length} of ${bootstrap} resamples estimable)`
	};
}

/** The proxies block for one proxy measure and one binary clinical outcome. */
export function proxyBlock(
	proxyName: string,
	outcomeName: string,
	rows: ProxyRow[],
	control: string | undefined,
	arms: string[],
	bootstrap: number,
	seed: number
) {
	const s = spearman(
		rows.map((r) => r.proxy),
		rows.map((r) => r.outcome)
	);
	const hasBoth = rows.some((r) => r.outcome === 1) && rows.some((r) => r.outcome === 0);
	const auc = hasBoth
		? aucDeLong(
				rows.map((r) => r.proxy),
				rows.map((r) => r.outcome)
			)
		: null;
	const effects = control
		? arms
				.filter((a) => a !== control)
				.map((arm) => {
					const pair = rows.filter((r) => r.arm === arm || r.arm === control);
					const a = pair.filter((r) => r.arm === arm);
					const c = pair.filter((r) => r.arm === control);
					if (a.length < 2 || c.length < 2) return null;
					const proxyDiff = welch(
						a.map((r) => r.proxy),
						c.map((r) => r.proxy)
					);
					const xa = a.filter((r) => r.outcome === 1).length;
					const xc = c.filter((r) => r.outcome === 1).length;
					const outcomeDiff = newcombeHybrid(xa, a.length, xc, c.length);
					const moves = (ci: Interval) => ci[0] > 0 || ci[1] < 0;
					const discordant =
						(moves(proxyDiff.ci) && !moves(outcomeDiff.ci)) ||
						(moves(proxyDiff.ci) &&
							moves(outcomeDiff.ci) &&
							Math.sign(proxyDiff.diff) !== Math.sign(outcomeDiff.diff));
					const z = slopes(pair, arm, true);
					const yOnZ = (() => {
						try {
							return groupedLogisticRegression(
								pair.map((r) => [1, r.proxy]),
								pair.map((r) => r.outcome)
							);
						} catch {
							return null;
						}
					})();
					return {
						arm,
						n: pair.length,
						proxy_diff: {
							diff: proxyDiff.diff,
							ci: proxyDiff.ci,
							p_value: proxyDiff.pValue,
							method: 'welch'
						},
						outcome_diff: {
							diff: outcomeDiff.diff,
							ci: outcomeDiff.ci,
							method: 'newcombe-hybrid-score'
						},
						discordant,
						pte: pte(pair, arm, bootstrap, seed),
						prentice: {
							treatment_affects_proxy: { p_value: proxyDiff.pValue },
							treatment_affects_outcome: {
								p_value: chisqTwoProportions(xa, a.length, xc, c.length).pValue
							},
							proxy_predicts_outcome: { p_value: yOnZ?.pValues[1] ?? null },
							outcome_independent_given_proxy: { p_value: z?.pValues[1] ?? null }
						}
					};
				})
				.filter((e) => e !== null)
		: [];
	// Trial level: weighted regression of outcome effects on proxy effects across arms (≥ 3 points).
	let trialR2: number | null = null;
	if (effects.length >= 3) {
		const w = effects.map((e) => e.n);
		const x = effects.map((e) => e.proxy_diff.diff);
		const y = effects.map((e) => e.outcome_diff.diff);
		const W = w.reduce((s, v) => s + v, 0);
		const mx = x.reduce((s, v, i) => s + w[i]! * v, 0) / W;
		const my = y.reduce((s, v, i) => s + w[i]! * v, 0) / W;
		const sxy = x.reduce((s, v, i) => s + w[i]! * (v - mx) * (y[i]! - my), 0);
		const sxx = x.reduce((s, v, i) => s + w[i]! * (v - mx) ** 2, 0);
		const syy = y.reduce((s, v, i) => s + w[i]! * (v - my) ** 2, 0);
		trialR2 = sxx > 0 && syy > 0 ? (sxy * sxy) / (sxx * syy) : null;
	}
	return {
		proxy: proxyName,
		outcome: outcomeName,
		spearman: { rho: s.rho, ci: s.ci, n: s.n, method: 'spearman, fisher-z interval' },
		auc: auc ? { estimate: auc.estimate, ci: auc.ci, method: 'mann-whitney, delong' } : null,
		effects,
		trial_level_r2: trialR2
	};
}

/** Adjusted odds ratio of each arm vs the reference arm, from Y ~ arm + scenario (Wald interval). */
export function adjustedOddsRatios(
	rows: { arm: string; scenario: string; outcome: 0 | 1; participant?: string }[],
	armLevels: string[],
	clustered = false
) {
	const scenarios = [...new Set(rows.map((r) => r.scenario))].sort();
	try {
		const X = designMatrix([
			{ values: rows.map((r) => r.arm), levels: armLevels },
			{ values: rows.map((r) => r.scenario), levels: scenarios }
		]);
		const y = rows.map((r) => r.outcome);
		const fit = groupedLogisticRegression(X, y);
		// Beside the plain Wald intervals, sandwich ones clustered by participant when participants
		// have several episodes (the same coefficients; only the standard errors change).
		const robust = clustered
			? clusterRobustLogistic(
					X,
					y,
					rows.map((r) => r.participant ?? ''),
					fit
				)
			: null;
		const z = zCritical();
		const wald = (b: number, se: number) =>
			[Math.exp(b - z * se), Math.exp(b + z * se)] as Interval;
		return new Map(
			armLevels.slice(1).map((arm, i) => {
				const b = fit.coefficients[i + 1]!;
				const se = fit.standardErrors[i + 1]!;
				return [
					arm,
					{
						odds_ratio: Math.exp(b),
						ci: wald(b, se),
						p_value: fit.pValues[i + 1]!,
						method: 'logistic-scenario-fixed-effects',
						...(robust && {
							cluster_robust: {
								ci: wald(b, robust.standardErrors[i + 1]!),
								p_value: robust.pValues[i + 1]!,
								clusters: robust.clusters,
								method: 'sandwich-vcovCL-HC1 (by participant)'
							}
						})
					}
				];
			})
		);
	} catch {
		return new Map();
	}
}
