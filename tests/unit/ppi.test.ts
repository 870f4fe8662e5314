import fs from 'node:fs';
import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { analyze } from '../../analysis/analyze.ts';
import { markdownReport } from '../../analysis/report.ts';
import { ppiMean } from '../../analysis/stats/ppi.ts';
import { CORRELATED, simulateStudy } from '../helpers/coverage.ts';

// Prediction-powered inference (spec §8.6): the published formula as R computes it, and a coder
// of known error rates: the naive (model-only) interval misses the truth, the corrected one
// covers it in 95 ± 2% of 2,000 simulated studies.

const ref = JSON.parse(
	fs.readFileSync(new URL('../fixtures/analysis/reference-ppi.json', import.meta.url), 'utf8')
) as { f: number[]; labelled: number[]; h: number[]; estimate: number; se: number; ci: number[] };

describe('prediction-powered inference of a mean', () => {
	it('matches the formula computed in R', () => {
		const r = ppiMean(
			ref.f,
			ref.labelled.map((i, k) => ({ f: ref.f[i]!, h: ref.h[k]! }))
		)!;
		expect(r.estimate).toBeCloseTo(ref.estimate, 12);
		expect(r.se).toBeCloseTo(ref.se, 12);
		expect(r.ci[0]).toBeCloseTo(ref.ci[0]!, 12);
		expect(r.ci[1]).toBeCloseTo(ref.ci[1]!, 12);
	});

	it('covers the truth in 95 ± 2% of 2,000 studies with a biased coder; the naive mean does not', () => {
		const random = seedrandom('ppi-coverage');
		const truth = 0.7;
		let covered = 0;
		let naiveCovered = 0;
		const studies = 2000;
		for (let k = 0; k < studies; k++) {
			const N = 400;
			const gold = Array.from({ length: N }, () => (random() < truth ? 1 : 0));
			// The coder misses 20% of the 1s and calls 10% of the 0s 1: its mean is about 0.59.
			const f = gold.map((g) => (g === 1 ? (random() < 0.8 ? 1 : 0) : random() < 0.1 ? 1 : 0));
			const sample = gold.map((_, i) => i).filter(() => random() < 0.15);
			const r = ppiMean(
				f,
				sample.map((i) => ({ f: f[i]!, h: gold[i]! }))
			)!;
			if (r.ci[0] <= truth && truth <= r.ci[1]) covered++;
			const se = Math.sqrt((r.naive * (1 - r.naive)) / N);
			if (Math.abs(r.naive - truth) <= 1.96 * se) naiveCovered++;
		}
		expect(covered / studies).toBeGreaterThanOrEqual(0.93);
		expect(covered / studies).toBeLessThanOrEqual(0.97);
		expect(naiveCovered / studies).toBeLessThan(0.05);
	});
});

describe('the coder-correction block of the analysis', () => {
	it('corrects the model-coded share of correct advice and the gap by the people-coded sample', () => {
		const { data } = simulateStudy(
			{ ...CORRELATED, peoplePerArm: 150, episodes: 1 },
			seedrandom('ppi')
		);
		// A model coder that calls wrong advice right half the time; people coded one in five.
		const rule = data.recommendations.filter((r) => r.source === 'conversation');
		const truth = rule.reduce((n, r) => n + r.dispositionCorrect!, 0) / rule.length;
		const random = seedrandom('coders');
		const extra = data.recommendations
			.filter((r) => r.source === 'conversation')
			.flatMap((r) => {
				const model = r.dispositionCorrect === 0 && random() < 0.5 ? 1 : r.dispositionCorrect;
				const rows = [{ ...r, coder: 'model:grader', dispositionCorrect: model }];
				if (random() < 0.2) {
					rows.push({ ...r, coder: 'person:a' });
					// Half of those a second person coded too, agreeing with the first.
					if (random() < 0.5) rows.push({ ...r, coder: 'person:b' });
				}
				return rows;
			});
		data.recommendations.push(...extra);
		const result = analyze(data, { mixedModel: false });
		const c = result.coder_correction[0]!;
		expect(c).toMatchObject({
			arm: 'llm',
			outcome: 'disposition_correct',
			model_coder: 'model:grader'
		});
		expect(c.coded_by_people).toBeGreaterThan(20);
		// The rule coder's share is the truth here: the naive model share is biased upwards (by about
		// half the wrong advice, 12 pp), the corrected one lands near the truth.
		expect(c.llm_in_conversation.naive.p - truth).toBeGreaterThan(0.08);
		expect(Math.abs(c.llm_in_conversation.corrected.p - truth)).toBeLessThan(0.08);
		// Leave one coder out: people agree perfectly with each other, the model does not.
		expect(c.agreement.people_vs_people.kappa).toBe(1);
		expect(c.agreement.people_vs_people.n).toBe(c.agreement.model_vs_people.n);
		expect(c.agreement.model_vs_people.kappa!).toBeLessThan(0.9);
		expect(markdownReport(result)).toContain('### Coded by a model, corrected by people');
	});
});
