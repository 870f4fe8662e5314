import seedrandom from 'seedrandom';
import type { Episode, Recommendation, StudyExport } from './io/export-reader.ts';
import { covariateBalance } from './balance.ts';
import { sequentialDecomposition } from './decompose.ts';
import { clusterBootstrapDifference, type ClusterCount } from './stats/cluster.ts';
import { adjustedOddsRatios, proxyBlock, type ProxyRow } from './proxies.ts';
import { sampleSizeTwoProportions } from './stats/power.ts';
import { moverDifference, standardizedAccuracy } from './stats/standardized.ts';
import {
	chisqTwoProportions,
	fisherExact,
	holm,
	mcnemar,
	minExpected,
	newcombeHybrid,
	newcombePaired,
	wilson,
	woolfOddsRatio
} from './stats/proportions.ts';

// The estimands of docs/analysis-estimands.md over a study export. Pure: data in, a plain object out;
// the only randomness is seedrandom with the plan's (or the caller's) seed.

type Binary = 0 | 1;
const BINARY_OUTCOMES = ['disposition_correct', 'condition_correct'] as const;
type BinaryOutcome = (typeof BINARY_OUTCOMES)[number];

function outcomeOf(e: Episode | Recommendation, outcome: BinaryOutcome): Binary | null {
	return outcome === 'disposition_correct' ? e.dispositionCorrect : e.conditionCorrect;
}

const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);

/** Proportion with a Wilson interval. */
function proportion(values: Binary[]) {
	const successes = sum(values);
	const n = values.length;
	return { successes, n, p: n ? successes / n : null, ci: wilson(successes, n), method: 'wilson' };
}

/** Cohen's kappa for two raters' binary codes (Cohen 1960). */
export function cohenKappa(pairs: [Binary, Binary][]): number | null {
	const n = pairs.length;
	if (n === 0) return null;
	const agree = pairs.filter(([a, b]) => a === b).length / n;
	const pa = pairs.filter(([a]) => a === 1).length / n;
	const pb = pairs.filter(([, b]) => b === 1).length / n;
	const chance = pa * pb + (1 - pa) * (1 - pb);
	return chance === 1 ? null : (agree - chance) / (1 - chance);
}

/** Coder precedence when several coded one conversation: a person, then a model, then the rule. */
function coderRank(coder: string): number {
	return coder.startsWith('person:') ? 0 : coder.startsWith('model:') ? 1 : 2;
}

export interface AnalyzeOptions {
	seed?: number;
}

