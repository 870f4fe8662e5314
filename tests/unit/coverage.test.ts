import { describe, expect, it } from 'vitest';
import { analyze } from '../../analysis/analyze.ts';
import {
	aucDeLong,
	aucFromCells,
	spearman,
	spearmanFromCells
} from '../../analysis/stats/association.ts';
import { coverage, CORRELATED, simulateStudy } from '../helpers/coverage.ts';
import seedrandom from 'seedrandom';

// The participant-cluster interval variants: the rank statistics read from cell counts equal the
// row-level ones, every clustered block carries its variant, and over simulated studies with
// correlated episodes the cluster intervals cover the truth while the plain Welch interval does
// not. The 1,000-study figures are in `npm run bench -- coverage` (bench/results.md).

describe('rank statistics from cell counts', () => {
	it('equal Spearman’s rho and the Mann–Whitney AUC computed row by row, ties included', () => {
		const random = seedrandom('cells');
		const z = Array.from({ length: 500 }, () => 1 + Math.floor(random() * 7));
		const y = z.map((v) => (random() < v / 8 ? 1 : 0));
		const cells = new Float64Array(14);
		z.forEach((v, i) => cells[2 * (v - 1) + y[i]!]!++);
		expect(spearmanFromCells(cells)).toBeCloseTo(spearman(z, y).rho, 12);
		expect(aucFromCells(cells)).toBeCloseTo(aucDeLong(z, y).estimate, 12);
	});
});

describe('participant-cluster variants', () => {
	const { data } = simulateStudy(CORRELATED, seedrandom('variants'));
	const a = analyze(data);

	it('sit beside the plain intervals of the effects, the mediation gaps and the proxy block', () => {
		const m = a.mediation[0]!;
		const x = a.proxies[0]!;
		for (const variant of [
			a.effects[0]!.cluster_bootstrap,
			m.gap!.cluster_bootstrap,
			m.benchmark_to_user_gap!.cluster_bootstrap,
			m.users.cluster_bootstrap,
			x.spearman.cluster_bootstrap,
			x.auc!.cluster_bootstrap,
			x.effects[0]!.proxy_diff.cluster_bootstrap
		]) {
			expect(variant?.method).toMatch(
				/cluster-bootstrap-percentile \(by participant, 400 resamples\)/
			);
			expect(variant!.ci![0]).toBeLessThan(variant!.ci![1]);
		}
		expect(m.gap!.cluster_bootstrap!.clusters).toBe(CORRELATED.peoplePerArm);
		expect(x.effects[0]!.pte.method).toMatch(/cluster-bootstrap-percentile by participant/);
	});

	it('are absent when every participant has one episode', () => {
		const single = analyze(simulateStudy({ ...CORRELATED, episodes: 1 }, seedrandom('one')).data);
		expect(single.clustered_by_participant).toBe(false);
		expect(single.mediation[0]!.gap!.cluster_bootstrap).toBeNull();
		expect(single.proxies[0]!.spearman.cluster_bootstrap).toBeNull();
	});

	it('cover the truth over simulated studies with correlated episodes, where the plain Welch interval does not', () => {
		const { studies, covered } = coverage(CORRELATED, 150, 'unit-coverage');
		for (const name of [
			'arm − control, cluster',
			'mediation gap, cluster',
			'benchmark-to-user gap, cluster',
			'Spearman, cluster',
			'AUC, cluster',
			'Welch proxy difference, cluster'
		]) {
			expect(covered[name]! / studies, name).toBeGreaterThanOrEqual(0.88);
			expect(covered[name]! / studies, name).toBeLessThanOrEqual(0.995);
		}
		expect(covered['Welch proxy difference, plain']! / studies).toBeLessThan(
			covered['Welch proxy difference, cluster']! / studies - 0.04
		);
	});
});
