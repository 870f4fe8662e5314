import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { pte, type ProxyRow } from '../../analysis/estimands/proxies.ts';
import { groupedLogisticRegression, logisticRegression } from '../../analysis/stats/logistic.ts';
import { pchisqUpper } from '../../analysis/stats/distributions.ts';
import { binomial, multinomialResampler } from '../../analysis/stats/resample.ts';

describe('the binomial sampler', () => {
	it.each([
		[100, 0.5],
		[50, 0.6],
		[100_000, 0.3],
		[1000, 0.001],
		[37, 0.9]
	])('Binomial(%i, %d): mean and variance within sampling error of n·p and n·p(1−p)', (n, p) => {
		const random = seedrandom(`binomial-${n}-${p}`);
		const draws = 20_000;
		let sum = 0;
		let sq = 0;
		for (let i = 0; i < draws; i++) {
			const x = binomial(n, p, random);
			expect(Number.isInteger(x) && x >= 0 && x <= n).toBe(true);
			sum += x;
			sq += x * x;
		}
		const mean = sum / draws;
		const variance = sq / draws - mean ** 2;
		const sd = Math.sqrt(n * p * (1 - p));
		expect(Math.abs(mean - n * p)).toBeLessThan(4 * (sd / Math.sqrt(draws)));
		expect(variance / (sd * sd)).toBeGreaterThan(0.95);
		expect(variance / (sd * sd)).toBeLessThan(1.05);
	});

	it.each([
		[100_000, 0.3],
		[1000, 0.5],
		[200, 0.2],
		[5000, 0.97],
		[1000, 0.01],
		[60, 0.9]
	])(
		'Binomial(%i, %d) has the exact distribution: chi-square goodness of fit over 100,000 draws',
		(n, p) => {
			// The exact probabilities in log space (no underflow at n = 100,000), binned so that
			// every bin expects at least 20 draws.
			const logPmf = new Float64Array(n + 1);
			logPmf[0] = n * Math.log1p(-p);
			for (let k = 1; k <= n; k++)
				logPmf[k] = logPmf[k - 1]! + Math.log((n - k + 1) / k) + Math.log(p / (1 - p));
			const draws = 100_000;
			const counts = new Float64Array(n + 1);
			const random = seedrandom(`gof-${n}-${p}`);
			for (let i = 0; i < draws; i++) counts[binomial(n, p, random)]!++;
			let statistic = 0;
			let bins = 0;
			let expected = 0;
			let observed = 0;
			for (let k = 0; k <= n; k++) {
				expected += draws * Math.exp(logPmf[k]!);
				observed += counts[k]!;
				if (expected >= 20 || k === n) {
					statistic += (observed - expected) ** 2 / expected;
					bins++;
					expected = 0;
					observed = 0;
				}
			}
			expect(bins).toBeGreaterThan(5);
			expect(pchisqUpper(statistic, bins - 1)).toBeGreaterThan(0.001);
		}
	);

	it('is exact at the edges', () => {
		const random = seedrandom('edges');
		expect(binomial(500, 0, random)).toBe(0);
		expect(binomial(500, 1, random)).toBe(500);
		expect(binomial(0, 0.5, random)).toBe(0);
	});
});

