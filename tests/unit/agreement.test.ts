import { describe, expect, it } from 'vitest';
import { cohenKappaNominal } from '../../analysis/stats/agreement.ts';

/** Expands a confusion table (rows: rater A, columns: rater B) into pairs. */
function pairsOf(categories: string[], table: number[][]): [string, string][] {
	return table.flatMap((row, i) =>
		row.flatMap((count, j) =>
			Array.from({ length: count }, () => [categories[i]!, categories[j]!] as [string, string])
		)
	);
}

describe("Cohen's kappa", () => {
	it('matches the textbook 2×2 example (po 0.7, pe 0.5, kappa 0.4)', () => {
		const r = cohenKappaNominal(
			pairsOf(
				['yes', 'no'],
				[
					[20, 5],
					[10, 15]
				]
			)
		)!;
		expect(r.n).toBe(50);
		expect(r.observed).toBeCloseTo(0.7, 12);
		expect(r.expected).toBeCloseTo(0.5, 12);
		expect(r.kappa).toBeCloseTo(0.4, 12);
	});

	it('matches a 3×3 table worked by hand', () => {
		// Rows A, columns B; n = 100; po = (25+30+18)/100 = 0.73;
		// A margins 35, 40, 25; B margins 35, 40, 25 → pe = .35² + .40² + .25² = 0.345;
		// kappa = (0.73 − 0.345) / 0.655.
		const r = cohenKappaNominal(
			pairsOf(
				['home', 'gp', 'ed'],
				[
					[25, 5, 5],
					[8, 30, 2],
					[2, 5, 18]
				]
			)
		)!;
		expect(r.observed).toBeCloseTo(0.73, 12);
		expect(r.expected).toBeCloseTo(0.345, 12);
		expect(r.kappa).toBeCloseTo((0.73 - 0.345) / 0.655, 12);
	});

	it('is 1 for perfect agreement, null when both raters use one category, null for no items', () => {
		expect(
			cohenKappaNominal([
				['a', 'a'],
				['b', 'b']
			])!.kappa
		).toBe(1);
		expect(
			cohenKappaNominal([
				['a', 'a'],
				['a', 'a']
			])!.kappa
		).toBeNull();
		expect(cohenKappaNominal([])).toBeNull();
	});
});
