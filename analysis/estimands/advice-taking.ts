import seedrandom from 'seedrandom';
import type { Episode } from '../io/export-reader.ts';
import { clusterBootstrap, type ClusterSample } from '../stats/cluster.ts';
import { mcnemar, wilson } from '../stats/proportions.ts';
import type { AdviceTaking, Interval } from '../result.ts';
import type { AnalysisContext } from './context.ts';

// Advice taking, the judge–advisor design (docs/analysis-estimands.md §8.1), when episodes record
// a decision before the advice (X0) as well as the final one (Y), on the disposition: per arm the
// switch table of initial and final correctness with McNemar's test, improvement P(Y | not X0) and
// harm P(not Y | X0) (Wilson); the change in accuracy against control's change (participant-
// cluster bootstrap); and in LLM arms, against the advice's correctness, relative positive reliance
// (RAIR), relative self-reliance (RSR), following wrong advice, and the weight of advice on the
// ordered scale (Yaniv 2004), truncated to [0, 1].

interface Judged {
	participant: string;
	x0: 0 | 1;
	y: 0 | 1;
	initial: string;
	final: string;
}

const share = (k: number, n: number) => ({ p: n ? k / n : null, ci: wilson(k, n), n });

function judgedEpisodes(episodes: readonly Episode[]): Judged[] {
	return episodes
		.filter(
			(e) =>
				e.initialDispositionCorrect !== null &&
				e.dispositionCorrect !== null &&
				e.initialDisposition !== null &&
				e.disposition !== null
		)
		.map((e) => ({
			participant: e.participant,
			x0: e.initialDispositionCorrect!,
			y: e.dispositionCorrect!,
			initial: e.initialDisposition!,
			final: e.disposition!
		}));
}

/** Per participant: [Σ (Y − X0), episodes], the clusters of the change's bootstrap. */
function changeClusters(rows: readonly Judged[]): ClusterSample {
	const by = new Map<string, [number, number]>();
	for (const r of rows) {
		const v = by.get(r.participant) ?? [0, 0];
		v[0] += r.y - r.x0;
		v[1] += 1;
		by.set(r.participant, v);
	}
	return {
		width: 2,
		clusters: [...by.values()].map(([d, n]) => [
			[0, d],
			[1, n]
		])
	};
}

/** The advice the assistant gave in each conversation of the arm (first coder: person, model, rule). */
function adviceOf(ctx: AnalysisContext, arm: string) {
	const rank = (c: string) => (c.startsWith('person:') ? 0 : c.startsWith('model:') ? 1 : 2);
	const best = new Map<string, { coder: string; disposition: string | null }>();
	for (const r of ctx.data.recommendations) {
		if (r.source !== 'conversation' || r.arm !== arm) continue;
		const key = `${r.participant}\u0000${r.episode}`;
		const current = best.get(key);
		if (!current || rank(r.coder) < rank(current.coder))
			best.set(key, { coder: r.coder, disposition: r.disposition });
	}
	return best;
}

function reliance(ctx: AnalysisContext, arm: string, episodes: readonly Episode[]) {
	const scale = ctx.data.study.dispositionScale;
	const level = new Map(scale.map((d, i) => [d, i]));
	const correctOf = new Map(ctx.data.study.scenarios.map((s) => [s.id, s.correctDisposition]));
	const advice = adviceOf(ctx, arm);
	let [rairN, rairK, rsrN, rsrK, wrongN, wrongK] = [0, 0, 0, 0, 0, 0];
	const woa: number[] = [];
	for (const e of episodes) {
		const a = advice.get(`${e.participant}\u0000${e.episode}`)?.disposition;
		if (!a || !e.initialDisposition || !e.disposition) continue;
		const adviceRight = a === correctOf.get(e.scenario);
		const initialRight = e.initialDisposition === correctOf.get(e.scenario);
		if (!initialRight && adviceRight) {
			rairN++;
			if (e.disposition === a) rairK++;
		}
		if (initialRight && !adviceRight) {
			rsrN++;
			if (e.disposition === e.initialDisposition) rsrK++;
		}
		if (!adviceRight) {
			wrongN++;
			if (e.disposition === a) wrongK++;
		}
		const [i0, f, ad] = [
			level.get(e.initialDisposition)!,
			level.get(e.disposition)!,
			level.get(a)!
		];
		if (ad !== i0) woa.push(Math.min(1, Math.max(0, (f - i0) / (ad - i0))));
	}
	const sorted = [...woa].sort((x, y) => x - y);
	const median =
		sorted.length === 0
			? null
			: sorted.length % 2
				? sorted[(sorted.length - 1) / 2]!
				: (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
	return {
		rair: share(rairK, rairN),
		rsr: share(rsrK, rsrN),
		following_wrong_advice: share(wrongK, wrongN),
		weight_of_advice: {
			mean: woa.length ? woa.reduce((s, x) => s + x, 0) / woa.length : null,
			median,
			n: woa.length
		}
	};
}

export function adviceTakingBlock(ctx: AnalysisContext): AdviceTaking[] {
	const control = ctx.control;
	const controlRows = control ? judgedEpisodes(ctx.episodesOfArm(control.id)) : [];
	return ctx.peopleArms.flatMap((a): AdviceTaking[] => {
		const episodes = ctx.episodesOfArm(a.id);
		const rows = judgedEpisodes(episodes);
		if (rows.length === 0) return [];
		const count = (x0: number, y: number) => rows.filter((r) => r.x0 === x0 && r.y === y).length;
		const [both, harmed, improved, neither] = [count(1, 1), count(1, 0), count(0, 1), count(0, 0)];
		const change = (r: readonly Judged[]) => r.reduce((s, x) => s + x.y - x.x0, 0) / r.length;
		let versusControl: AdviceTaking['change_vs_control'] = null;
		if (control && a.id !== control.id && controlRows.length > 0) {
			const { ci } = clusterBootstrap(
				[changeClusters(rows), changeClusters(controlRows)],
				([t, c]) => t![0]! / t![1]! - c![0]! / c![1]!,
				ctx.bootstrap,
				seedrandom(`${ctx.seed}:advice-change:${a.id}`)
			);
			versusControl = {
				diff: change(rows) - change(controlRows),
				ci: ci as Interval | null,
				method: `cluster-bootstrap-percentile (by participant, ${ctx.bootstrap} resamples)`
			};
		}
		return [
			{
				arm: a.id,
				n: rows.length,
				switch_table: { both_right: both, harmed, improved, both_wrong: neither },
				mcnemar_p: mcnemar(harmed, improved),
				initial_accuracy: share(both + harmed, rows.length),
				final_accuracy: share(both + improved, rows.length),
				improvement: share(improved, improved + neither),
				harm: share(harmed, both + harmed),
				change: change(rows),
				change_vs_control: versusControl,
				reliance: a.kind === 'llm_assisted' ? reliance(ctx, a.id, episodes) : null
			}
		];
	});
}
