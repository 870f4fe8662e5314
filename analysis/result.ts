import type { BalanceRow } from './estimands/balance.ts';

// The analysis result, declared once: the JSON object of docs/analysis-estimands.md §7 and the
// keys added since. Every block is computed by one module of estimands/ and read by one section of
// report/; nothing casts it. Proportions and differences are fractions; every interval is [lo, hi]
// or null when it cannot be computed.

export type Interval = [number, number];

/** Which participants the primary analysis counts (docs/analysis-estimands.md, "Populations"). */
export type Population = 'intention_to_treat' | 'per_protocol';

export interface Proportion {
	successes: number;
	n: number;
	p: number | null;
	ci: Interval;
	method: 'wilson';
}

/** A difference with an interval from a participant-cluster bootstrap (several episodes each). */
export interface ClusterInterval {
	ci: Interval | null;
	clusters: number | [number, number];
	method: string;
}

export interface Counted {
	total: number;
	reasons: Record<string, number>;
}

/** One arm of the CONSORT 2010 flow. */
export interface ConsortArm {
	arm: string;
	allocated: number;
	/** Reached their first scenario. */
	received: number;
	not_received: number;
	/** Where each allocated participant ended: the four add up to allocated. */
	follow_up: { completed: number; withdrawn: number; excluded: number; did_not_finish: number };
	/** Per population: people analysed and those not, with reasons (the two add up to allocated). */
	analysis: Record<
		Population,
		{ people: number; episodes: number; excluded: Counted; missing_outcome_episodes: number }
	>;
}

/** One follow-up wave's flow per arm: invited (completed) = answered + pending + lost. */
export interface ConsortFollowUp {
	follow_up: string;
	after_days: number;
	window_days: number;
	arms: { arm: string; invited: number; answered: number; pending: number; lost: number }[];
}

export interface Consort {
	// §7's keys, with the meaning they always had.
	consented: number;
	/** Everyone with status excluded, before or after randomization. */
	excluded: Counted;
	allocated: Record<string, number>;
	completed: Record<string, number>;
	withdrawn: Record<string, number>;
	/** People analysed per arm in the primary population. */
	analysed: Record<string, number>;
	// CONSORT 2010.
	enrolment: {
		/** Answered the consent page: declined + consented (null when the export lacks declines). */
		assessed: number | null;
		declined: number | null;
		consented: number;
		screened_out: Counted;
		/** Consented, not screened out, not yet randomized (an interim look). */
		awaiting_allocation: number;
		randomized: number;
	};
	arms: ConsortArm[];
	population: Population;
	/** Loss to follow-up per wave and arm (empty: the protocol has no follow-up). */
	follow_ups: ConsortFollowUp[];
}

export interface ArmSummary {
	arm: string;
	n: number;
	outcomes: Record<string, Proportion>;
}

export interface AdjustedOddsRatio {
	odds_ratio: number;
	ci: Interval;
	p_value: number;
	method: string;
	cluster_robust?: { ci: Interval; p_value: number; clusters: number; method: string };
}

export interface Effect {
	outcome: string;
	arm: string;
	vs: string;
	/** The primary family (Holm-adjusted together) or a secondary outcome (Holm across arms). */
	family: 'primary' | 'secondary';
	n: number;
	n_control: number;
	diff: number;
	ci: Interval;
	p_value: number;
	p_holm: number;
	test: 'chisq' | 'chisq_yates' | 'fisher';
	method: string;
	odds_ratio: { estimate: number; ci: Interval; method: string };
	adjusted: AdjustedOddsRatio | null;
	cluster_bootstrap: {
		diff: number;
		ci: Interval | null;
		clusters: [number, number];
		method: string;
	} | null;
	/** Present when the plan gives this outcome an equivalence margin. */
	equivalence: Equivalence | null;
	/** How the report reads it: never "no difference" without equivalence shown. */
	reading: 'higher' | 'lower' | 'equivalent' | 'inconclusive';
}

export interface TriageRow {
	arm: string;
	n: number;
	under: { p: number | null; ci: Interval };
	correct: { p: number | null };
	over: { p: number | null; ci: Interval };
}

/** The common odds ratio of a more urgent decision, from the proportional-odds model. */
export interface OrdinalModel {
	n: number;
	/** The levels chosen, least to most urgent (the scale's levels nobody chose are left out). */
	levels: string[];
	thresholds: number[];
	effects: {
		arm: string;
		vs: string;
		odds_ratio: number;
		ci: Interval;
		p_value: number;
		cluster_robust: { ci: Interval; p_value: number; clusters: number; method: string } | null;
	}[];
	method: string;
}

