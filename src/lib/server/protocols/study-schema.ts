import { z } from 'zod';

// The study protocol: what `studies/<slug>/study.yaml` holds, what is hashed and preregistered,
// and what the running study reads. Field names are snake_case, as in the export format.
// Every object is strict: a misspelt field is an error, never silently ignored.

const id = z
	.string()
	.regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be lowercase letters, digits, - or _ (at most 63)');
const text = z.string().trim().min(1);
const label = z.string().trim().min(1).max(300);

export const dispositionLevel = z.strictObject({
	id,
	label,
	/** Phrases that mean this level in free text (for the rule coder), besides the label itself. */
	phrases: z.array(label).optional()
});

/** A case-insensitive regular expression written in the study file; must compile. */
const pattern = z
	.string()
	.min(1)
	.max(500)
	.refine((p) => {
		try {
			new RegExp(p, 'iu');
			return true;
		} catch {
			return false;
		}
	}, 'must be a valid regular expression');

const likertScale = z
	.strictObject({
		min: z.number().int(),
		max: z.number().int(),
		/** Labels of some or all points, keyed by the point (`1: Not at all`). */
		labels: z.record(z.string().regex(/^-?\d+$/, 'must be a point of the scale'), label).default({})
	})
	.superRefine((scale, ctx) => {
		if (scale.max <= scale.min)
			ctx.addIssue({ code: 'custom', path: ['max'], message: 'must be greater than min' });
		if (scale.max - scale.min > 100)
			ctx.addIssue({ code: 'custom', path: ['max'], message: 'a scale has at most 101 points' });
		for (const point of Object.keys(scale.labels)) {
			const n = Number(point);
			if (n < scale.min || n > scale.max) {
				ctx.addIssue({
					code: 'custom',
					path: ['labels', point],
					message: `is outside ${scale.min}..${scale.max}`
				});
			}
		}
	});

const choiceOption = z.strictObject({ value: id, label });

/** A screening question; its answer can decide eligibility and can define a stratum. */
export const screeningQuestion = z.strictObject({
	id,
	text,
	type: z.enum(['yes_no', 'choice']),
	options: z.array(choiceOption).min(2).optional(),
	/** Answers that make a person ineligible (they are thanked and leave). */
	ineligible_if: z.array(z.string()).default([]),
	/** Recorded as a covariate in measures.csv. */
	covariate: z.boolean().default(false)
});

export const questionnaireItem = z.strictObject({
	id,
	text,
	kind: z.enum(['proxy', 'covariate']).default('proxy'),
	scale: likertScale
});

export const attentionCheck = z.strictObject({
	id,
	text,
	options: z.array(label).min(2),
	correct: label
});

export const condition = z.strictObject({
	id,
	name: label,
	synonyms: z.array(label).default([])
});

export const scenario = z.strictObject({
	id,
	title: label,
	/** What the participant reads, in the second person. */
	participant_text: text,
	/** The physician-written benchmark prompt: complete information, single turn. */
	benchmark_prompt: text,
	correct_disposition: id,
	relevant_conditions: z.array(condition).min(1),
	red_flags: z.array(label).default([])
});

const scriptedReply = z.strictObject({
	/** Case-insensitive regular expression on the participant's message; absent: always matches. */
	when: pattern.optional(),
	reply: text
});

// Fields added after the first format release are optional without defaults, so a protocol that
// was locked before they existed parses to exactly what was preregistered; the code applies the
// documented defaults (see assistant/limits.ts).
const assistantLimits = {
	/** Tokens (in + out) one participant may use across the study; default 20,000. */
	max_participant_tokens: z.number().int().min(100).max(10_000_000).optional(),
	/** Tokens (in + out) the whole arm may use in conversations; reaching it pauses the study. */
	budget_tokens: z.number().int().min(1000).optional()
};

export const assistantConfig = z.discriminatedUnion('provider', [
	z.strictObject({
		provider: z.literal('openai-compatible'),
		model: label,
		system_prompt: text,
		temperature: z.number().min(0).max(2).default(1),
		top_p: z.number().gt(0).max(1).default(1),
		seed: z.number().int().min(0).optional(),
		max_turns: z.number().int().min(1).max(50).default(10),
		max_tokens: z.number().int().min(1).max(32_000).default(1024),
		/** Which configured endpoint serves this arm (BEDSIDE_LLM_<ENDPOINT>_BASE_URL); default "default". */
		endpoint: id.optional(),
		/** Time allowed for one attempt of one reply; default 60. */
		timeout_seconds: z.number().int().min(1).max(600).optional(),
		...assistantLimits
	}),
	z.strictObject({
		/** Deterministic replies for demos and pilots; labelled "scripted, not an LLM" everywhere. */
		provider: z.literal('scripted'),
		model: label.default('scripted'),
		system_prompt: z.string().default(''),
		max_turns: z.number().int().min(1).max(50).default(10),
		max_tokens: z.number().int().min(1).max(32_000).default(1024),
		script: z.array(scriptedReply).min(1),
		...assistantLimits
	})
]);

