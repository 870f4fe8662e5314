import { describe, expect, it } from 'vitest';
import reference from '../fixtures/analysis/reference.json' with { type: 'json' };
import {
	sequentialDecomposition,
	shapleyDecomposition,
	subsetKey
} from '../../analysis/decompose.ts';
import {
	detectableProportion,
	powerTwoProportions,
	sampleSizeTwoProportions
} from '../../analysis/stats/power.ts';
import {
	chisqTwoProportions,
	fisherExact,
	holm,
	mcnemar,
	newcombeHybrid,
	newcombePaired,
	wilson,
	woolfOddsRatio
} from '../../analysis/stats/proportions.ts';

// Reference values: tests/fixtures/analysis/reference.json, computed by reference.R beside it with
// R's prop.test, fisher.test, mcnemar.test, power.prop.test and p.adjust. Agreement is 1e-6 relative.
const close = (actual: number, expected: number, rel = 1e-6) =>
	expect(Math.abs(actual - expected)).toBeLessThanOrEqual(
		rel * Math.max(1e-12, Math.abs(expected))
	);

describe('proportions, against R', () => {
	it.each(reference.two_sample)('x1=$x1/$n1 vs x2=$x2/$n2', (r) => {
		const [lo, hi] = wilson(r.x1, r.n1);
		close(lo, r.wilson1[0]!);
		close(hi, r.wilson1[1]!);
		close(chisqTwoProportions(r.x1, r.n1, r.x2, r.n2, false).pValue, r.chisq_p);
		close(chisqTwoProportions(r.x1, r.n1, r.x2, r.n2, true).pValue, r.yates_p);
		close(fisherExact(r.x1, r.n1 - r.x1, r.x2, r.n2 - r.x2), r.fisher_p);
	});

	it.each(reference.mcnemar)('McNemar on b=$b, c=$c', (r) => {
		const p = mcnemar(r.b, r.c);
		if (r.p === null) expect(p).toBeNull();
		else close(p!, r.p);
	});

	it('adjusts p-values as R p.adjust(…, "holm")', () => {
		holm(reference.holm.p).forEach((p, i) => close(p, reference.holm.adjusted[i]!));
	});
});

describe('published worked examples', () => {
	it('Newcombe 1998 (method 10): 56/70 vs 48/80 gives 0.0524 to 0.3339', () => {
		const { diff, ci } = newcombeHybrid(56, 70, 48, 80);
		expect(diff).toBeCloseTo(0.2, 10);
		expect(ci[0]).toBeCloseTo(0.0524, 4);
		expect(ci[1]).toBeCloseTo(0.3339, 4);
	});

	it('Newcombe paired interval: zero difference is centred, bounds stay within [-1, 1], and phi = 0 reduces to the unpaired form', () => {
		const sym = newcombePaired(20, 5, 5, 20);
		expect(sym.diff).toBe(0);
		expect(sym.ci[0]).toBeCloseTo(-sym.ci[1], 12);
		// With an empty margin phi is 0 and the interval combines the two Wilson intervals directly.
		const [l1, u1] = wilson(10, 10);
		const [l2, u2] = wilson(5, 10);
		const degenerate = newcombePaired(5, 5, 0, 0);
		expect(degenerate.ci[0]).toBeCloseTo(0.5 - Math.sqrt((1 - l1) ** 2 + (u2 - 0.5) ** 2), 12);
		expect(degenerate.ci[1]).toBeCloseTo(0.5 + Math.sqrt((u1 - 1) ** 2 + (0.5 - l2) ** 2), 12);
	});

	it('Newcombe paired interval (method 10) with the continuity-corrected phi: the worked values', () => {
		// (a, b, c, d) = (1, 1, 7, 12): −0.2857 (−0.5069, −0.0256), as Newcombe (1998b) publishes.
		const worked = newcombePaired(1, 1, 7, 12);
		expect(worked.diff).toBeCloseTo(-0.2857, 4);
		expect(worked.ci[0]).toBeCloseTo(-0.5069, 4);
		expect(worked.ci[1]).toBeCloseTo(-0.0256, 4);
		// A fully concordant 50% table: a real interval, not the plain phi's [0, 0].
		const concordant = newcombePaired(10, 0, 0, 10);
		expect(concordant.ci[0]).toBeCloseTo(-0.0898, 4);
		expect(concordant.ci[1]).toBeCloseTo(0.0898, 4);
	});

	it('Woolf: OR of [[20, 10], [10, 20]] is 4 with log-scale interval ±1.96·sqrt(0.3)', () => {
		const { oddsRatio, ci } = woolfOddsRatio(20, 10, 10, 20);
		expect(oddsRatio).toBe(4);
		close(ci[0], 4 * Math.exp(-1.959963984540054 * Math.sqrt(0.3)));
		close(ci[1], 4 * Math.exp(1.959963984540054 * Math.sqrt(0.3)));
	});
});

