import type { StudyExport } from './io/export-reader.ts';
import { covariateBalance } from './estimands/balance.ts';
import { adviceTakingBlock } from './estimands/advice-taking.ts';
import { caceBlock } from './estimands/cace.ts';
import { coderCorrectionBlock } from './estimands/coder-correction.ts';
import { consortFlow } from './estimands/consort.ts';
import {
	analysisContext,
	participantFacts,
	populationsCoincide,
	type AnalysisContext
} from './estimands/context.ts';
import { studyDecomposition } from './estimands/decomposition.ts';
import { deviationsBlock } from './estimands/deviations.ts';
import { integrityBlock } from './estimands/integrity.ts';
import { armEffects, armSummaries } from './estimands/effects.ts';
import { mediationBlock } from './estimands/mediation.ts';
import { mixedBlock } from './estimands/mixed.ts';
import { ordinalBlock } from './estimands/ordinal.ts';
import { powerBlock } from './estimands/power.ts';
import { proxyBlocks } from './estimands/proxies.ts';
import { triageBlock } from './estimands/triage.ts';
import type { AnalysisResult, Population } from './result.ts';

// The estimands of docs/analysis-estimands.md over a study export. Pure: data in, a plain object
// out; the only randomness is seedrandom with the plan's (or the caller's) seed. Each block comes
// from its module in estimands/; this file decides the population and puts the blocks together.

export interface AnalyzeOptions {
	seed?: number;
	/** Overrides the plan's population (a departure from the plan, and listed as one). */
	population?: Population;
	/**
	 * Fit the mixed-effects model (default true). It is the costliest estimand; simulations that
	 * study the others (tests/helpers/coverage.ts) leave it out.
	 */
	mixedModel?: boolean;
}

const OTHER: Record<Population, Population> = {
	intention_to_treat: 'per_protocol',
	per_protocol: 'intention_to_treat'
};

/** Every way this run departs from the plan it was given, in words a reader of the report can check. */
function departuresFrom(
	data: StudyExport,
	ctx: AnalysisContext,
	options: AnalyzeOptions
): string[] {
	const { plan } = data.study;
	const out: string[] = [];
	if (data.study.planDefaults.length > 0)
		out.push(
			`The export's analysis plan does not give ${data.study.planDefaults.join(', ')}: the defaults were used.`
		);
	if (options.seed !== undefined && options.seed !== plan.seed)
		out.push(`Seed ${options.seed} was used instead of the plan's ${plan.seed}.`);
	if (options.population !== undefined && options.population !== plan.population)
		out.push(
			`The primary population is ${options.population.replace(/_/g, ' ')}, not the plan's ${plan.population.replace(/_/g, ' ')}.`
		);
	for (const o of data.study.outcomes.filter((x) => x.role === 'primary'))
		if (!(ctx.outcomes as readonly string[]).includes(o.name))
			out.push(`The primary outcome ${o.name} has no analysed value.`);
	return out;
}

/** The analysis of a study export, as the JSON object of docs/analysis-estimands.md §7. */
export function analyze(data: StudyExport, options: AnalyzeOptions = {}): AnalysisResult {
	const { study } = data;
	const seed = options.seed ?? study.plan.seed;
	const population = options.population ?? study.plan.population;
	const facts = participantFacts(data);
	const ctx = analysisContext(data, population, seed, facts);
	// The other population, only when it holds other people (with no attention check failed and
	// nobody excluded after randomization, both are the same analysis).
	const other = populationsCoincide(data, facts)
		? null
		: analysisContext(data, OTHER[population], seed, facts);
	const arms = armSummaries(ctx);
	const mediation = study.arms
		.filter((a) => a.kind === 'llm_assisted')
		.flatMap((a) => ctx.outcomes.map((o) => mediationBlock(ctx, a.id, o)));
	return {
		format: 'bedside-analysis/1',
		seed,
		study: { slug: study.slug, preregistration_sha256: study.preregistrationSha256 },
		plan: {
			alpha: study.plan.alpha,
			test: study.plan.test,
			bootstrap: study.plan.bootstrap,
			seed: study.plan.seed,
			population: study.plan.population,
			primary_model: study.plan.primary_model,
			used_assistant_min_messages: study.plan.used_assistant_min_messages,
			equivalence_margins: study.plan.equivalence_margins
		},
		population,
		declared_outcomes: study.outcomes,
		consort: consortFlow(
			data,
			population,
			ctx.peopleArms.map((a) => a.id),
			facts
		),
		arms,
		effects: armEffects(ctx),
		sensitivity: other
			? { population: other.population, arms: armSummaries(other), effects: armEffects(other) }
			: null,
		triage: triageBlock(ctx),
		ordinal: ordinalBlock(ctx),
		mixed:
			options.mixedModel === false
				? []
				: ctx.outcomes.map((o) => mixedBlock(ctx, o)).filter((m) => m !== null),
		mediation,
		advice_taking: adviceTakingBlock(ctx),
		integrity: integrityBlock(ctx),
		cace: study.arms
			.filter((a) => a.kind === 'llm_assisted')
			.flatMap((a) => ctx.outcomes.map((o) => caceBlock(ctx, a.id, o)))
			.filter((c) => c !== null),
		coder_correction: study.arms
			.filter((a) => a.kind === 'llm_assisted')
			.flatMap((a) => ctx.outcomes.map((o) => coderCorrectionBlock(ctx, a.id, o)))
			.filter((c) => c !== null),
		proxies: proxyBlocks(ctx),
		decomposition: studyDecomposition(
			mediation,
			study.outcomes.find((o) => o.role === 'primary')?.name ?? ctx.outcomes[0]
		),
		power: powerBlock(ctx, arms),
		clustered_by_participant: ctx.clustered,
		balance: covariateBalance(
			data.participants,
			data.measures,
			ctx.peopleArms.map((a) => a.id),
			ctx.control?.id
		),
		deviations: deviationsBlock(data),
		departures: departuresFrom(data, ctx, options)
	};
}