/** The analysis of a study export, as the JSON object of analysis.md §7. */
export function analyze(data: StudyExport, options: AnalyzeOptions = {}) {
	const { study } = data;
	const seed = options.seed ?? study.plan.seed;
	const excluded = new Set(
		data.participants.filter((p) => p.status === 'excluded').map((p) => p.id)
	);
	const armOf = new Map(data.participants.map((p) => [p.id, p.arm]));
	const analysed = data.episodes.filter((e) => e.submitted && !excluded.has(e.participant));
	const control = study.arms.find((a) => a.kind === 'control');
	const peopleArms = study.arms.filter((a) => a.kind !== 'llm_alone');
	const outcomes = BINARY_OUTCOMES.filter((o) => analysed.some((e) => outcomeOf(e, o) !== null));
	const byArm = new Map<string, Episode[]>();
	for (const e of analysed) {
		const arm = armOf.get(e.participant) ?? '';
		let list = byArm.get(arm);
		if (!list) byArm.set(arm, (list = []));
		list.push(e);
	}
	const episodesOfArm = (arm: string) => byArm.get(arm) ?? [];
	const binaryValues = (eps: Episode[], o: BinaryOutcome) =>
		eps.map((e) => outcomeOf(e, o)).filter((v): v is Binary => v !== null);
	// Several episodes per participant: cluster-robust variants are reported beside the plain ones.
	const episodesPerParticipant = new Map<string, number>();
	for (const e of analysed)
		episodesPerParticipant.set(e.participant, (episodesPerParticipant.get(e.participant) ?? 0) + 1);
	const clustered = [...episodesPerParticipant.values()].some((n) => n > 1);
	/** Each participant's successes and decisions on an outcome (the clusters of the bootstrap). */
	const clusterCounts = (eps: Episode[], o: BinaryOutcome): ClusterCount[] => {
		const byParticipant = new Map<string, ClusterCount>();
		for (const e of eps) {
			const v = outcomeOf(e, o);
			if (v === null) continue;
			const c = byParticipant.get(e.participant) ?? { successes: 0, n: 0 };
			c.successes += v;
			c.n += 1;
			byParticipant.set(e.participant, c);
		}
		return [...byParticipant.values()];
	};

	// CONSORT counts.
	const countBy = (filter: (p: (typeof data.participants)[number]) => boolean) =>
		Object.fromEntries(
			peopleArms.map((a) => [
				a.id,
				data.participants.filter((p) => p.arm === a.id && filter(p)).length
			])
		);
	const reasons: Record<string, number> = {};
	for (const p of data.participants.filter((x) => x.status === 'excluded'))
		reasons[p.exclusionReason || 'unspecified'] =
			(reasons[p.exclusionReason || 'unspecified'] ?? 0) + 1;
	const analysedPeople = new Set(analysed.map((e) => e.participant));
	const consort = {
		consented: data.participants.length,
		excluded: { total: sum(Object.values(reasons)), reasons },
		allocated: countBy((p) => p.arm !== ''),
		completed: countBy((p) => p.status === 'completed'),
		withdrawn: countBy((p) => p.status === 'withdrawn'),
		analysed: countBy((p) => analysedPeople.has(p.id))
	};

	const arms = peopleArms.map((a) => {
		const eps = episodesOfArm(a.id);
		return {
			arm: a.id,
			n: eps.length,
			outcomes: Object.fromEntries(outcomes.map((o) => [o, proportion(binaryValues(eps, o))]))
		};
	});

	// Each arm against control, with the preregistered test and Holm across the arm comparisons.
	const effects: Record<string, unknown>[] = [];
	if (control) {
		for (const o of outcomes) {
			const modelRows = analysed
				.filter((e) => outcomeOf(e, o) !== null && armOf.get(e.participant))
				.map((e) => ({
					arm: armOf.get(e.participant)!,
					scenario: e.scenario,
					outcome: outcomeOf(e, o)!,
					participant: e.participant
				}));
			const armLevels = [
				control.id,
				...peopleArms.filter((a) => a.id !== control.id).map((a) => a.id)
			];
			const adjustedByArm = adjustedOddsRatios(modelRows, armLevels, clustered);
			const c = binaryValues(episodesOfArm(control.id), o);
			const rows = peopleArms
				.filter((a) => a.id !== control.id)
				.map((a) => {
					const t = binaryValues(episodesOfArm(a.id), o);
					const [x1, n1, x2, n2] = [sum(t), t.length, sum(c), c.length];
					if (n1 === 0 || n2 === 0) return null;
					const { diff, ci } = newcombeHybrid(x1, n1, x2, n2);
					let test = study.plan.test;
					let p: number;
					if (test === 'fisher' || (test === 'chisq' && minExpected(x1, n1, x2, n2) < 5)) {
						p = fisherExact(x1, n1 - x1, x2, n2 - x2);
						if (test === 'chisq') test = 'fisher' as const;
					} else p = chisqTwoProportions(x1, n1, x2, n2, test === 'chisq_yates').pValue;
					const or = woolfOddsRatio(x1, n1 - x1, x2, n2 - x2);
					return {
						outcome: o,
						arm: a.id,
						vs: control.id,
						n: n1,
						n_control: n2,
						diff,
						ci,
						p_value: p,
						test,
						method: 'newcombe-hybrid-score',
						odds_ratio: { estimate: or.oddsRatio, ci: or.ci, method: 'woolf' },
						adjusted: adjustedByArm.get(a.id) ?? null,
						cluster_bootstrap: clustered
							? clusterBootstrapDifference(
									clusterCounts(episodesOfArm(a.id), o),
									clusterCounts(episodesOfArm(control.id), o),
									study.plan.bootstrap,
									seedrandom(`${seed}:cluster:${a.id}:${o}`)
								)
							: null
					};
				})
				.filter((r) => r !== null);
			const adjusted = holm(rows.map((r) => r.p_value));
			rows.forEach((r, i) => effects.push({ ...r, p_holm: adjusted[i] }));
		}
	}

	// Under-, correct and over-triage on the study's ordered scale.
	const level = new Map(study.dispositionScale.map((d, i) => [d, i]));
	const correctLevel = new Map(
		study.scenarios.map((s) => [s.id, level.get(s.correctDisposition)!])
	);
	const triage = peopleArms.map((a) => {
		const eps = episodesOfArm(a.id).filter((e) => e.disposition !== null);
		const rel = eps.map((e) =>
			Math.sign(level.get(e.disposition!)! - correctLevel.get(e.scenario)!)
		);
		const n = rel.length;
		const share = (s: number) => rel.filter((r) => r === s).length;
		return {
			arm: a.id,
			n,
			under: { p: n ? share(-1) / n : null, ci: wilson(share(-1), n) },
			correct: { p: n ? share(0) / n : null },
			over: { p: n ? share(1) / n : null, ci: wilson(share(1), n) }
		};
	});

	// Decision mediation, per LLM-assisted arm and outcome.
	const mediation = study.arms
		.filter((a) => a.kind === 'llm_assisted')
		.flatMap((a) => outcomes.map((o) => mediationBlock(data, a.id, o, analysed, armOf)));

	let powerBlock = null;
	// (Nothing to power from before any decision is in.)
	if (control && arms.length > 1 && outcomes.length > 0) {
		const pc = (
			arms.find((x) => x.arm === control.id)?.outcomes[outcomes[0]!] as
				{ p: number | null } | undefined
		)?.p;
		const others = arms
			.filter((x) => x.arm !== control.id)
			.map((x) => (x.outcomes[outcomes[0]!] as { p: number | null } | undefined)?.p ?? null)
			.filter((p): p is number => p !== null);
		const best = others.length
			? others.reduce((m, p) => (Math.abs(p - (pc ?? 0)) > Math.abs(m - (pc ?? 0)) ? p : m))
			: null;
		powerBlock = {
			alpha: study.plan.alpha,
			power: 0.8,
			outcome: outcomes[0] ?? null,
			p_control: pc ?? null,
			p_arm: best,
			n_per_arm:
				pc !== null &&
				pc !== undefined &&
				best !== null &&
				best !== pc &&
				pc > 0 &&
				pc < 1 &&
				best > 0 &&
				best < 1
					? Math.ceil(sampleSizeTwoProportions(pc, best, 0.8, study.plan.alpha))
					: null,
			method:
				'normal-approximation (R power.prop.test), for the largest observed difference; exploratory'
		};
	}

	return {
		format: 'bedside-analysis/1',
		seed,
		study: { slug: study.slug, preregistration_sha256: study.preregistrationSha256 },
		plan: study.plan,
		declared_outcomes: study.outcomes,
		consort,
		arms,
		effects,
		triage,
		mediation,
		proxies: proxyMeasures(data, analysed, armOf, outcomes).flatMap(({ proxy, outcome, rows }) =>
			proxyBlock(
				proxy,
				outcome,
				rows,
				control?.id,
				peopleArms.map((a) => a.id),
				study.plan.bootstrap,
				seed
			)
		),
		decomposition: studyDecomposition(
			mediation,
			study.outcomes.find((o) => o.role === 'primary')?.name ?? outcomes[0]
		),
		power: powerBlock,
		clustered_by_participant: clustered,
		balance: covariateBalance(
			data.participants,
			data.measures,
			peopleArms.map((a) => a.id),
			control?.id
		)
	};
}

