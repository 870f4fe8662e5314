import { pnorm, zCritical } from '../stats/distributions.ts';
import { mixedLogistic } from '../stats/mixed.ts';
import type { Interval, MixedModel } from '../result.ts';
import { outcomeOf, type AnalysisContext, type BinaryOutcome } from './context.ts';

// The mixed-effects logistic model of each binary outcome (docs/analysis-estimands.md §8.4):
// Y ~ arm + (1 | participant) + (1 | scenario) by the Laplace approximation, as lme4::glmer with
// nAGQ = 1, when participants have several episodes and there are at least two scenarios (else
// a variance component is not identified). Odds ratios with Wald intervals, and each random
// effect's share of the latent variance σ²/(σ² + π²/3).

const LOGISTIC_VARIANCE = Math.PI ** 2 / 3;

export function mixedBlock(ctx: AnalysisContext, outcome: BinaryOutcome): MixedModel | null {
	const control = ctx.control;
	if (!control || !ctx.clustered) return null;
	const others = ctx.peopleArms.filter((a) => a.id !== control.id).map((a) => a.id);
	const rows = ctx.analysed.filter((e) => outcomeOf(e, outcome) !== null);
	const scenarios = [...new Set(rows.map((e) => e.scenario))].sort();
	if (others.length === 0 || scenarios.length < 2 || rows.length === 0) return null;
	const people = [...new Set(rows.map((e) => e.participant))];
	const personIndex = new Map(people.map((p, i) => [p, i]));
	const scenarioIndex = new Map(scenarios.map((s, i) => [s, i]));
	const fit = mixedLogistic({
		X: rows.map((e) => {
			const arm = ctx.armOf.get(e.participant);
			return [1, ...others.map((a) => (a === arm ? 1 : 0))];
		}),
		y: rows.map((e) => outcomeOf(e, outcome)!),
		participant: Int32Array.from(rows.map((e) => personIndex.get(e.participant)!)),
		scenario: Int32Array.from(rows.map((e) => scenarioIndex.get(e.scenario)!)),
		participants: people.length,
		scenarios: scenarios.length
	});
	if (!fit.converged) return null;
	const z = zCritical();
	const share = (sd: number) => (sd * sd) / (sd * sd + LOGISTIC_VARIANCE);
	return {
		outcome,
		n: rows.length,
		participants: people.length,
		scenarios: scenarios.length,
		effects: others.map((arm, i) => {
			const b = fit.coefficients[i + 1]!;
			const se = fit.standardErrors[i + 1]!;
			return {
				arm,
				vs: control.id,
				odds_ratio: Math.exp(b),
				ci: [Math.exp(b - z * se), Math.exp(b + z * se)] as Interval,
				p_value: 2 * pnorm(-Math.abs(b / se))
			};
		}),
		sd_participant: fit.sdParticipant,
		sd_scenario: fit.sdScenario,
		icc_participant: share(fit.sdParticipant),
		icc_scenario: share(fit.sdScenario),
		log_likelihood: fit.logLik,
		method:
			'mixed-effects logistic, (1 | participant) + (1 | scenario), Laplace (as lme4::glmer nAGQ = 1); Wald intervals'
	};
}