describe('the multinomial resample of counts', () => {
	const observed = Float64Array.from([50, 0, 30, 20]);
	const n = 100;

	it('keeps the total, never fills an empty cell, and repeats with the same seed', () => {
		const a = multinomialResampler(seedrandom('s'));
		const b = multinomialResampler(seedrandom('s'));
		const x = new Float64Array(4);
		const y = new Float64Array(4);
		for (let i = 0; i < 200; i++) {
			a(observed, x);
			b(observed, y);
			expect(x.reduce((s, v) => s + v, 0)).toBe(n);
			expect(x[1]).toBe(0);
			expect([...x]).toEqual([...y]);
		}
	});

	it('has the distribution of resampling the rows: means n·p, variances n·p(1−p), covariances −n·pᵢpⱼ', () => {
		const resample = multinomialResampler(seedrandom('moments'));
		const draws = 20_000;
		const sum = new Float64Array(4);
		const sq = new Float64Array(4);
		let cross = 0; // cells 0 and 2
		const out = new Float64Array(4);
		for (let i = 0; i < draws; i++) {
			resample(observed, out);
			for (let k = 0; k < 4; k++) {
				sum[k]! += out[k]!;
				sq[k]! += out[k]! ** 2;
			}
			cross += out[0]! * out[2]!;
		}
		const p = [...observed].map((c) => c / n);
		for (let k = 0; k < 4; k++) {
			const mean = sum[k]! / draws;
			const variance = sq[k]! / draws - mean ** 2;
			const expectedVariance = n * p[k]! * (1 - p[k]!);
			// The mean within 4 standard errors; the variance within 5%.
			expect(Math.abs(mean - n * p[k]!)).toBeLessThanOrEqual(
				4 * Math.sqrt(expectedVariance / draws) + 1e-12
			);
			if (expectedVariance > 0)
				expect(Math.abs(variance / expectedVariance - 1)).toBeLessThan(0.05);
		}
		const covariance = cross / draws - (sum[0]! / draws) * (sum[2]! / draws);
		expect(Math.abs(covariance / (-n * p[0]! * p[2]!) - 1)).toBeLessThan(0.05);
	});
});

describe("Freedman's PTE on simulations with known truth", () => {
	/** T → Z → Y when `mediated`; otherwise Z is noise and T acts on Y directly. */
	function simulate(mediated: boolean, rows = 4000): ProxyRow[] {
		const random = seedrandom(mediated ? 'mediated' : 'direct');
		return Array.from({ length: rows }, (_, i) => {
			const t = i % 2;
			const z = mediated
				? Math.min(7, Math.max(1, Math.round(3 + 2 * t + (random() * 4 - 2))))
				: 1 + Math.floor(random() * 7);
			const logit = mediated ? -3 + 0.8 * z : -0.5 + 1.0 * t;
			const y = random() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
			return {
				participant: `p${i}`,
				arm: t ? 'llm' : 'control',
				scenario: 's',
				proxy: z,
				outcome: y as 0 | 1
			};
		});
	}

	it('is near 1, its interval covering 1, when the proxy carries the whole effect', () => {
		const r = pte(simulate(true), 'llm', 1000, 1);
		expect(r.estimate!).toBeGreaterThan(0.8);
		expect(r.ci![0]).toBeLessThan(1);
		expect(r.ci![1]).toBeGreaterThan(1);
		expect(r.method).toMatch(/1000 of 1000 resamples/);
	});

	it('is near 0, its interval covering 0, when the proxy is noise', () => {
		const r = pte(simulate(false), 'llm', 1000, 1);
		expect(Math.abs(r.estimate!)).toBeLessThan(0.05);
		expect(r.ci![0]).toBeLessThan(0);
		expect(r.ci![1]).toBeGreaterThan(0);
	});
});

describe('the grouped logistic fit', () => {
	it('gives the coefficients and standard errors of the row-level fit', () => {
		const random = seedrandom('grouped');
		const X: number[][] = [];
		const y: number[] = [];
		for (let i = 0; i < 3000; i++) {
			const t = i % 2;
			const s = Math.floor(random() * 3);
			const row = [1, t, s === 1 ? 1 : 0, s === 2 ? 1 : 0];
			X.push(row);
			y.push(
				random() < 1 / (1 + Math.exp(-(-0.4 + 0.7 * t + 0.3 * row[2]! - 0.5 * row[3]!))) ? 1 : 0
			);
		}
		const rowLevel = logisticRegression(X, y);
		const grouped = groupedLogisticRegression(X, y);
		grouped.coefficients.forEach((b, i) => expect(b).toBeCloseTo(rowLevel.coefficients[i]!, 8));
		grouped.standardErrors.forEach((se, i) =>
			expect(se).toBeCloseTo(rowLevel.standardErrors[i]!, 8)
		);
	});
});
