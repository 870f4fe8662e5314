import seedrandom from 'seedrandom';
import { aucFromCells, spearmanFromCells } from '../stats/association.ts';
import { clusterBootstrap, type ClusterSample } from '../stats/cluster.ts';
import type { ProxyEffect } from '../result.ts';
import type { ProxyRow } from './proxies.ts';

// The proxy block's participant-cluster intervals and its trial-level association.

export interface ProxyOptions {
	proxy: string;
	outcome: string;
	bootstrap: number;
	seed: number;
	clustered: boolean;
}

export const clusterMethod = (resamples: number) =>
	`cluster-bootstrap-percentile (by participant, ${resamples} resamples)`;

export /** Per participant, the sums of a sample's proxy values and episodes: [Σ proxy, n]. */
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

export /** Trial level: weighted regression of outcome effects on proxy effects across arms (≥ 3 points). */
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

export /**
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
