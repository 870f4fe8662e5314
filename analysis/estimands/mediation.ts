import seedrandom from 'seedrandom';
import { clusterBootstrap } from '../stats/cluster.ts';
import { mcnemar, newcombePaired } from '../stats/proportions.ts';
import { moverDifference } from '../stats/standardized.ts';
import type { Interval, Mediation } from '../result.ts';
import { proportion, type AnalysisContext, type Binary, type BinaryOutcome } from './context.ts';
import { codedConversations, llmAlone, pairClusters } from './mediation-inputs.ts';

// Decision mediation per LLM arm and outcome (docs/analysis-estimands.md §2): the model alone, the
// model in the conversations, the people it advised, the paired gap between the last two, the gap
// from the benchmark to the users, uptake, and where the gap comes from. With several episodes per
// participant, the gap and the benchmark-to-user gap carry participant-cluster intervals too.

export function mediationBlock(
	ctx: AnalysisContext,
	arm: string,
	outcome: BinaryOutcome
): Mediation {
	const armEpisodes = ctx.episodesOfArm(arm);
	const { pairs, kappa } = codedConversations(ctx, arm, outcome, armEpisodes);
	const alone = llmAlone(ctx, arm, outcome, armEpisodes);
	const n = pairs.length;
	const a = pairs.filter((p) => p.L === 1 && p.Y === 1).length;
	const b = pairs.filter((p) => p.L === 1 && p.Y === 0).length;
	const c = pairs.filter((p) => p.L === 0 && p.Y === 1).length;
	const d = n - a - b - c;
	const L = proportion(pairs.map((p) => p.L));
	const Y = proportion(pairs.map((p) => p.Y));
	const gap = n > 0 ? newcombePaired(a, b, c, d) : null;
	const pL = n ? (a + b) / n : null;
	const yGivenL1 = a + b ? a / (a + b) : null;
	const yGivenL0 = c + d ? c / (c + d) : null;
	// Its interval is built for the standardized estimate (MOVER from the standardized interval and
	// the users' interval; the two samples are independent), not from the raw counts of runs.
	const benchToUser = alone && Y.p !== null ? moverDifference(alone, { p: Y.p, ci: Y.ci }) : null;

	// Cluster variants: participants resampled; the gap is Σ(b − c)/Σn, the users' accuracy ΣY/Σn,
	// whose cluster interval MOVER combines with the standardized model-alone interval.
	const clusters = ctx.clustered && n > 0 ? pairClusters(pairs) : null;
	const method = `cluster-bootstrap-percentile (by participant, ${ctx.bootstrap} resamples)`;
	const cluster = (name: string, statistic: (t: Float64Array) => number) =>
		clusters
			? clusterBootstrap(
					[clusters],
					([t]) => statistic(t!),
					ctx.bootstrap,
					seedrandom(`${ctx.seed}:mediation-${name}:${arm}:${outcome}`)
				).ci
			: null;
	const gapCluster = cluster('gap', (t) => (t[0]! - t[1]!) / t[2]!);
	const usersCluster = cluster('users', (t) => t[3]! / t[2]!);
	const conversationsCluster = cluster('llm', (t) => t[4]! / t[2]!);
	const clusterOf = (ci: Interval | null) =>
		clusters ? { ci, clusters: clusters.clusters.length, method } : null;
	const benchCluster =
		alone && Y.p !== null && usersCluster
			? moverDifference(alone, { p: Y.p, ci: usersCluster })
			: null;
	const uptake = pairs.map((p) => p.U).filter((u): u is Binary => u !== null);
	return {
		arm,
		outcome,
		llm_alone: alone,
		llm_in_conversation: {
			p: L.p,
			ci: L.ci,
			n,
			cluster_bootstrap: clusterOf(conversationsCluster)
		},
		users: { p: Y.p, ci: Y.ci, n, cluster_bootstrap: clusterOf(usersCluster) },
		gap: gap
			? {
					diff: gap.diff,
					ci: gap.ci,
					p_value: mcnemar(b, c),
					method: 'newcombe-paired-score',
					table: { a, b, c, d },
					cluster_bootstrap: clusterOf(gapCluster)
				}
			: null,
		benchmark_to_user_gap: benchToUser
			? {
					diff: benchToUser.diff,
					ci: benchToUser.ci,
					method: 'mover (standardized llm-alone, users wilson)',
					cluster_bootstrap: clusters
						? {
								ci: benchCluster?.ci ?? null,
								clusters: clusters.clusters.length,
								method: `mover (standardized llm-alone, users ${method})`
							}
						: null
				}
			: null,
		uptake: proportion(uptake),
		p_correct_given_llm_correct: yGivenL1,
		p_correct_given_llm_wrong: yGivenL0,
		advice_not_taken_up: pL !== null && yGivenL1 !== null ? pL * (1 - yGivenL1) : null,
		right_despite_wrong_advice: pL !== null && yGivenL0 !== null ? (1 - pL) * yGivenL0 : null,
		coder_agreement_kappa: kappa
	};
}