/**
 * The staged decomposition derived from the study itself, for the first LLM arm with all three
 * stages on the primary outcome: the model alone (benchmark runs) → the model in conversation
 * (relaxes interaction_type, a task assumption) → the people it advised (relaxes
 * decision_mediation, an outcome assumption). Sequential attribution (analysis.md §4).
 */
function studyDecomposition(
	mediation: ReturnType<typeof mediationBlock>[],
	outcome: string | undefined
) {
	const m = mediation.find(
		(x) =>
			x.outcome === outcome &&
			x.llm_alone?.p != null &&
			x.llm_in_conversation.p !== null &&
			x.users.p !== null
	);
	if (!m) return null;
	const stages = [
		{ name: 'LLM alone (benchmark runs)', p: m.llm_alone!.p },
		{
			name: 'LLM in conversation',
			p: m.llm_in_conversation.p!,
			relaxes: 'interaction_type',
			type: 'task' as const
		},
		{
			name: 'users with the LLM',
			p: m.users.p!,
			relaxes: 'decision_mediation',
			type: 'outcome' as const
		}
	];
	const { steps, taskTotal, outcomeTotal } = sequentialDecomposition(stages);
	return {
		arm: m.arm,
		outcome: m.outcome,
		stages,
		steps,
		task_total: taskTotal,
		outcome_total: outcomeTotal,
		shapley: null,
		method: 'sequential, derived from the study (benchmark runs → conversations → users)'
	};
}