/** What participants' chat messages are screened for, and what they are shown when one matches. */
export const safety = z.strictObject({
	emergency_patterns: z.array(pattern).min(1),
	notice: text
});

/** How recommendations and participants' free text are coded. */
export const coding = z.strictObject({
	/** Similarity (0.5–1) a word sequence needs to match a condition name; default 0.8. */
	similarity: z.number().min(0.5).max(1).optional(),
	/** The grader model of the model coder (structured output). */
	grader: z
		.strictObject({
			model: label,
			endpoint: id.optional(),
			instructions: text.optional()
		})
		.optional(),
	/** Person coders see transcripts without the arm. Default true. */
	blind_to_arm: z.boolean().optional(),
	/**
	 * The share of conversations people code, drawn at random with the analysis seed: the coding
	 * page offers exactly that sample, and the analysis corrects the model coder's estimates by it
	 * (prediction-powered inference). Absent: people may code every conversation.
	 */
	human_sample: z.number().gt(0).max(1).optional()
});

export const arm = z.strictObject({
	id,
	kind: z.enum(['control', 'llm_assisted', 'llm_alone', 'other']),
	/** Shown to researchers only; participants never see arm ids or labels. */
	label,
	weight: z.number().int().min(1).max(100).default(1),
	assistant: assistantConfig.optional()
});

export const outcome = z.strictObject({
	name: id,
	role: z.enum(['primary', 'secondary']),
	kind: z.enum(['clinical', 'proxy']),
	/** Clinical outcomes other than the built-in ones arrive later by outcome import. */
	source: z.enum(['decision', 'questionnaire', 'import', 'follow_up']).optional()
});

/** A follow-up question: its answer is an outcome of the participant (clinical or proxy). */
export const followUpQuestion = z.strictObject({
	id,
	text,
	kind: z.enum(['clinical', 'proxy']),
	/** yes_no is stored as 1 (yes) or 0 (no); scale as the point chosen. */
	type: z.enum(['yes_no', 'scale']),
	scale: likertScale.optional()
});

/** A later wave (e.g. day 7) that asks those who completed what happened since. */
export const followUp = z.strictObject({
	id,
	/** Days after the participant completed the main session when the link opens. */
	after_days: z.number().int().min(0).max(365),
	/** Days the link stays open after that; then it has expired. */
	window_days: z.number().int().min(1).max(90).default(7),
	intro: text.optional(),
	questions: z.array(followUpQuestion).min(1)
});

export const randomization = z.discriminatedUnion('method', [
	z.strictObject({ method: z.literal('simple') }),
	z.strictObject({
		method: z.literal('permuted_blocks'),
		/** Block sizes drawn at random per block; each a multiple of the sum of arm weights. */
		block_sizes: z.array(z.number().int().min(1).max(1000)).min(1)
	}),
	z.strictObject({
		method: z.literal('stratified_blocks'),
		block_sizes: z.array(z.number().int().min(1).max(1000)).min(1),
		/** Screening questions whose answers define the strata. */
		strata: z.array(id).min(1)
	}),
	z.strictObject({
		method: z.literal('minimization'),
		/** Screening questions to balance on (Pocock–Simon, range of totals). */
		factors: z.array(id).min(1),
		/** Probability of choosing the arm that minimizes imbalance. */
		probability: z.number().gt(0.5).max(1).default(0.8)
	})
]);

export const analysisPlan = z.strictObject({
	test: z.enum(['chisq', 'chisq_yates', 'fisher']).default('chisq'),
	alpha: z.number().gt(0).lt(1).default(0.05),
	bootstrap: z.number().int().min(100).max(100_000).default(2000),
	/**
	 * Whom the primary analysis counts: every randomized participant with an outcome (intention to
	 * treat, the default when absent) or those who followed the protocol (per protocol); the other
	 * is reported as a sensitivity analysis. No default written in: a plan locked before this field
	 * existed keeps its hash and means intention to treat.
	 */
	population: z.enum(['intention_to_treat', 'per_protocol']).optional(),
	/**
	 * The primary model of each arm against control: the difference in proportions (the default)
	 * or the mixed-effects logistic model with participant and scenario random intercepts, for
	 * designs with several scenarios per participant. The other is reported too, as secondary.
	 */
	primary_model: z.enum(['difference', 'mixed_logistic']).optional(),
	/** What "used the assistant" means for the effect of using it (CACE): messages sent in the episode. Default 1. */
	used_assistant_min_messages: z.number().int().min(1).max(100).optional(),
	/**
	 * Equivalence margins per outcome (an absolute difference in proportions, e.g. 0.05): the
	 * report then says "equivalent" when the 90% interval lies inside ±margin, and never "no
	 * difference" otherwise.
	 */
	equivalence_margins: z.record(z.string(), z.number().gt(0).lt(1)).optional(),
	seed: z
		.number()
		.int()
		.min(0)
		.max(2 ** 32 - 1)
});