describe('power and sample size, against R power.prop.test', () => {
	it.each(
		reference.power.filter(
			(r) => 'n' in r && 'power' in r && 'p2' in r && r.power >= 0.8 && !Number.isInteger(r.n)
		)
	)('n per group for p1=$p1, p2=$p2, power=$power', (r) => {
		// R's uniroot stops at an absolute tolerance of ~1.2e-4 in n; ours solves exactly.
		expect(Math.abs(sampleSizeTwoProportions(r.p1, r.p2!, r.power, r.alpha) - r.n)).toBeLessThan(
			2e-4
		);
	});

	const powerAtN = reference.power.filter((r) => Number.isInteger(r.n) && r.power !== 0.8);
	it('has reference values of power at a given n to compare with', () => {
		// A filter that matched nothing would make the it.each below run no case at all.
		expect(powerAtN.length).toBeGreaterThanOrEqual(2);
	});

	it.each(powerAtN)('power at n=$n for p1=$p1, p2=$p2', (r) => {
		close(powerTwoProportions(r.p1, r.p2!, r.n, r.alpha), r.power);
	});

	it('minimum detectable p2 at n = 400 (R solves to ~1e-4)', () => {
		const r = reference.power.find((x) => Number.isInteger(x.n) && x.power === 0.8)!;
		expect(Math.abs(detectableProportion(0.42, 400, 0.8, 0.05) - r.p2!)).toBeLessThan(2e-4);
	});

	it('takes an allocation ratio: 2:1 needs fewer in the small group and more in total', () => {
		const equal = sampleSizeTwoProportions(0.42, 0.52);
		const unequal = sampleSizeTwoProportions(0.42, 0.52, 0.8, 0.05, 2);
		expect(unequal).toBeLessThan(equal);
		expect(unequal * 3).toBeGreaterThan(equal * 2);
		close(powerTwoProportions(0.42, 0.52, unequal, 0.05, 2), 0.8);
	});
});

describe('staged decomposition', () => {
	const stages = [
		{ name: 'benchmark (physician-written, single turn)', p: 0.9467 },
		{
			name: 'patient-written, single turn',
			p: 0.828,
			relaxes: 'query distribution',
			type: 'task' as const
		},
		{ name: 'simulated multi-turn', p: 0.6417, relaxes: 'interaction type', type: 'task' as const },
		{ name: 'real users (RCT)', p: 0.34, relaxes: 'decision mediation', type: 'outcome' as const }
	];

	it("reproduces the paper's case study: 12 / 19 / 30 points, task 31, outcome 30", () => {
		const { steps, taskTotal, outcomeTotal } = sequentialDecomposition(stages);
		expect(steps.map((s) => Number(s.drop.toFixed(4)))).toEqual([0.1187, 0.1863, 0.3017]);
		expect(Number(taskTotal.toFixed(4))).toBe(0.305);
		expect(Number(outcomeTotal.toFixed(4))).toBe(0.3017);
		expect(steps.map((s) => Math.round(s.drop * 100))).toEqual([12, 19, 30]);
	});

	it('Shapley attribution averages over orders and sums to the total drop', () => {
		const a = ['query', 'turns'];
		const accuracy = {
			'': 0.95,
			[subsetKey(['query'])]: 0.83,
			[subsetKey(['turns'])]: 0.8,
			[subsetKey(a)]: 0.64
		};
		const result = shapleyDecomposition(a, accuracy);
		const byName = Object.fromEntries(result.map((r) => [r.assumption, r]));
		close(byName.query!.shapley, (0.95 - 0.83 + (0.8 - 0.64)) / 2);
		close(byName.turns!.shapley, (0.95 - 0.8 + (0.83 - 0.64)) / 2);
		close(
			result.reduce((s, r) => s + r.shapley, 0),
			0.95 - 0.64
		);
		expect(byName.query).toMatchObject({
			min: expect.closeTo(0.12, 10),
			max: expect.closeTo(0.16, 10)
		});
		expect(() => shapleyDecomposition(a, { '': 0.95, query: 0.83 })).toThrow(
			/needs the accuracy with query, turns relaxed/
		);
	});
});
