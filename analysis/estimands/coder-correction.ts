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
	person: Binary | null;
	secondPerson: Binary | null;
	Y: Binary;
}

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
			secondPerson: people[1]?.value ?? null,
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
	const twice = rows.filter((r) => r.person !== null && r.secondPerson !== null);
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
			model_vs_people: {
				kappa:
					cohenKappaNominal(labelled.map((r) => [String(r.model), String(r.person)]))?.kappa ??
					null,
				n: labelled.length
			},
			people_vs_people: {
				kappa:
					twice.length > 0
						? (cohenKappaNominal(twice.map((r) => [String(r.person), String(r.secondPerson)]))
								?.kappa ?? null)
						: null,
				n: twice.length
			}
		},
		method:
			'prediction-powered inference (Angelopoulos et al. 2023): model mean + mean(person − model) on the people-coded sample, normal interval; naive: the model codes alone'
	};
}