export const sampleSize = z.strictObject({
	target: z.number().int().min(1),
	power: z
		.strictObject({
			p_control: z.number().gt(0).lt(1),
			p_treatment: z.number().gt(0).lt(1),
			alpha: z.number().gt(0).lt(1).default(0.05),
			power: z.number().gt(0).lt(1).default(0.8),
			/**
			 * The expected intraclass correlation of the outcome within a participant, for the power
			 * of a design with several scenarios per participant (absent: 0, independent episodes).
			 */
			icc: z.number().min(0).lt(1).optional()
		})
		.optional()
});

const panelCode = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be letters, digits, - or _');

export const recruitment = z.strictObject({
	panel: z.enum(['prolific', 'generic']).default('generic'),
	/**
	 * Whether the link must carry the panel's participant id (PROLIFIC_PID or pid). Default: yes
	 * for a Prolific study, so nobody can enrol through the bare link; set false for a lab study.
	 */
	require_panel_id: z.boolean().optional(),
	// A participant's browser opens it: only web addresses (a javascript: or data: URL would run).
	completion_url: z
		.url({ protocol: /^https?$/, error: 'must be an http:// or https:// address' })
		.optional(),
	/** The code a participant who completed gets (absent: a random code per participant). */
	completion_code: panelCode.optional(),
	/**
	 * The code each other ending gets, shown with the panel's return link, so the panel files each
	 * submission under the right status (on Prolific, codes set up on the study's completion paths).
	 */
	ending_codes: z
		.strictObject({
			declined_consent: panelCode.optional(),
			screened_out: panelCode.optional(),
			failed_attention: panelCode.optional(),
			withdrew: panelCode.optional()
		})
		.optional(),
	/**
	 * What a participant whose submission is rejected for a failed attention check is told (Prolific
	 * asks for at least 100 characters). Absent: Bedside offers no rejection.
	 */
	rejection_message: z
		.string()
		.trim()
		.min(100, 'must be at least 100 characters (the panel requires it)')
		.max(2000)
		.optional(),
	/** A bonus paid through the panel's API to each participant who completed, in the study's currency. */
	bonus: z.strictObject({ amount: z.number().gt(0).max(100, 'must be at most 100') }).optional()
});

export const testedAssumption = z.strictObject({
	card: id,
	assumption: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be a snake_case assumption key')
});

export const studyProtocol = z
	.strictObject({
		format: z.literal('bedside-study/1'),
		slug: z
			.string()
			.regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lowercase letters, digits and - (at most 63)'),
		title: label,
		description: text,
		clinically_validated: z.boolean(),
		consent: z.strictObject({ text }),
		screening: z.array(screeningQuestion).default([]),
		disposition_scale: z.array(dispositionLevel).min(2),
		arms: z.array(arm).min(1),
		scenarios: z.array(scenario).min(1),
		episodes_per_participant: z.number().int().min(1).default(1),
		questionnaires: z
			.strictObject({
				per_episode: z.array(questionnaireItem).default([]),
				end_of_study: z.array(questionnaireItem).default([])
			})
			.default({ per_episode: [], end_of_study: [] }),
		attention_checks: z.array(attentionCheck).default([]),
		outcomes: z.array(outcome).min(1),
		randomization,
		analysis_plan: analysisPlan,
		sample_size: sampleSize,
		recruitment: recruitment.default({ panel: 'generic' }),
		tests_assumptions: z.array(testedAssumption).default([]),
		safety: safety.optional(),
		coding: coding.optional(),
		/**
		 * Ask each participant for a decision before the assistant (in control, before whatever
		 * they would normally use): the judge–advisor design. The final decision page shows nothing
		 * of it, or reminds the participant of it.
		 */
		/**
		 * What the assistant (or usual-sources) step needs before "I am ready to decide" is accepted:
		 * a minimum time on it, and in an LLM arm a minimum number of messages sent.
		 */
		assistant_step: z
			.strictObject({
				min_seconds: z.number().int().min(0).max(3600).optional(),
				min_turns: z.number().int().min(0).max(50).optional()
			})
			.optional(),
		initial_decision: z
			.strictObject({ show_on_final: z.enum(['nothing', 'remind']).default('nothing') })
			.optional(),
		/** Later waves whose answers are outcomes (what happened after the session). */
		follow_ups: z.array(followUp).optional()
	})
	.superRefine(checkCrossReferences);

