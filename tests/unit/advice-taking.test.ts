import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { analyze } from '../../analysis/analyze.ts';
import { htmlReport, markdownReport } from '../../analysis/report.ts';
import { ADVICE, adviceCoverage, simulateAdviceStudy } from '../helpers/coverage.ts';

// Advice taking (spec §8.1) on a simulated judge–advisor study with known behaviour: initial
// decisions right 45% of the time; the assistant right 80%; participants who were wrong take right
// advice with probability 0.6 (RAIR), those who were right keep their decision against wrong
// advice with probability 0.7 (RSR); control participants keep their first answer. The analysis
// must recover the rates within their intervals.

const TRUTH = { ...ADVICE, people: 400, uses: 1 };
const study = () => simulateAdviceStudy(seedrandom('advice'), TRUTH);

const within = (truth: number, x: { ci: [number, number] | null | undefined }) => {
	expect(x.ci![0]).toBeLessThanOrEqual(truth);
	expect(x.ci![1]).toBeGreaterThanOrEqual(truth);
};

describe('advice taking', () => {
	const result = analyze(study(), { mixedModel: false });
	const llm = result.advice_taking.find((a) => a.arm === 'llm')!;
	const control = result.advice_taking.find((a) => a.arm === 'control')!;

	it('adds up the switch table and recovers initial accuracy, improvement and harm', () => {
		const t = llm.switch_table;
		expect(t.both_right + t.harmed + t.improved + t.both_wrong).toBe(llm.n);
		expect(llm.n).toBe(400);
		within(TRUTH.initial, llm.initial_accuracy);
		within(TRUTH.advice * TRUTH.rair, llm.improvement);
		within((1 - TRUTH.advice) * (1 - TRUTH.rsr), llm.harm);
		expect(llm.mcnemar_p!).toBeLessThan(0.001);
		expect(control.reliance).toBeNull();
	});

	it('recovers relative positive reliance and relative self-reliance', () => {
		within(TRUTH.rair, llm.reliance!.rair);
		within(TRUTH.rsr, llm.reliance!.rsr);
		const woa = llm.reliance!.weight_of_advice;
		expect(woa.mean!).toBeGreaterThan(0);
		expect(woa.mean!).toBeLessThan(1);
	});

	it("compares the arm's change in accuracy with control's, clustered by participant", () => {
		const c = llm.change_vs_control!;
		expect(c.diff).toBeCloseTo(llm.change - control.change, 12);
		const truthChange =
			TRUTH.advice * TRUTH.rair * (1 - TRUTH.initial) -
			(1 - TRUTH.advice) * (1 - TRUTH.rsr) * TRUTH.initial;
		// Control keeps its first answer: the difference is the LLM arm's own change.
		expect(c.ci![0]).toBeLessThan(truthChange + 0.05);
		expect(c.ci![1]).toBeGreaterThan(truthChange - 0.05);
		expect(c.method).toMatch(/cluster-bootstrap/);
	});

	it('is reported with a chart of where decisions went', () => {
		expect(markdownReport(result)).toContain('### How advice was taken');
		expect(htmlReport(result)).toContain('<title>Initial to final decision, by arm</title>');
	});
});

describe('the coverage of the reliance rates and of the CACE', () => {
	it('is about 95% over 300 simulated judge–advisor studies (1,000 in npm run bench -- coverage)', () => {
		const { studies, covered } = adviceCoverage(300, 'unit-advice-coverage');
		for (const [name, n] of Object.entries(covered)) {
			expect(n / studies, name).toBeGreaterThanOrEqual(0.91);
			expect(n / studies, name).toBeLessThanOrEqual(0.99);
		}
		expect(Object.keys(covered)).toHaveLength(3);
	});
});