/** Y ~ arm + (1 | participant) + (1 | scenario), per binary outcome (§8.4). */
export interface MixedModel {
	outcome: string;
	n: number;
	participants: number;
	scenarios: number;
	effects: { arm: string; vs: string; odds_ratio: number; ci: Interval; p_value: number }[];
	sd_participant: number;
	sd_scenario: number;
	/** σ²/(σ² + π²/3) on the latent scale, per random effect. */
	icc_participant: number;
	icc_scenario: number;
	log_likelihood: number;
	method: string;
}

/** Model-coded estimates corrected by the people-coded sample (§8.6). */
export interface CoderCorrection {
	arm: string;
	outcome: string;
	model_coder: string;
	conversations: number;
	coded_by_people: number;
	llm_in_conversation: {
		naive: { p: number; ci: Interval };
		corrected: { p: number; ci: Interval; se: number };
	};
	gap: {
		naive: { diff: number; ci: Interval };
		corrected: { diff: number; ci: Interval; se: number };
	};
	/** Kappa over coding pairs: leave one person out where two or more coded a conversation. */
	agreement: {
		model_vs_people: { kappa: number | null; n: number };
		people_vs_people: { kappa: number | null; n: number };
	};
	method: string;
}

/** A share with its Wilson interval and denominator. */
export interface Share {
	p: number | null;
	ci: Interval;
	n: number;
}

/** Interaction integrity of an arm's episodes: pasting, leaving the page, deciding fast. */
export interface Integrity {
	arm: string;
	n: number;
	pasted_share: number;
	pasted_chars_mean: number;
	left_page_share: number;
	/** Share of timed episodes decided under 10 s after the assistant step began. */
	fast_share: number | null;
	/** Median seconds of typing, over episodes with any typing recorded. */
	median_typing_seconds: number | null;
	median_assist_seconds: number | null;
}

/** Advice taking, when episodes record a decision before the advice (§8.1). */
export interface AdviceTaking {
	arm: string;
	n: number;
	/** Initial × final correctness of the disposition. */
	switch_table: { both_right: number; harmed: number; improved: number; both_wrong: number };
	mcnemar_p: number | null;
	initial_accuracy: Share;
	final_accuracy: Share;
	/** P(final right | initial wrong). */
	improvement: Share;
	/** P(final wrong | initial right). */
	harm: Share;
	/** Final − initial accuracy. */
	change: number;
	/** This arm's change minus control's change. */
	change_vs_control: { diff: number; ci: Interval | null; method: string } | null;
	/** LLM arms: reliance on the advice, by its correctness. */
	reliance: {
		/** P(final = advice | initial wrong, advice right). */
		rair: Share;
		/** P(final = initial | initial right, advice wrong). */
		rsr: Share;
		following_wrong_advice: Share;
		weight_of_advice: { mean: number | null; median: number | null; n: number };
	} | null;
}

/** The effect of actually using the assistant, among those who would (§8.2). */
export interface Cace {
	arm: string;
	vs: string;
	outcome: string;
	n: number;
	clusters: number;
	/** Share of the arm's episodes in which the participant used the assistant. */
	used_share: number;
	definition: string;
	/** The intention-to-treat difference the CACE scales up. */
	itt: number;
	cace: { estimate: number; se: number; ci: Interval; p_value: number };
	method: string;
}

/** Equivalence within the plan's margin (§8.3). */
export interface Equivalence {
	margin: number;
	p_lower: number;
	p_upper: number;
	p_tost: number;
	ci_90: Interval;
	equivalent: boolean;
	non_inferior: boolean;
}

export interface Mediation {
	arm: string;
	outcome: string;
	llm_alone: {
		p: number;
		ci: Interval;
		n: number;
		method: string;
		scenarios_without_runs: string[];
	} | null;
	llm_in_conversation: {
		p: number | null;
		ci: Interval;
		n: number;
		cluster_bootstrap: ClusterInterval | null;
	};
	users: { p: number | null; ci: Interval; n: number; cluster_bootstrap: ClusterInterval | null };
	gap: {
		diff: number;
		ci: Interval;
		p_value: number | null;
		method: string;
		table: { a: number; b: number; c: number; d: number };
		cluster_bootstrap: ClusterInterval | null;
	} | null;
	benchmark_to_user_gap: {
		diff: number;
		ci: Interval;
		method: string;
		cluster_bootstrap: ClusterInterval | null;
	} | null;
	uptake: Proportion;
	p_correct_given_llm_correct: number | null;
	p_correct_given_llm_wrong: number | null;
	advice_not_taken_up: number | null;
	right_despite_wrong_advice: number | null;
	coder_agreement_kappa: number | null;
}