export type StudyProtocol = z.output<typeof studyProtocol>;
export type StudyProtocolInput = z.input<typeof studyProtocol>;
export type Arm = StudyProtocol['arms'][number];
export type Scenario = StudyProtocol['scenarios'][number];

/** Outcomes Bedside derives from the decision form itself. */
export const DECISION_OUTCOMES = ['disposition_correct', 'condition_correct'] as const;

type Ctx = z.RefinementCtx;

function unique<T>(
	items: T[],
	key: (item: T) => string,
	path: PropertyKey[],
	what: string,
	ctx: Ctx
): Set<string> {
	const seen = new Set<string>();
	items.forEach((item, i) => {
		const k = key(item);
		if (seen.has(k))
			ctx.addIssue({ code: 'custom', path: [...path, i], message: `${what} "${k}" is used twice` });
		seen.add(k);
	});
	return seen;
}

/** One problem at a path of the protocol. */
const issue = (ctx: Ctx, path: (string | number)[], message: string) =>
	ctx.addIssue({ code: 'custom', path, message });

/** The rules that span fields: ids unique and every reference pointing at something that exists. */
function checkCrossReferences(p: z.output<z.ZodObject>, ctx: Ctx): void {
	const s = p as unknown as StudyProtocol;
	const { levels, screening, itemIds } = checkUniqueIds(s, ctx);
	checkScenarios(s, levels, ctx);
	checkArms(s, ctx);
	checkScreening(s, ctx);
	s.attention_checks.forEach((c, i) => {
		if (!c.options.includes(c.correct))
			issue(ctx, ['attention_checks', i, 'correct'], 'must be one of the options');
	});
	const followUpKinds = checkFollowUps(s, itemIds, ctx);
	checkOutcomes(s, itemIds, followUpKinds, ctx);
	checkRandomization(s, screening, ctx);
	if (
		s.recruitment.panel === 'prolific' &&
		!s.recruitment.completion_url &&
		!s.recruitment.completion_code
	)
		issue(ctx, ['recruitment'], 'a Prolific study needs completion_url or completion_code');
	const power = s.sample_size.power;
	if (power && power.p_control === power.p_treatment)
		issue(ctx, ['sample_size', 'power', 'p_treatment'], 'must differ from p_control');
}

/** Every list's ids unique; the ids other fields refer to. */
function checkUniqueIds(s: StudyProtocol, ctx: Ctx) {
	const levels = unique(
		s.disposition_scale,
		(d) => d.id,
		['disposition_scale'],
		'disposition',
		ctx
	);
	unique(s.arms, (a) => a.id, ['arms'], 'arm id', ctx);
	unique(s.scenarios, (x) => x.id, ['scenarios'], 'scenario id', ctx);
	unique(s.outcomes, (o) => o.name, ['outcomes'], 'outcome', ctx);
	const screening = unique(s.screening, (q) => q.id, ['screening'], 'screening question', ctx);
	const { per_episode, end_of_study } = s.questionnaires;
	unique(per_episode, (q) => q.id, ['questionnaires', 'per_episode'], 'item', ctx);
	unique(end_of_study, (q) => q.id, ['questionnaires', 'end_of_study'], 'item', ctx);
	const itemIds = new Set([...per_episode, ...end_of_study].map((i) => i.id));
	return { levels, screening, itemIds };
}

function checkScenarios(s: StudyProtocol, levels: Set<string>, ctx: Ctx) {
	s.scenarios.forEach((sc, i) => {
		if (!levels.has(sc.correct_disposition))
			issue(
				ctx,
				['scenarios', i, 'correct_disposition'],
				`must be one of the disposition_scale ids (${[...levels].join(', ')})`
			);
		unique(
			sc.relevant_conditions,
			(c) => c.id,
			['scenarios', i, 'relevant_conditions'],
			'condition',
			ctx
		);
	});
	if (s.episodes_per_participant > s.scenarios.length)
		issue(
			ctx,
			['episodes_per_participant'],
			`must be ≤ the number of scenarios (${s.scenarios.length})`
		);
}

