import seedrandom from 'seedrandom';
import type { Episode } from '../io/export-reader.ts';
import {
	aucDeLong,
	aucFromCells,
	spearman,
	spearmanFromCells,
	welch
} from '../stats/association.ts';
import { clusterBootstrap, type ClusterSample } from '../stats/cluster.ts';
import { groupedLogisticRegression, logisticRegression } from '../stats/logistic.ts';
import { newcombeHybrid, chisqTwoProportions, type Interval } from '../stats/proportions.ts';
import { multinomialResampler, percentileInterval } from '../stats/resample.ts';
import type { ProxyAssociation, ProxyEffect } from '../result.ts';
import { outcomeOf, type AnalysisContext } from './context.ts';

// Does the proxy track the outcome it stands in for? (docs/analysis-estimands.md §3)

export interface ProxyRow {
	participant: string;
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
 * The fits of PTE need only the counts of each (T, Z, Y) pattern: grouped, weighted logistic
 * regressions give the same estimates as row-level ones, and a bootstrap resample is a re-count.
 */
function pteModel(rows: readonly ProxyRow[], treated: string) {
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
	const slope = (counts: Float64Array, withProxy: boolean) => {
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
		const bT = slope(counts, false);
		const bTZ = slope(counts, true);
		return bT === null || bTZ === null || bT === 0 ? NaN : 1 - bTZ / bT;
	};
	const observed = new Float64Array(patterns.length);
	for (const c of cellOf) observed[c]!++;
	return { width: patterns.length, cellOf, observed, point };
}

/**
 * Freedman's proportion of treatment effect explained, PTE = 1 − β(T | Z) / β(T), from logistic
 * regressions Y ~ T and Y ~ T + Z (Freedman, Graubard & Schatzkin 1992), with a percentile
 * bootstrap interval (seeded): episodes resampled, or participants when they have several episodes.
 */
export function pte(
	rows: ProxyRow[],
	treated: string,
	bootstrap: number,
	seed: number,
	clustered = false
): { estimate: number | null; ci: Interval | null; method: string } {
	const model = pteModel(rows, treated);
	const estimate = model.point(model.observed);
	if (!Number.isFinite(estimate))
		return { estimate: null, ci: null, method: 'freedman-pte, not estimable' };
	if (clustered) {
		const byParticipant = new Map<string, Map<number, number>>();
		rows.forEach((r, i) => {
			const cells = byParticipant.get(r.participant) ?? new Map<number, number>();
			cells.set(model.cellOf[i]!, (cells.get(model.cellOf[i]!) ?? 0) + 1);
			byParticipant.set(r.participant, cells);
		});
		const { ci, estimable } = clusterBootstrap(
			[{ width: model.width, clusters: [...byParticipant.values()].map((m) => [...m]) }],
			([counts]) => model.point(counts!),
			bootstrap,
			seedrandom(`${seed}:pte-cluster:${treated}`)
		);
		return {
			estimate,
			ci,
			method: `freedman-pte, cluster-bootstrap-percentile by participant (${estimable} of ${bootstrap} resamples estimable)`
		};
	}
	const resample = multinomialResampler(seedrandom(`${seed}:pte:${treated}`));
	const draws: number[] = [];
	const counts = new Float64Array(model.width);
	for (let b = 0; b < bootstrap; b++) {
		resample(model.observed, counts);
		const v = model.point(counts);
		if (Number.isFinite(v)) draws.push(v);
	}
	return {
		estimate,
		ci: percentileInterval(draws, bootstrap),
		method: `freedman-pte, percentile-bootstrap (${draws.length} of ${bootstrap} resamples estimable)`
	};
}

const moves = (ci: Interval) => ci[0] > 0 || ci[1] < 0;

/** Y ~ Z by logistic regression (Prentice's third criterion), or null when it cannot be fitted. */
function outcomeOnProxy(rows: readonly ProxyRow[]) {
	try {
		return groupedLogisticRegression(
			rows.map((r) => [1, r.proxy]),
			rows.map((r) => r.outcome)
		);
	} catch {
		return null;
	}
}

/** Per participant, the sums of a sample's proxy values and episodes: [Σ proxy, n]. */
function meanClusters(rows: readonly ProxyRow[]): ClusterSample {
	const by = new Map<string, [number, number]>();
	for (const r of rows) {
		const v = by.get(r.participant) ?? [0, 0];
		v[0] += r.proxy;
		v[1] += 1;
		by.set(r.participant, v);
	}
	return {
		width: 2,
		clusters: [...by.values()].map(([total, n]) => [
			[0, total],
			[1, n]
		])
	};
}

/** The effects of one arm against control on the proxy and on the outcome, and PTE. */
function proxyEffect(
	rows: readonly ProxyRow[],
	arm: string,
	control: string,
	options: ProxyOptions
): ProxyEffect | null {
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
	const discordant =
		(moves(proxyDiff.ci) && !moves(outcomeDiff.ci)) ||
		(moves(proxyDiff.ci) &&
			moves(outcomeDiff.ci) &&
			Math.sign(proxyDiff.diff) !== Math.sign(outcomeDiff.diff));
	const cluster = options.clustered
		? clusterBootstrap(
				[meanClusters(a), meanClusters(c)],
				([t, u]) => t![0]! / t![1]! - u![0]! / u![1]!,
				options.bootstrap,
				seedrandom(`${options.seed}:proxy-diff:${options.proxy}:${options.outcome}:${arm}`)
			)
		: null;
	return {
		arm,
		n: pair.length,
		proxy_diff: {
			diff: proxyDiff.diff,
			ci: proxyDiff.ci,
			p_value: proxyDiff.pValue,
			method: 'welch',
			cluster_bootstrap: cluster
				? {
						ci: cluster.ci,
						clusters: [meanClusters(a).clusters.length, meanClusters(c).clusters.length],
						method: clusterMethod(options.bootstrap)
					}
				: null
		},
		outcome_diff: { diff: outcomeDiff.diff, ci: outcomeDiff.ci, method: 'newcombe-hybrid-score' },
		discordant,
		pte: pte([...pair], arm, options.bootstrap, options.seed, options.clustered),
		prentice: {
			treatment_affects_proxy: { p_value: proxyDiff.pValue },
			treatment_affects_outcome: {
				p_value: chisqTwoProportions(xa, a.length, xc, c.length).pValue
			},
			proxy_predicts_outcome: { p_value: outcomeOnProxy(pair)?.pValues[1] ?? null },
			outcome_independent_given_proxy: {
				p_value: slopes([...pair], arm, true)?.pValues[1] ?? null
			}
		}
	};
}

const clusterMethod = (resamples: number) =>
	`cluster-bootstrap-percentile (by participant, ${resamples} resamples)`;

/** Trial level: weighted regression of outcome effects on proxy effects across arms (≥ 3 points). */
function trialLevelR2(effects: readonly ProxyEffect[]): number | null {
	if (effects.length < 3) return null;
	const w = effects.map((e) => e.n);
	const x = effects.map((e) => e.proxy_diff.diff);
	const y = effects.map((e) => e.outcome_diff.diff);
	const W = w.reduce((s, v) => s + v, 0);
	const mx = x.reduce((s, v, i) => s + w[i]! * v, 0) / W;
	const my = y.reduce((s, v, i) => s + w[i]! * v, 0) / W;
	const sxy = x.reduce((s, v, i) => s + w[i]! * (v - mx) * (y[i]! - my), 0);
	const sxx = x.reduce((s, v, i) => s + w[i]! * (v - mx) ** 2, 0);
	const syy = y.reduce((s, v, i) => s + w[i]! * (v - my) ** 2, 0);
	return sxx > 0 && syy > 0 ? (sxy * sxy) / (sxx * syy) : null;
}

/**
 * Spearman's rho and the AUC with participants resampled: each participant is the count of their
 * episodes in each (proxy value, outcome) cell, and both statistics are read from the cell counts.
 */
function rankClusterIntervals(rows: readonly ProxyRow[], options: ProxyOptions) {
	const levels = [...new Set(rows.map((r) => r.proxy))].sort((x, y) => x - y);
	const levelOf = new Map(levels.map((v, j) => [v, j]));
	const by = new Map<string, Map<number, number>>();
	for (const r of rows) {
		const cells = by.get(r.participant) ?? new Map<number, number>();
		const cell = 2 * levelOf.get(r.proxy)! + r.outcome;
		cells.set(cell, (cells.get(cell) ?? 0) + 1);
		by.set(r.participant, cells);
	}
	const sample: ClusterSample = {
		width: 2 * levels.length,
		clusters: [...by.values()].map((m) => [...m])
	};
	const run = (statistic: (cells: Float64Array) => number, name: string) => ({
		ci: clusterBootstrap(
			[sample],
			([cells]) => statistic(cells!),
			options.bootstrap,
			seedrandom(`${options.seed}:${name}:${options.proxy}:${options.outcome}`)
		).ci,
		clusters: sample.clusters.length,
		method: clusterMethod(options.bootstrap)
	});
	return { spearman: run(spearmanFromCells, 'spearman'), auc: run(aucFromCells, 'auc') };
}

interface ProxyOptions {
	proxy: string;
	outcome: string;
	bootstrap: number;
	seed: number;
	clustered: boolean;
}

/** The proxies block for one proxy measure and one binary clinical outcome. */
export function proxyBlock(
	rows: ProxyRow[],
	control: string | undefined,
	arms: string[],
	options: ProxyOptions
): ProxyAssociation {
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
	const cluster = options.clustered && hasBoth ? rankClusterIntervals(rows, options) : null;
	const effects = control
		? arms
				.filter((a) => a !== control)
				.map((arm) => proxyEffect(rows, arm, control, options))
				.filter((e) => e !== null)
		: [];
	return {
		proxy: options.proxy,
		outcome: options.outcome,
		spearman: {
			rho: s.rho,
			ci: s.ci,
			n: s.n,
			method: 'spearman, fisher-z interval (bonett-wright variance)',
			cluster_bootstrap: cluster?.spearman ?? null
		},
		auc: auc
			? {
					estimate: auc.estimate,
					ci: auc.ci,
					method: 'mann-whitney, delong',
					cluster_bootstrap: cluster?.auc ?? null
				}
			: null,
		effects,
		trial_level_r2: trialLevelR2(effects)
	};
}

/** Each episode-level proxy measure joined with each binary clinical outcome of the analysed episodes. */
export function proxyBlocks(ctx: AnalysisContext): ProxyAssociation[] {
	const episodeKey = (participant: string, episode: number) => `${participant}\u0000${episode}`;
	const byEpisode = new Map(ctx.analysed.map((e) => [episodeKey(e.participant, e.episode), e]));
	const joined = new Map<string, { e: Episode; value: number }[]>();
	for (const m of ctx.data.measures) {
		if (m.kind !== 'proxy' || m.episode === null || m.value === null) continue;
		const e = byEpisode.get(episodeKey(m.participant, m.episode));
		if (!e) continue;
		let list = joined.get(m.measure);
		if (!list) joined.set(m.measure, (list = []));
		list.push({ e, value: m.value });
	}
	return [...joined.keys()].sort().flatMap((proxy) =>
		ctx.outcomes.flatMap((outcome) => {
			const rows: ProxyRow[] = [];
			for (const { e, value } of joined.get(proxy)!) {
				const y = outcomeOf(e, outcome);
				if (y !== null)
					rows.push({
						participant: e.participant,
						arm: ctx.armOf.get(e.participant)!,
						scenario: e.scenario,
						proxy: value,
						outcome: y
					});
			}
			if (rows.length < 4) return [];
			return [
				proxyBlock(
					rows,
					ctx.control?.id,
					ctx.peopleArms.map((a) => a.id),
					{ proxy, outcome, bootstrap: ctx.bootstrap, seed: ctx.seed, clustered: ctx.clustered }
				)
			];
		})
	);
}
