import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyze } from '../../analysis/analyze.ts';
import type { StudyExport } from '../../analysis/io/export-reader.ts';
import { completedParticipants, episode, studyInfo } from '../helpers/study-export.ts';
import { markdownReport } from '../../analysis/report.ts';
import { mixedLogistic } from '../../analysis/stats/mixed.ts';
import { cumulativeLogit, ordinalClusterCovariance } from '../../analysis/stats/ordinal.ts';

// The proportional-odds model against R's ordinal::clm on simulated data with a participant
// effect (tests/fixtures/analysis/reference-ordinal.R): thresholds and coefficients within 1e-6,
// standard errors within 1e-5 relative, the cluster-robust ones as sandwich's HC1 formula gives.

const ref = JSON.parse(
	fs.readFileSync(new URL('../fixtures/analysis/reference-ordinal.json', import.meta.url), 'utf8')
) as {
	participant: number[];
	arm: number[];
	scenario: number[];
	level: number[];
	y: number[];
	glmer: {
		estimate: number[];
		se: number[];
		sd_participant: number;
		sd_scenario: number;
		logLik: number;
	};
	clm: { estimate: number[]; se: number[]; se_cluster: number[]; logLik: number };
};

const close = (actual: number, expected: number, rel: number) =>
	expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(expected)));

describe('the cumulative logit model', () => {
	const X = ref.arm.map((a, i) => [
		a === 1 ? 1 : 0,
		a === 2 ? 1 : 0,
		...[2, 3, 4, 5].map((s) => (ref.scenario[i] === s ? 1 : 0))
	]);
	const y = ref.level.map((l) => l - 1);
	const fit = cumulativeLogit(X, y, 5);

	it('matches ordinal::clm: thresholds, coefficients, standard errors and log-likelihood', () => {
		expect(fit.converged).toBe(true);
		const estimates = [...fit.thresholds, ...fit.coefficients];
		estimates.forEach((v, i) => close(v, ref.clm.estimate[i]!, 1e-6));
		fit.standardErrors.forEach((v, i) => close(v, ref.clm.se[i]!, 1e-5));
		close(fit.logLik, ref.clm.logLik, 1e-9);
	});

	it('gives the same fit from rows grouped by pattern with weights', () => {
		const patterns = new Map<string, { x: number[]; y: number; w: number }>();
		X.forEach((x, i) => {
			const key = `${x.join(',')}|${y[i]}`;
			const p = patterns.get(key) ?? { x, y: y[i]!, w: 0 };
			p.w++;
			patterns.set(key, p);
		});
		const rows = [...patterns.values()];
		const grouped = cumulativeLogit(
			rows.map((r) => r.x),
			rows.map((r) => r.y),
			5,
			rows.map((r) => r.w)
		);
		[...grouped.thresholds, ...grouped.coefficients].forEach((v, i) =>
			close(v, [...fit.thresholds, ...fit.coefficients][i]!, 1e-9)
		);
	});

	it('clusters by participant as sandwich::vcovCL(type = "HC1") would', () => {
		const robust = ordinalClusterCovariance(X, y, ref.participant.map(String), fit);
		expect(robust.clusters).toBe(300);
		robust.standardErrors.forEach((v, i) => close(v, ref.clm.se_cluster[i]!, 1e-5));
	});
});

describe('the ordinal block of the analysis', () => {
	it('reports exp(clm coefficient) per arm with the cluster-robust interval, from an export', () => {
		const scale = ['l1', 'l2', 'l3', 'l4', 'l5'];
		const data: StudyExport = {
			study: studyInfo({
				slug: 'ordinal',
				dispositionScale: scale,
				arms: ['0', '1', '2'].map((id) => ({
					id,
					kind: id === '0' ? 'control' : 'llm_assisted',
					label: id
				})),
				scenarios: ['1', '2', '3', '4', '5'].map((id) => ({ id, correctDisposition: 'l3' }))
			}),
			participants: completedParticipants([...new Set(ref.participant)].map(String), (p) =>
				String(ref.arm[ref.participant.indexOf(Number(p))])
			),
			episodes: ref.level.map((level, i) =>
				episode({
					participant: String(ref.participant[i]),
					episode: i % 2 === 0 ? 1 : 2,
					scenario: String(ref.scenario[i]),
					disposition: scale[level - 1]!,
					dispositionCorrect: level === 3 ? 1 : 0
				})
			),
			measures: [],
			recommendations: [],
			deviations: null
		};
		const o = analyze(data).ordinal!;
		expect(o.levels).toEqual(scale);
		expect(o.n).toBe(600);
		const [a1, a2] = o.effects;
		close(a1!.odds_ratio, Math.exp(ref.clm.estimate[4]!), 1e-6);
		close(a2!.odds_ratio, Math.exp(ref.clm.estimate[5]!), 1e-6);
		close(
			Math.log(a1!.cluster_robust!.ci[1]),
			ref.clm.estimate[4]! + 1.959963984540054 * ref.clm.se_cluster[4]!,
			1e-5
		);
		close(Math.log(a1!.ci[1]), ref.clm.estimate[4]! + 1.959963984540054 * ref.clm.se[4]!, 1e-5);
		expect(markdownReport(analyze(data))).toContain('odds ratio of a more urgent decision');
	});
});

