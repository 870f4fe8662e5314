import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import r from '../fixtures/analysis/reference-cluster.json' with { type: 'json' };
import {
	clusterBootstrapDifference,
	clusterRobustLogistic,
	type ClusterCount
} from '../../analysis/stats/cluster.ts';
import { designMatrix, logisticRegression } from '../../analysis/stats/logistic.ts';

// Reference: tests/fixtures/analysis/reference-cluster.json from reference-cluster.R (R's glm and
// sandwich::vcovCL(type = "HC1"), 90 participants with 3 correlated episodes each).
const close = (actual: number, expected: number, rel = 1e-6) =>
	expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.abs(expected));

describe('cluster-robust variants', () => {
	it('sandwich standard errors clustered by participant match vcovCL(type = "HC1")', () => {
		const X = designMatrix([
			{ values: r.arm.map(String), levels: ['0', '1', '2'] },
			{ values: r.scenario.map(String), levels: ['1', '2', '3', '4'] }
		]);
		const fit = logisticRegression(X, r.y);
		fit.coefficients.forEach((b, i) => close(b, r.estimate[i]!));
		fit.standardErrors.forEach((se, i) => close(se, r.se_model[i]!));
		const robust = clusterRobustLogistic(X, r.y, r.participant.map(String), fit);
		expect(robust.clusters).toBe(90);
		robust.standardErrors.forEach((se, i) => close(se, r.se_cluster[i]!));
	});

	it('the cluster bootstrap covers the true difference in about 95% of simulated studies', () => {
		// Participants with 4 episodes each and a shared participant effect: the plain binomial
		// interval would be too narrow; the cluster bootstrap should still cover the truth.
		const random = seedrandom('cluster-coverage');
		const truth = 0.15;
		const person = (p: number): ClusterCount => {
			const own = Math.min(0.98, Math.max(0.02, p + (random() - 0.5) * 0.6));
			let successes = 0;
			for (let e = 0; e < 4; e++) if (random() < own) successes++;
			return { successes, n: 4 };
		};
		const replications = 300;
		let covered = 0;
		for (let rep = 0; rep < replications; rep++) {
			const treated = Array.from({ length: 60 }, () => person(0.55 + truth));
			const control = Array.from({ length: 60 }, () => person(0.55));
			const { ci } = clusterBootstrapDifference(treated, control, 400, random);
			if (ci && ci[0] <= truth && truth <= ci[1]) covered++;
		}
		expect(covered / replications).toBeGreaterThan(0.91);
		expect(covered / replications).toBeLessThan(0.985);
	});

	it('is reproducible with the same seed and states its method and clusters', () => {
		const a: ClusterCount[] = [
			{ successes: 2, n: 3 },
			{ successes: 3, n: 3 },
			{ successes: 0, n: 2 },
			{ successes: 1, n: 3 }
		];
		const b: ClusterCount[] = [
			{ successes: 1, n: 3 },
			{ successes: 0, n: 3 },
			{ successes: 2, n: 3 }
		];
		const one = clusterBootstrapDifference(a, b, 500, seedrandom('7'));
		const two = clusterBootstrapDifference(a, b, 500, seedrandom('7'));
		expect(one).toEqual(two);
		expect(one.diff).toBeCloseTo(6 / 11 - 3 / 9, 12);
		expect(one.clusters).toEqual([4, 3]);
		expect(one.method).toContain('500 resamples');
		expect(one.ci![0]).toBeLessThan(one.diff);
		expect(one.ci![1]).toBeGreaterThan(one.diff);
	});
});
