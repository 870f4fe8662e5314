import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyze } from '../../analysis/analyze.ts';
import type { StudyExport } from '../../analysis/io/export-reader.ts';
import { completedParticipants, episode, studyInfo } from '../helpers/study-export.ts';
import { markdownReport } from '../../analysis/report.ts';
import { twoStageLeastSquares } from '../../analysis/stats/instrumental.ts';
import { equivalenceTwoProportions } from '../../analysis/stats/proportions.ts';

// The effect of actually using the assistant (2SLS with participant-cluster-robust SEs) and the
// equivalence test against R on a generated study (tests/fixtures/analysis/reference-cace.R).

const ref = JSON.parse(
	fs.readFileSync(new URL('../fixtures/analysis/reference-cace.json', import.meta.url), 'utf8')
) as {
	participant: number[];
	Z: number[];
	D: number[];
	Y: number[];
	ivreg: { estimate: number[]; se_cluster: number[] };
	tost: {
		x1: number;
		n1: number;
		x0: number;
		n0: number;
		margin: number;
		p_lower: number;
		p_upper: number;
		p: number;
	};
};

const close = (actual: number, expected: number, rel = 1e-6) =>
	expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.max(1e-3, Math.abs(expected)));

describe('two-stage least squares', () => {
	it('matches AER::ivreg with sandwich::vcovCL(type = "HC1") by participant', () => {
		const fit = twoStageLeastSquares(ref.Y, ref.D, ref.Z, ref.participant.map(String))!;
		fit.coefficients.forEach((b, i) => close(b, ref.ivreg.estimate[i]!));
		fit.standardErrors.forEach((se, i) => close(se, ref.ivreg.se_cluster[i]!));
		expect(fit.clusters).toBe(200);
	});

	it('is the Wald ratio ITT(Y) / ITT(D) with a binary instrument', () => {
		const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
		const by = (v: number[], z: number) => mean(v.filter((_, i) => ref.Z[i] === z));
		const wald = (by(ref.Y, 1) - by(ref.Y, 0)) / (by(ref.D, 1) - by(ref.D, 0));
		close(
			twoStageLeastSquares(ref.Y, ref.D, ref.Z, ref.participant.map(String))!.coefficients[1],
			wald,
			1e-12
		);
	});
});

describe('equivalence of two proportions (TOST)', () => {
	it('gives the one-sided p-values of the unpooled z statistics as the formula in R', () => {
		const t = ref.tost;
		const r = equivalenceTwoProportions(t.x1, t.n1, t.x0, t.n0, t.margin);
		close(r.p_lower, t.p_lower);
		close(r.p_upper, t.p_upper);
		close(r.p_tost, t.p);
		// Not shown here: the 90% interval reaches beyond the margin.
		expect(r.equivalent).toBe(false);
		expect(r.ci_90[1]).toBeGreaterThan(t.margin);
	});

	it('shows equivalence when the 90% interval lies inside the margin', () => {
		const r = equivalenceTwoProportions(500, 1000, 505, 1000, 0.06);
		expect(r.equivalent).toBe(true);
		expect(r.p_tost).toBeLessThan(0.05);
		expect(r.non_inferior).toBe(true);
	});
});

describe('the CACE and equivalence in the analysis of an export', () => {
	/** The R study as an export: control "c", LLM arm "llm"; Y is disposition_correct. */
	function exportOf(margin?: number): StudyExport {
		const people = [...new Set(ref.participant)];
		return {
			study: studyInfo({
				slug: 'cace',
				preregistrationSha256: 'ab'.repeat(32),
				arms: [
					{ id: 'c', kind: 'control', label: 'c' },
					{ id: 'llm', kind: 'llm_assisted', label: 'llm' }
				],
				plan: {
					bootstrap: 100,
					equivalence_margins: margin === undefined ? {} : { disposition_correct: margin }
				}
			}),
			participants: completedParticipants(people.map(String), (p) =>
				ref.Z[ref.participant.indexOf(Number(p))] === 1 ? 'llm' : 'c'
			),
			episodes: ref.Y.map((y, i) =>
				episode({
					participant: String(ref.participant[i]),
					episode: i % 2 === 0 ? 1 : 2,
					scenario: 's',
					disposition: y ? 'high' : 'low',
					dispositionCorrect: y as 0 | 1,
					// Messages sent: none in control, none when unused, 1–3 when used.
					userMessages: ref.D[i] === 1 ? 1 + (i % 3) : 0
				})
			),
			measures: [],
			recommendations: [],
			deviations: null
		};
	}

	it('reports the CACE as ivreg does, beside the ITT effect', () => {
		const result = analyze(exportOf(), { mixedModel: false });
		const c = result.cace[0]!;
		close(c.cace.estimate, ref.ivreg.estimate[1]!);
		close(c.cace.se, ref.ivreg.se_cluster[1]!);
		expect(c).toMatchObject({ arm: 'llm', vs: 'c', n: 400, clusters: 200 });
		close(c.itt, result.effects[0]!.diff, 1e-12);
		expect(markdownReport(result)).toContain('### The effect of actually using the assistant');
	});

	it('never reads an inconclusive difference as "no difference"; equivalence only when shown', () => {
		// The R study: the arm is better (its interval excludes 0), and not equivalent within ±10 pp.
		const better = analyze(exportOf(0.1), { mixedModel: false }).effects[0]!;
		close(better.equivalence!.p_tost, ref.tost.p);
		expect(better.reading).toBe('higher');
		expect(better.equivalence!.equivalent).toBe(false);
		// Both arms right half the time: the difference is inconclusive within a narrow margin…
		const even = (margin: number) => {
			const data = exportOf(margin);
			data.episodes.forEach((e, i) => {
				e.dispositionCorrect = (i % 2) as 0 | 1;
				e.disposition = i % 2 ? 'high' : 'low';
			});
			return analyze(data, { mixedModel: false });
		};
		const narrow = even(0.02);
		expect(narrow.effects[0]!.reading).toBe('inconclusive');
		const md = markdownReport(narrow);
		expect(md).toMatch(/inconclusive: equivalence within ±2\.0 pp not shown/);
		expect(md).not.toMatch(/\bno (difference|better)\b/i);
		// …and equivalent within a margin its 90% interval lies inside.
		const wide = even(0.2).effects[0]!;
		expect(wide.reading).toBe('equivalent');
		expect(wide.equivalence!.ci_90[0]).toBeGreaterThan(-0.2);
		expect(wide.equivalence!.ci_90[1]).toBeLessThan(0.2);
		expect(markdownReport(even(0.2))).toMatch(/equivalent within ±20\.0 pp \(90% CI/);
	});
});