describe('the mixed-effects logistic model', () => {
	it('matches lme4::glmer(nAGQ = 1) within the spec tolerances', () => {
		const ids = new Map<number, number>();
		const participant = Int32Array.from(
			ref.participant.map((p) => {
				if (!ids.has(p)) ids.set(p, ids.size);
				return ids.get(p)!;
			})
		);
		const fit = mixedLogistic({
			X: ref.arm.map((a) => [1, a === 1 ? 1 : 0, a === 2 ? 1 : 0]),
			y: ref.y as (0 | 1)[],
			participant,
			scenario: Int32Array.from(ref.scenario.map((s) => s - 1)),
			participants: ids.size,
			scenarios: 5
		});
		expect(fit.converged).toBe(true);
		// Spec §8.4: fixed effects within 1e-3, their SEs within 2%, the SDs within 5%.
		fit.coefficients.forEach((b, i) =>
			expect(Math.abs(b - ref.glmer.estimate[i]!)).toBeLessThan(1e-3)
		);
		fit.standardErrors.forEach((se, i) =>
			close(se, ref.glmer.se[i]!, 0.02 / Math.max(1, ref.glmer.se[i]!))
		);
		expect(Math.abs(fit.sdParticipant / ref.glmer.sd_participant - 1)).toBeLessThan(0.05);
		expect(Math.abs(fit.sdScenario / ref.glmer.sd_scenario - 1)).toBeLessThan(0.05);
		// The same Laplace likelihood, at an optimum at least as good as lme4's.
		expect(fit.logLik).toBeGreaterThanOrEqual(ref.glmer.logLik - 1e-6);
		expect(fit.logLik - ref.glmer.logLik).toBeLessThan(1e-3);
	});
});

describe('the mixed-model block of the analysis', () => {
	it('fits each outcome from an export, as glmer does, and the report shows it', () => {
		const scale = ['low', 'high'];
		const people = [...new Set(ref.participant)];
		const data: StudyExport = {
			study: studyInfo({
				slug: 'mixed',
				dispositionScale: scale,
				arms: ['0', '1', '2'].map((id) => ({
					id,
					kind: id === '0' ? 'control' : 'llm_assisted',
					label: id
				})),
				scenarios: ['1', '2', '3', '4', '5'].map((id) => ({ id, correctDisposition: 'high' })),
				plan: { bootstrap: 100, primary_model: 'mixed_logistic' }
			}),
			participants: completedParticipants(people.map(String), (p) =>
				String(ref.arm[ref.participant.indexOf(Number(p))])
			),
			episodes: ref.y.map((y, i) =>
				episode({
					participant: String(ref.participant[i]),
					episode: i % 2 === 0 ? 1 : 2,
					scenario: String(ref.scenario[i]),
					disposition: y ? 'high' : 'low',
					dispositionCorrect: y as 0 | 1
				})
			),
			measures: [],
			recommendations: [],
			deviations: null
		};
		const result = analyze(data);
		const m = result.mixed[0]!;
		expect(m).toMatchObject({
			outcome: 'disposition_correct',
			n: 600,
			participants: 300,
			scenarios: 5
		});
		expect(Math.abs(Math.log(m.effects[0]!.odds_ratio) - ref.glmer.estimate[1]!)).toBeLessThan(
			1e-3
		);
		expect(Math.abs(Math.log(m.effects[1]!.odds_ratio) - ref.glmer.estimate[2]!)).toBeLessThan(
			1e-3
		);
		expect(m.icc_participant).toBeCloseTo(
			ref.glmer.sd_participant ** 2 / (ref.glmer.sd_participant ** 2 + Math.PI ** 2 / 3),
			3
		);
		// The plan names it primary: it is reported among the preregistered analyses.
		const md = markdownReport(result);
		const heading = md.indexOf('### Mixed-effects logistic model (the plan’s primary model)');
		expect(heading).toBeGreaterThan(0);
		expect(heading).toBeLessThan(md.indexOf('## Exploratory analyses'));
	});
});