function checkArms(s: StudyProtocol, ctx: Ctx) {
	if (s.arms.filter((a) => a.kind === 'control').length > 1)
		issue(ctx, ['arms'], 'at most one arm may be of kind control');
	s.arms.forEach((a, i) => {
		const needsAssistant = a.kind === 'llm_assisted' || a.kind === 'llm_alone';
		if (needsAssistant && !a.assistant)
			issue(ctx, ['arms', i, 'assistant'], `is required for a ${a.kind} arm`);
		if (!needsAssistant && a.assistant)
			issue(ctx, ['arms', i, 'assistant'], `must be absent for a ${a.kind} arm`);
	});
}

function checkScreening(s: StudyProtocol, ctx: Ctx) {
	s.screening.forEach((q, i) => {
		if (q.type === 'choice' && !q.options)
			issue(ctx, ['screening', i, 'options'], 'is required for a choice question');
		if (q.type === 'yes_no' && q.options)
			issue(ctx, ['screening', i, 'options'], 'must be absent for a yes_no question');
		const answers = q.type === 'yes_no' ? ['yes', 'no'] : (q.options ?? []).map((o) => o.value);
		q.ineligible_if.forEach((answer, j) => {
			if (!answers.includes(answer))
				issue(
					ctx,
					['screening', i, 'ineligible_if', j],
					`must be one of the question's answers (${answers.join(', ')})`
				);
		});
	});
}

/** Follow-up ids unique, question ids unique and apart from the questionnaires'; kind by question id. */
function checkFollowUps(s: StudyProtocol, itemIds: Set<string>, ctx: Ctx): Map<string, string> {
	const kinds = new Map<string, string>();
	const followUps = s.follow_ups ?? [];
	unique(followUps, (f) => f.id, ['follow_ups'], 'follow-up', ctx);
	followUps.forEach((f, i) =>
		f.questions.forEach((q, j) => {
			const path = ['follow_ups', i, 'questions', j];
			if (kinds.has(q.id) || itemIds.has(q.id) || q.id.startsWith('attention_'))
				issue(ctx, [...path, 'id'], `"${q.id}" is already a question or item id`);
			kinds.set(q.id, q.kind);
			if (q.type === 'scale' && !q.scale)
				issue(ctx, [...path, 'scale'], 'a scale question needs a scale');
			if (q.type === 'yes_no' && q.scale)
				issue(ctx, [...path, 'scale'], 'a yes_no question has no scale');
		})
	);
	return kinds;
}

function checkOutcomes(
	s: StudyProtocol,
	itemIds: Set<string>,
	followUpKinds: Map<string, string>,
	ctx: Ctx
) {
	s.outcomes.forEach((o, i) => {
		const path = ['outcomes', i, 'name'];
		if (o.source === 'follow_up') {
			const kind = followUpKinds.get(o.name);
			if (kind === undefined)
				issue(ctx, path, 'a follow_up outcome must be a follow-up question id');
			else if (kind !== o.kind)
				issue(ctx, ['outcomes', i, 'kind'], `the follow-up question is ${kind}`);
			return;
		}
		if (o.kind === 'proxy' && o.source !== 'import' && !itemIds.has(o.name))
			issue(ctx, path, 'a proxy outcome must be a questionnaire item id, or have source: import');
		if (
			o.kind === 'clinical' &&
			!(DECISION_OUTCOMES as readonly string[]).includes(o.name) &&
			o.source !== 'import'
		)
			issue(
				ctx,
				path,
				`a clinical outcome is ${DECISION_OUTCOMES.join(' or ')}, or has source: import`
			);
	});
	if (!s.outcomes.some((o) => o.role === 'primary'))
		issue(ctx, ['outcomes'], 'name at least one primary outcome');
}

function checkRandomization(s: StudyProtocol, screening: Set<string>, ctx: Ctx) {
	const r = s.randomization;
	if (r.method === 'permuted_blocks' || r.method === 'stratified_blocks') {
		const total = s.arms.reduce((sum, a) => sum + a.weight, 0);
		r.block_sizes.forEach((size, i) => {
			if (size % total !== 0)
				issue(
					ctx,
					['randomization', 'block_sizes', i],
					`must be a multiple of the sum of arm weights (${total})`
				);
		});
	}
	const factors =
		r.method === 'stratified_blocks' ? r.strata : r.method === 'minimization' ? r.factors : [];
	factors.forEach((f, i) => {
		if (!screening.has(f))
			issue(
				ctx,
				['randomization', r.method === 'stratified_blocks' ? 'strata' : 'factors', i],
				'must be a screening question id'
			);
	});
}
