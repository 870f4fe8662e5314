import type { Episode, Recommendation } from '../io/export-reader.ts';
import { cohenKappaNominal } from '../stats/agreement.ts';
import type { ClusterSample } from '../stats/cluster.ts';
import { standardizedAccuracy } from '../stats/standardized.ts';
import { outcomeOf, type AnalysisContext, type Binary, type BinaryOutcome } from './context.ts';

// What the mediation block is computed from: each analysed conversation paired with what the
// assistant recommended in it, the model alone standardized to the arm's scenario mix, and the
// per-participant sums its cluster bootstrap resamples.

/** Coder precedence when several coded one conversation: a person, then a model, then the rule. */
function coderRank(coder: string): number {
	return coder.startsWith('person:') ? 0 : coder.startsWith('model:') ? 1 : 2;
}

export interface Pair {
	participant: string;
	L: Binary;
	Y: Binary;
	U: Binary | null;
}

/** Each analysed conversation of the arm with what the assistant recommended (first coder). */
export function codedConversations(
	ctx: AnalysisContext,
	arm: string,
	outcome: BinaryOutcome,
	armEpisodes: readonly Episode[]
) {
	const byConversation = new Map<string, Recommendation[]>();
	for (const r of ctx.data.recommendations) {
		if (r.source !== 'conversation' || r.arm !== arm) continue;
		const key = `${r.participant}\u0000${r.episode}`;
		let list = byConversation.get(key);
		if (!list) byConversation.set(key, (list = []));
		list.push(r);
	}
	const pairs: Pair[] = [];
	const kappaPairs: [string, string][] = [];
	for (const e of armEpisodes) {
		const codings = (byConversation.get(`${e.participant}\u0000${e.episode}`) ?? [])
			.slice()
			.sort((x, y) => coderRank(x.coder) - coderRank(y.coder) || x.coder.localeCompare(y.coder));
		const chosen = codings.find((c) => outcomeOf(c, outcome) !== null);
		const Y = outcomeOf(e, outcome);
		if (!chosen || Y === null) continue;
		const coded = codings.map((c) => outcomeOf(c, outcome)).filter((v) => v !== null);
		if (coded.length >= 2) kappaPairs.push([String(coded[0]), String(coded[1])]);
		const U =
			chosen.disposition !== null && e.disposition !== null
				? ((chosen.disposition === e.disposition ? 1 : 0) as Binary)
				: null;
		pairs.push({ participant: e.participant, L: outcomeOf(chosen, outcome)!, Y, U });
	}
	return { pairs, kappa: cohenKappaNominal(kappaPairs)?.kappa ?? null };
}

/** The model alone (benchmark runs), standardized to the arm's scenario mix. */
export function llmAlone(
	ctx: AnalysisContext,
	arm: string,
	outcome: BinaryOutcome,
	armEpisodes: readonly Episode[]
) {
	const mix = new Map<string, number>();
	for (const e of armEpisodes) mix.set(e.scenario, (mix.get(e.scenario) ?? 0) + 1);
	const runs = new Map<string, Binary[]>();
	for (const r of ctx.data.recommendations) {
		if (r.source !== 'benchmark' || r.arm !== arm) continue;
		const value = outcomeOf(r, outcome);
		if (value === null) continue;
		const list = runs.get(r.scenario);
		if (list) list.push(value);
		else runs.set(r.scenario, [value]);
	}
	const standardized = standardizedAccuracy(mix, runs);
	return standardized
		? {
				...standardized,
				method: 'standardized-to-arm-scenario-mix, mover of wilson intervals',
				scenarios_without_runs: [...mix.keys()].filter((s) => !runs.has(s))
			}
		: null;
}

/** Per participant, the sums a cluster bootstrap of the pairs needs: [b, c, n, ΣY, ΣL]. */
export function pairClusters(pairs: readonly Pair[]): ClusterSample {
	const by = new Map<string, number[]>();
	for (const p of pairs) {
		const v = by.get(p.participant) ?? [0, 0, 0, 0, 0];
		if (p.L === 1 && p.Y === 0) v[0]!++;
		if (p.L === 0 && p.Y === 1) v[1]!++;
		v[2]!++;
		v[3]! += p.Y;
		v[4]! += p.L;
		by.set(p.participant, v);
	}
	return {
		width: 5,
		clusters: [...by.values()].map((v) =>
			v.map((x, i) => [i, x] as const).filter(([, x]) => x !== 0)
		)
	};
}