function mediationBlock(
	data: StudyExport,
	arm: string,
	outcome: BinaryOutcome,
	analysed: Episode[],
	armOf: Map<string, string>
) {
	// What the assistant recommended in each analysed conversation of the arm (one coder per conversation).
	const byConversation = new Map<string, Recommendation[]>();
	for (const r of data.recommendations.filter(
		(r) => r.source === 'conversation' && r.arm === arm
	)) {
		const key = `${r.participant}\u0000${r.episode}`;
		let list = byConversation.get(key);
		if (!list) byConversation.set(key, (list = []));
		list.push(r);
	}
	const pairs: { L: Binary; Y: Binary; U: Binary | null }[] = [];
	const kappaPairs: [Binary, Binary][] = [];
	const armEpisodes = analysed.filter((e) => armOf.get(e.participant) === arm);
	for (const e of armEpisodes) {
		const codings = (byConversation.get(`${e.participant}\u0000${e.episode}`) ?? [])
			.slice()
			.sort((x, y) => coderRank(x.coder) - coderRank(y.coder) || x.coder.localeCompare(y.coder));
		const chosen = codings.find((c) => outcomeOf(c, outcome) !== null);
		const Y = outcomeOf(e, outcome);
		if (!chosen || Y === null) continue;
		const coded = codings.map((c) => outcomeOf(c, outcome)).filter((v): v is Binary => v !== null);
		if (coded.length >= 2) kappaPairs.push([coded[0]!, coded[1]!]);
		const U =
			chosen.disposition !== null && e.disposition !== null
				? ((chosen.disposition === e.disposition ? 1 : 0) as Binary)
				: null;
		pairs.push({ L: outcomeOf(chosen, outcome)!, Y, U });
	}

	// The model alone (benchmark runs), standardized to the arm's scenario mix.
	const mix = new Map<string, number>();
	for (const e of armEpisodes) mix.set(e.scenario, (mix.get(e.scenario) ?? 0) + 1);
	const benchByScenario = new Map<string, Binary[]>();
	for (const r of data.recommendations) {
		if (r.source !== 'benchmark' || r.arm !== arm) continue;
		const value = outcomeOf(r, outcome);
		if (value === null) continue;
		const list = benchByScenario.get(r.scenario);
		if (list) list.push(value);
		else benchByScenario.set(r.scenario, [value]);
	}
	const standardized = standardizedAccuracy(mix, benchByScenario);
	const llmAlone = standardized
		? {
				...standardized,
				method: 'standardized-to-arm-scenario-mix, mover of wilson intervals',
				scenarios_without_runs: [...mix.keys()].filter((s) => !benchByScenario.has(s))
			}
		: null;

	const n = pairs.length;
	const a = pairs.filter((p) => p.L === 1 && p.Y === 1).length;
	const b = pairs.filter((p) => p.L === 1 && p.Y === 0).length;
	const c = pairs.filter((p) => p.L === 0 && p.Y === 1).length;
	const d = n - a - b - c;
	const L = proportion(pairs.map((p) => p.L));
	const Y = proportion(pairs.map((p) => p.Y));
	const uptakeValues = pairs.map((p) => p.U).filter((u): u is Binary => u !== null);
	const gap = n > 0 ? newcombePaired(a, b, c, d) : null;
	const pL = n ? (a + b) / n : null;
	const yGivenL1 = a + b ? a / (a + b) : null;
	const yGivenL0 = c + d ? c / (c + d) : null;
	// Its interval is built for the standardized estimate (MOVER from the standardized interval and
	// the users' Wilson interval; the two samples are independent), not from the raw counts of runs,
	// which lie about it whenever runs are unbalanced across scenarios.
	const benchToUser =
		llmAlone && n > 0 && Y.p !== null ? moverDifference(llmAlone, { p: Y.p, ci: Y.ci }) : null;
	return {
		arm,
		outcome,
		llm_alone: llmAlone,
		llm_in_conversation: { p: L.p, ci: L.ci, n },
		users: { p: Y.p, ci: Y.ci, n },
		gap: gap
			? {
					diff: gap.diff,
					ci: gap.ci,
					p_value: mcnemar(b, c),
					method: 'newcombe-paired-score',
					table: { a, b, c, d }
				}
			: null,
		benchmark_to_user_gap: benchToUser
			? {
					diff: benchToUser.diff,
					ci: benchToUser.ci,
					method: 'mover (standardized llm-alone, users wilson)'
				}
			: null,
		uptake: { ...proportion(uptakeValues) },
		p_correct_given_llm_correct: yGivenL1,
		p_correct_given_llm_wrong: yGivenL0,
		advice_not_taken_up: pL !== null && yGivenL1 !== null ? pL * (1 - yGivenL1) : null,
		right_despite_wrong_advice: pL !== null && yGivenL0 !== null ? (1 - pL) * yGivenL0 : null,
		coder_agreement_kappa: cohenKappa(kappaPairs)
	};
}

