import { describe, expect, it } from 'vitest';
import r from '../fixtures/analysis/reference-models.json' with { type: 'json' };
import { aucDeLong, spearman, welch } from '../../analysis/stats/association.ts';
import { designMatrix, logisticRegression } from '../../analysis/stats/logistic.ts';

// Reference: tests/fixtures/analysis/reference-models.json from reference-models.R (R's glm,
// cor.test, t.test; DeLong written out in R). The data are in the fixture too.
const close = (actual: number, expected: number, rel = 1e-6) =>
	expect(Math.abs(actual - expected)).toBeLessThanOrEqual(
		rel * Math.max(1e-12, Math.abs(expected))
	);

describe('models and associations, against R', () => {
	it('logistic regression with arm and scenario indicators matches glm(family = binomial)', () => {
		const X = designMatrix([
			{ values: r.arm.map(String), levels: ['0', '1', '2'] },
			{ values: r.scenario.map(String), levels: ['1', '2', '3', '4'] }
		]);
		const fit = logisticRegression(X, r.y);
		expect(fit.converged).toBe(true);
		fit.coefficients.forEach((b, i) => close(b, r.glm.estimate[i]!));
		fit.standardErrors.forEach((se, i) => close(se, r.glm.se[i]!));
		fit.pValues.forEach((p, i) => close(p, r.glm.p[i]!));
	});

	it("Spearman's interval uses the Bonett–Wright variance (1 + rho²/2)/(n − 3)", () => {
		const x = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
		const y = [2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11];
		const s = spearman(x, y);
		const z = Math.atanh(s.rho);
		const half = 1.959963984540054 * Math.sqrt((1 + s.rho ** 2 / 2) / (12 - 3));
		expect(s.ci[0]).toBeCloseTo(Math.tanh(z - half), 12);
		expect(s.ci[1]).toBeCloseTo(Math.tanh(z + half), 12);
		// Wider than the Pearson-style 1/(n − 3) interval it replaces.
		expect(s.ci[0]).toBeLessThan(Math.tanh(z - 1.959963984540054 / 3));
	});

	it("Spearman's rho and its p-value match cor.test(method = 'spearman')", () => {
		const s = spearman(r.proxy, r.y);
		close(s.rho, r.spearman.rho);
		close(s.pValue, r.spearman.p, 1e-5);
		expect(s.ci[0]).toBeLessThan(s.rho);
		expect(s.ci[1]).toBeGreaterThan(s.rho);
	});

	it('AUC with the DeLong standard error', () => {
		const a = aucDeLong(r.proxy, r.y as (0 | 1)[]);
		close(a.estimate, r.auc.estimate);
		close(a.se, r.auc.se);
	});

	it('Welch difference, interval and p-value match t.test', () => {
		const w = welch(
			r.proxy.filter((_, i) => r.arm[i] === 1),
			r.proxy.filter((_, i) => r.arm[i] === 0)
		);
		close(w.diff, r.welch.diff);
		close(w.df, r.welch.df);
		close(w.ci[0], r.welch.ci[0]!);
		close(w.ci[1], r.welch.ci[1]!);
		close(w.pValue, r.welch.p);
	});
});

describe('grouped logistic regression', () => {
	it('gives the same fit from one weighted row per pattern as from the rows themselves', () => {
		const X = r.arm.map((a) => [1, a === 1 ? 1 : 0, a === 2 ? 1 : 0]);
		const rowFit = logisticRegression(X, r.y);
		const groups = new Map<string, { x: number[]; y: number; w: number }>();
		X.forEach((x, i) => {
			const key = `${x.join(',')}|${r.y[i]}`;
			const g = groups.get(key) ?? { x, y: r.y[i]!, w: 0 };
			g.w++;
			groups.set(key, g);
		});
		const g = [...groups.values()];
		const groupedFit = logisticRegression(
			g.map((v) => v.x),
			g.map((v) => v.y),
			g.map((v) => v.w)
		);
		groupedFit.coefficients.forEach((b, i) => close(b, rowFit.coefficients[i]!, 1e-8));
		groupedFit.standardErrors.forEach((se, i) => close(se, rowFit.standardErrors[i]!, 1e-8));
	});
});
