import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { analyze } from '../../analysis/analyze.ts';
import type { Episode, Recommendation, StudyExport } from '../../analysis/io/export-reader.ts';
import { htmlReport, markdownReport } from '../../analysis/report.ts';
import { adviceCoverage } from '../helpers/coverage.ts';
import { studyInfo } from '../helpers/study-export.ts';

// Advice taking (spec §8.1) on a simulated judge–advisor study with known behaviour: initial
// decisions right 45% of the time; the assistant right 80%; participants who were wrong take right
// advice with probability 0.6 (RAIR), those who were right keep their decision against wrong
// advice with probability 0.7 (RSR); control participants rarely change their mind. The analysis
// must recover the rates within their intervals.

const SCALE = ['self_care', 'gp', 'urgent', 'emergency'];
const TRUTH = { initial: 0.45, advice: 0.8, rair: 0.6, rsr: 0.7 };

function study(people = 400): StudyExport {
	const random = seedrandom('advice');
	const wrong = (correct: string) => {
		const others = SCALE.filter((d) => d !== correct);
		return others[Math.floor(random() * others.length)]!;
	};
	const participants: StudyExport['participants'] = [];
	const episodes: Episode[] = [];
	const recommendations: Recommendation[] = [];
	for (let i = 0; i < people; i++) {
		const id = `p${i}`;
		const arm = i % 2 ? 'llm' : 'control';
		participants.push({ id, arm, stratum: '', status: 'completed', exclusionReason: '' });
		for (let episode = 1; episode <= 2; episode++) {
			const correct = SCALE[(i + episode) % SCALE.length]!;
			const initial = random() < TRUTH.initial ? correct : wrong(correct);
			let final = initial;
			if (arm === 'llm') {
				const advice = random() < TRUTH.advice ? correct : wrong(correct);
				recommendations.push({
					source: 'conversation',
					participant: id,
					episode,
					runId: null,
					arm,
					scenario: correct,
					coder: 'rule',
					disposition: advice,
					dispositionCorrect: advice === correct ? 1 : 0,
					conditionCorrect: null
				});
				if (initial !== correct && advice === correct)
					final = random() < TRUTH.rair ? advice : initial;
				else if (initial === correct && advice !== correct)
					final = random() < TRUTH.rsr ? initial : advice;
			} else if (random() < 0.05) final = wrong(initial === correct ? correct : initial);
			episodes.push({
				participant: id,
				episode,
				scenario: correct,
				disposition: final,
				dispositionCorrect: final === correct ? 1 : 0,
				conditionCorrect: null,
				submitted: true,
				userMessages: arm === 'llm' ? 1 : 0,
				initialDisposition: initial,
				initialDispositionCorrect: initial === correct ? 1 : 0
			});
		}
	}
	return {
		study: studyInfo({
			slug: 'advice',
			dispositionScale: SCALE,
			scenarios: SCALE.map((d) => ({ id: d, correctDisposition: d })),
			plan: { bootstrap: 400 }
		}),
		participants,
		episodes,
		measures: [],
		recommendations,
		deviations: null
	};
}

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
		// Control changes by a little (5% change their mind, away from right or to another wrong).
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
