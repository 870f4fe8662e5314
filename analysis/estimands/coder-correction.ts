import { cohenKappaNominal } from '../stats/agreement.ts';
import { ppiMean } from '../stats/ppi.ts';
import { newcombePaired, wilson } from '../stats/proportions.ts';
import type { CoderCorrection } from '../result.ts';
import { outcomeOf, type AnalysisContext, type Binary, type BinaryOutcome } from './context.ts';

// Estimates that rest on a model's coding of the conversations, corrected by the random sample of
// conversations people coded (docs/analysis-estimands.md §8.6): the share of correct advice in
// conversation and the mediation gap, each naive (the model's codes alone) and prediction-powered
// (the model's mean plus its average error against people on the sample). Beside them, how well
// the model agrees with people, against how well people agree with each other.

interface Coded {
	model: Binary;
	/** First person coder's code (the PPI's gold standard), null when no person coded it. */
	person: Binary | null;
	/** Every person's code, for the agreement comparison. */
	people: Binary[];
	Y: Binary;
}

/**
 * Leave one coder out, as HealthBench's meta-evaluation does: on conversations at least two people
 * coded, each person's code is compared with the model's and with each other person's. Kappa over
 * the (model, person) pairs against kappa over the (other person, person) pairs says whether the
 * model agrees with people as well as people agree with each other.
 */
function leaveOneCoderOut(rows: readonly Coded[]) {
	const model: [string, string][] = [];
	const people: [string, string][] = [];
	for (const r of rows) {
		if (r.people.length < 2) continue;
		r.people.forEach((held, i) => {
			model.push([String(r.model), String(held)]);
			r.people.forEach((other, j) => {
				if (j !== i) people.push([String(other), String(held)]);
			});
		});
	}
	return {
		model_vs_people: { kappa: cohenKappaNominal(model)?.kappa ?? null, n: model.length },
		people_vs_people: { kappa: cohenKappaNominal(people)?.kappa ?? null, n: people.length }
	};
}

const rowsWithTwo = (rows: readonly Coded[]) => rows.some((r) => r.people.length >= 2);

export function coderCorrectionBlock(
	ctx: AnalysisContext,
	arm: string,
	outcome: BinaryOutcome
): CoderCorrection | null {
	const codings = new Map<string, { coder: string; value: Binary }[]>();
	for (const r of ctx.data.recommendations) {
		if (r.source !== 'conversation' || r.arm !== arm) continue;
		const value = outcomeOf(r, outcome);
		if (value === null) continue;
		const key = `${r.participant}\u0000${r.episode}`;
		const list = codings.get(key) ?? [];
		list.push({ coder: r.coder, value });
		codings.set(key, list);
	}
	const rows: Coded[] = [];
	let modelCoder: string | null = null;
	for (const e of ctx.episodesOfArm(arm)) {
		const Y = outcomeOf(e, outcome);
		const list = (codings.get(`${e.participant}\u0000${e.episode}`) ?? []).sort((a, b) =>
			a.coder.localeCompare(b.coder)
		);
		const model = list.find((c) => c.coder.startsWith('model:'));
		if (Y === null || !model) continue;
		modelCoder ??= model.coder;
		const people = list.filter((c) => c.coder.startsWith('person:'));
		rows.push({
			model: model.value,
			person: people[0]?.value ?? null,
			people: people.map((p) => p.value),
			Y
		});
	}
	const labelled = rows.filter((r) => r.person !== null);
	if (rows.length < 2 || labelled.length < 2) return null;
	const L = ppiMean(
		rows.map((r) => r.model),
		labelled.map((r) => ({ f: r.model, h: r.person! }))
	)!;
	const gap = ppiMean(
		rows.map((r) => r.model - r.Y),
		labelled.map((r) => ({ f: r.model - r.Y, h: r.person! - r.Y }))
	)!;
	const count = (f: (r: Coded) => boolean) => rows.filter(f).length;
	const naiveGap = newcombePaired(
		count((r) => r.model === 1 && r.Y === 1),
		count((r) => r.model === 1 && r.Y === 0),
		count((r) => r.model === 0 && r.Y === 1),
		count((r) => r.model === 0 && r.Y === 0)
	);
	const modelSuccesses = count((r) => r.model === 1);
	return {
		arm,
		outcome,
		model_coder: modelCoder!,
		conversations: rows.length,
		coded_by_people: labelled.length,
		llm_in_conversation: {
			naive: { p: L.naive, ci: wilson(modelSuccesses, rows.length) },
			corrected: { p: L.estimate, ci: L.ci, se: L.se }
		},
		gap: {
			naive: { diff: naiveGap.diff, ci: naiveGap.ci },
			corrected: { diff: gap.estimate, ci: gap.ci, se: gap.se }
		},
		agreement: {
			// With one person per conversation, the model is compared with that person; people with
			// each other only where two coded the same conversation.
			model_vs_people: rowsWithTwo(rows)
				? leaveOneCoderOut(rows).model_vs_people
				: {
						kappa:
							cohenKappaNominal(labelled.map((r) => [String(r.model), String(r.person)]))?.kappa ??
							null,
						n: labelled.length
					},
			people_vs_people: leaveOneCoderOut(rows).people_vs_people
		},
		method:
			'prediction-powered inference (Angelopoulos et al. 2023): model mean + mean(person − model) on the people-coded sample, normal interval; naive: the model codes alone'
	};
}