export interface ProxyEffect {
	arm: string;
	n: number;
	proxy_diff: {
		diff: number;
		ci: Interval;
		p_value: number;
		method: string;
		cluster_bootstrap: ClusterInterval | null;
	};
	outcome_diff: { diff: number; ci: Interval; method: string };
	discordant: boolean;
	pte: { estimate: number | null; ci: Interval | null; method: string };
	prentice: {
		treatment_affects_proxy: { p_value: number };
		treatment_affects_outcome: { p_value: number };
		proxy_predicts_outcome: { p_value: number | null };
		outcome_independent_given_proxy: { p_value: number | null };
	};
}

export interface ProxyAssociation {
	proxy: string;
	outcome: string;
	spearman: {
		rho: number;
		ci: Interval;
		n: number;
		method: string;
		cluster_bootstrap: ClusterInterval | null;
	};
	auc: {
		estimate: number;
		ci: Interval;
		method: string;
		cluster_bootstrap: ClusterInterval | null;
	} | null;
	effects: ProxyEffect[];
	trial_level_r2: number | null;
}

export interface DecompositionStage {
	name: string;
	p: number;
	relaxes?: string;
	type?: 'task' | 'outcome';
}

export interface Decomposition {
	arm: string;
	outcome: string;
	stages: DecompositionStage[];
	steps: { assumption: string; type: 'task' | 'outcome'; drop: number; ci: Interval | null }[];
	task_total: number;
	outcome_total: number;
	shapley: null;
	method: string;
}

export interface PowerBlock {
	alpha: number;
	power: number;
	outcome: string | null;
	p_control: number | null;
	p_arm: number | null;
	n_per_arm: number | null;
	method: string;
}

export interface Deviations {
	/** Whether the export carried deviations.csv at all. */
	recorded: boolean;
	total: number;
	by_kind: { kind: string; arm: string; count: number }[];
}

export interface AnalysisResult {
	format: 'bedside-analysis/1';
	seed: number;
	study: { slug: string; preregistration_sha256: string | null };
	plan: {
		alpha: number;
		test: 'chisq' | 'chisq_yates' | 'fisher';
		bootstrap: number;
		seed: number;
		population: Population;
		/** The model the plan names as primary: the difference in proportions, or the mixed model. */
		primary_model: 'difference' | 'mixed_logistic';
		used_assistant_min_messages: number;
		equivalence_margins: Record<string, number>;
	};
	/** The primary population and, when it differs, the sensitivity analysis in the other one. */
	population: Population;
	declared_outcomes: { name: string; role: string; kind: string }[];
	consort: Consort;
	arms: ArmSummary[];
	effects: Effect[];
	/** The other population's arms and effects, labelled as a sensitivity analysis. */
	sensitivity: { population: Population; arms: ArmSummary[]; effects: Effect[] } | null;
	triage: TriageRow[];
	/** The chosen disposition on its ordered scale (§8.5); null without control or variation. */
	ordinal: OrdinalModel | null;
	/** One per binary outcome, when participants have several episodes (§8.4). */
	mixed: MixedModel[];
	mediation: Mediation[];
	/** Per arm, when the export carries the per-episode interaction counts. */
	integrity: Integrity[];
	/** Per arm, when episodes record an initial decision (§8.1). */
	advice_taking: AdviceTaking[];
	/** Per LLM arm and outcome, when the export counts the messages sent (§8.2). */
	cace: Cace[];
	/** Per LLM arm and outcome, when a model coded the conversations and people a sample (§8.6). */
	coder_correction: CoderCorrection[];
	proxies: ProxyAssociation[];
	decomposition: Decomposition | null;
	power: PowerBlock | null;
	clustered_by_participant: boolean;
	balance: BalanceRow[];
	deviations: Deviations;
	/** Every way this analysis departs from the plan it was given, in words. */
	departures: string[];
}