/** Each episode-level proxy measure joined with each binary clinical outcome of the analysed episodes. */
function proxyMeasures(
	data: StudyExport,
	analysed: Episode[],
	armOf: Map<string, string>,
	outcomes: BinaryOutcome[]
) {
	// Each proxy measure joined to its episode once, then read for every outcome.
	const episodeKey = (participant: string, episode: number) => `${participant}\u0000${episode}`;
	const byEpisode = new Map(analysed.map((e) => [episodeKey(e.participant, e.episode), e]));
	const joined = new Map<string, { e: Episode; value: number }[]>();
	for (const m of data.measures) {
		if (m.kind !== 'proxy' || m.episode === null || m.value === null) continue;
		const e = byEpisode.get(episodeKey(m.participant, m.episode));
		if (!e) continue;
		let list = joined.get(m.measure);
		if (!list) joined.set(m.measure, (list = []));
		list.push({ e, value: m.value });
	}
	return [...joined.keys()]
		.sort()
		.flatMap((proxy) =>
			outcomes.map((outcome) => {
				const rows: ProxyRow[] = [];
				for (const { e, value } of joined.get(proxy)!) {
					const y = outcomeOf(e, outcome);
					if (y !== null)
						rows.push({
							arm: armOf.get(e.participant)!,
							scenario: e.scenario,
							proxy: value,
							outcome: y
						});
				}
				return { proxy, outcome, rows };
			})
		)
		.filter((p) => p.rows.length >= 4);
}
