import type {
	ArmInfo,
	Episode,
	Participant,
	Recommendation,
	StudyExport
} from '../io/export-reader.ts';
import type { ClusterCount } from '../stats/cluster.ts';
import { wilson } from '../stats/proportions.ts';
import type { Population, Proportion } from '../result.ts';

// What every estimand needs to know about the study before it computes anything: the arms, the
// population analysed, its episodes by arm, the binary outcomes present, and whether participants
// contribute several episodes (then cluster-robust variants are reported beside the plain ones).

export type Binary = 0 | 1;
export const BINARY_OUTCOMES = ['disposition_correct', 'condition_correct'] as const;
export type BinaryOutcome = (typeof BINARY_OUTCOMES)[number];

export function outcomeOf(e: Episode | Recommendation, outcome: BinaryOutcome): Binary | null {
	return outcome === 'disposition_correct' ? e.dispositionCorrect : e.conditionCorrect;
}

export const sum = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0);

/** A proportion with its Wilson interval. */
export function proportion(values: readonly Binary[]): Proportion {
	const successes = sum(values);
	const n = values.length;
	return { successes, n, p: n ? successes / n : null, ci: wilson(successes, n), method: 'wilson' };
}

/** Measures named attention_<id> hold attention-check answers: 1 right, 0 wrong. */
export const isAttentionCheck = (measure: string) => measure.startsWith('attention_');

/**
 * Why a randomized participant is not in a population, or null when they are. Intention to treat:
 * everyone randomized with at least one submitted decision, whatever happened after randomization.
 * Per protocol: of those, the ones not excluded after randomization who passed every attention
 * check they answered.
 */
export function reasonOutside(
	p: Participant,
	population: Population,
	submitted: ReadonlySet<string>,
	failedAttention: ReadonlySet<string>
): string | null {
	if (!submitted.has(p.id)) return 'no decision submitted';
	if (population === 'intention_to_treat') return null;
	if (p.status === 'excluded')
		return `excluded after randomization: ${p.exclusionReason || 'unspecified'}`;
	if (failedAttention.has(p.id)) return 'failed an attention check';
	return null;
}

export interface AnalysisContext {
	data: StudyExport;
	seed: number;
	bootstrap: number;
	population: Population;
	control: ArmInfo | undefined;
	/** Arms whose participants are people (every arm but llm_alone). */
	peopleArms: ArmInfo[];
	armOf: ReadonlyMap<string, string>;
	/** Submitted episodes of the population's participants. */
	analysed: Episode[];
	outcomes: BinaryOutcome[];
	episodesOfArm(arm: string): Episode[];
	clustered: boolean;
}

/** The participants who submitted a decision and those who failed an attention check. */
export function participantFacts(data: StudyExport) {
	const submitted = new Set(data.episodes.filter((e) => e.submitted).map((e) => e.participant));
	const failedAttention = new Set(
		data.measures
			.filter((m) => m.episode === null && isAttentionCheck(m.measure) && m.value === 0)
			.map((m) => m.participant)
	);
	return { submitted, failedAttention };
}

export type ParticipantFacts = ReturnType<typeof participantFacts>;

/** Whether the two populations hold the same people (nobody excluded or failing a check after randomization). */
export function populationsCoincide(data: StudyExport, facts: ParticipantFacts): boolean {
	return !data.participants.some(
		(p) =>
			p.arm !== '' &&
			facts.submitted.has(p.id) &&
			reasonOutside(p, 'per_protocol', facts.submitted, facts.failedAttention) !== null
	);
}

export function analysisContext(
	data: StudyExport,
	population: Population,
	seed: number,
	facts: ParticipantFacts = participantFacts(data)
): AnalysisContext {
	const { submitted, failedAttention } = facts;
	const inside = new Set(
		data.participants
			.filter(
				(p) => p.arm !== '' && reasonOutside(p, population, submitted, failedAttention) === null
			)
			.map((p) => p.id)
	);
	const armOf = new Map(data.participants.map((p) => [p.id, p.arm]));
	const analysed = data.episodes.filter((e) => e.submitted && inside.has(e.participant));
	const byArm = new Map<string, Episode[]>();
	const perParticipant = new Map<string, number>();
	for (const e of analysed) {
		const arm = armOf.get(e.participant) ?? '';
		let list = byArm.get(arm);
		if (!list) byArm.set(arm, (list = []));
		list.push(e);
		perParticipant.set(e.participant, (perParticipant.get(e.participant) ?? 0) + 1);
	}
	return {
		data,
		seed,
		bootstrap: data.study.plan.bootstrap,
		population,
		control: data.study.arms.find((a) => a.kind === 'control'),
		peopleArms: data.study.arms.filter((a) => a.kind !== 'llm_alone'),
		armOf,
		analysed,
		outcomes: BINARY_OUTCOMES.filter((o) => analysed.some((e) => outcomeOf(e, o) !== null)),
		episodesOfArm: (arm) => byArm.get(arm) ?? [],
		clustered: [...perParticipant.values()].some((n) => n > 1)
	};
}

export const binaryValues = (episodes: readonly Episode[], outcome: BinaryOutcome) =>
	episodes.map((e) => outcomeOf(e, outcome)).filter((v): v is Binary => v !== null);

/** Each participant's successes and decisions on an outcome (the clusters of a bootstrap). */
export function clusterCounts(
	episodes: readonly Episode[],
	outcome: BinaryOutcome
): ClusterCount[] {
	const byParticipant = new Map<string, ClusterCount>();
	for (const e of episodes) {
		const v = outcomeOf(e, outcome);
		if (v === null) continue;
		const c = byParticipant.get(e.participant) ?? { successes: 0, n: 0 };
		c.successes += v;
		c.n += 1;
		byParticipant.set(e.participant, c);
	}
	return [...byParticipant.values()];
}
