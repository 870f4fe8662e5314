import type { PreregistrationDocument } from './prereg.service.ts';

// The preregistration as Markdown, readable on its own and suitable to attach to an OSF
// registration. Every hash in it can be recomputed from the JSON export.

const cell = (text: unknown) =>
	String(text ?? '')
		.replace(/\|/g, '\\|')
		.replace(/\n+/g, ' ');
const quote = (text: string) =>
	text
		.trim()
		.split('\n')
		.map((line) => `> ${line}`)
		.join('\n');

type Protocol = PreregistrationDocument['protocol'];

/**
 * `concealAnswerKey`: for public pages of a study that has not closed: the correct dispositions,
 * relevant conditions, red flags and attention-check answers are replaced by their commitment.
 */
export function preregistrationMarkdown(
	doc: PreregistrationDocument,
	options: { concealAnswerKey: boolean } = { concealAnswerKey: false }
): string {
	const p = doc.protocol;
	const conceal = options.concealAnswerKey;
	return [
		...identity(doc, conceal),
		...registrations(doc),
		...participantFacing(p),
		...arms(p),
		...scenarios(p, conceal),
		...questionnaires(p, conceal),
		...outcomesAndPlan(p),
		...designPowerSection(doc)
	].join('\n');
}

function identity(doc: PreregistrationDocument, conceal: boolean): string[] {
	const out: string[] = [];
	const p = doc.protocol;
	const current = doc.registrations[doc.registrations.length - 1]!;
	out.push(`# Preregistration: ${p.title}`, '');
	out.push(`- Study: \`${doc.study.slug}\` (status: ${doc.study.status})`);
	out.push(
		`- Protocol version: ${current.protocol_version}, SHA-256 \`${current.protocol_sha256}\``
	);
	out.push(`- Preregistration SHA-256: \`${current.sha256}\``);
	out.push(
		`- Randomization seed: ${doc.randomization_seed === null ? `committed as SHA-256 \`${current.seed_sha256}\`, revealed when the study closes` : `\`${doc.randomization_seed}\` (SHA-256 \`${current.seed_sha256}\`)`}`
	);
	if (current.answer_key_sha256)
		out.push(
			conceal
				? `- Answer key (correct dispositions, relevant conditions, red flags, attention-check answers): concealed while the study runs; committed as SHA-256 \`${current.answer_key_sha256}\` and shown when the study closes`
				: `- Answer key: SHA-256 \`${current.answer_key_sha256}\`${doc.answer_key_salt ? ` with salt \`${doc.answer_key_salt}\` (HMAC-SHA256 of "bedside answer key" keyed by the seed)` : ''}`
		);
	out.push(`- Clinically validated scenarios: ${p.clinically_validated ? 'yes' : '**no**'}`, '');
	return out;
}

function registrations(doc: PreregistrationDocument): string[] {
	const out: string[] = [];
	out.push(
		'## Registrations',
		'',
		'| # | kind | protocol version | registered (UTC) | SHA-256 | previous | reason |',
		'|---|---|---|---|---|---|---|'
	);
	doc.registrations.forEach((r, i) => {
		out.push(
			`| ${i + 1} | ${r.kind} | ${r.protocol_version} | ${r.registered_at} | \`${r.sha256.slice(0, 16)}…\` | ${r.previous_sha256 ? `\`${r.previous_sha256.slice(0, 16)}…\`` : '—'} | ${cell(r.reason ?? '')} |`
		);
	});
	out.push(
		'',
		'Each SHA-256 is over RFC 8785 canonical JSON; the JSON export holds the full values and the protocol.',
		''
	);
	return out;
}

function participantFacing(p: Protocol): string[] {
	const out: string[] = [];
	out.push('## Description', '', p.description.trim(), '');
	out.push('## Consent text', '', quote(p.consent.text), '');
	if (p.screening.length > 0) {
		out.push('## Screening', '');
		for (const q of p.screening) {
			const answers =
				q.type === 'yes_no'
					? 'yes / no'
					: (q.options ?? []).map((o) => `${o.value} (${o.label})`).join(' / ');
			out.push(
				`- **${q.id}**: ${q.text} — ${answers}${q.ineligible_if.length ? `; ineligible if ${q.ineligible_if.join(', ')}` : ''}${q.covariate ? '; recorded as a covariate' : ''}`
			);
		}
		out.push('');
	}
	return out;
}

function arms(p: Protocol): string[] {
	const out: string[] = [];
	out.push('## Arms', '', '| id | kind | label | weight | assistant |', '|---|---|---|---|---|');
	for (const a of p.arms) {
		const assistant = !a.assistant
			? '—'
			: a.assistant.provider === 'scripted'
				? `scripted, not an LLM (${a.assistant.script.length} rules)`
				: `${a.assistant.model} (temperature ${a.assistant.temperature}, top_p ${a.assistant.top_p}, seed ${a.assistant.seed ?? 'none'}, ≤ ${a.assistant.max_turns} turns, ≤ ${a.assistant.max_tokens} tokens)`;
		out.push(`| ${a.id} | ${a.kind} | ${cell(a.label)} | ${a.weight} | ${cell(assistant)} |`);
	}
	for (const a of p.arms) {
		if (a.assistant?.provider === 'openai-compatible')
			out.push('', `System prompt of \`${a.id}\`:`, '', quote(a.assistant.system_prompt));
	}
	out.push('');
	return out;
}

function scenarios(p: Protocol, conceal: boolean): string[] {
	const out: string[] = [];
	const scale = new Map(p.disposition_scale.map((d) => [d.id, d.label]));
	out.push('## Disposition scale (least to most urgent)', '');
	p.disposition_scale.forEach((d, i) => out.push(`${i + 1}. \`${d.id}\` — ${d.label}`));
	out.push('');

	out.push(`## Scenarios (${p.episodes_per_participant} per participant)`, '');
	for (const s of p.scenarios) {
		out.push(`### ${s.title} (\`${s.id}\`)`, '');
		out.push('Participant text:', '', quote(s.participant_text), '');
		out.push('Benchmark prompt:', '', quote(s.benchmark_prompt), '');
		if (conceal) {
			out.push('- Correct disposition, relevant conditions, red flags: concealed until close', '');
			continue;
		}
		out.push(
			`- Correct disposition: \`${s.correct_disposition}\` (${scale.get(s.correct_disposition)})`
		);
		out.push(
			`- Relevant conditions: ${s.relevant_conditions.map((c) => `${c.name}${c.synonyms.length ? ` (${c.synonyms.join(', ')})` : ''}`).join('; ')}`
		);
		if (s.red_flags.length) out.push(`- Red flags: ${s.red_flags.join('; ')}`);
		out.push('');
	}
	return out;
}

function questionnaires(p: Protocol, conceal: boolean): string[] {
	const out: string[] = [];
	const items = [
		...p.questionnaires.per_episode.map((q) => ({ ...q, when: 'per episode' })),
		...p.questionnaires.end_of_study.map((q) => ({ ...q, when: 'end of study' }))
	];
	if (items.length > 0) {
		out.push(
			'## Questionnaires',
			'',
			'| id | when | kind | question | scale |',
			'|---|---|---|---|---|'
		);
		for (const q of items) {
			const labels = Object.entries(q.scale.labels)
				.map(([k, v]) => `${k} = ${v}`)
				.join(', ');
			out.push(
				`| ${q.id} | ${q.when} | ${q.kind} | ${cell(q.text)} | ${q.scale.min}–${q.scale.max}${labels ? ` (${cell(labels)})` : ''} |`
			);
		}
		out.push('');
	}
	if (p.attention_checks.length > 0) {
		out.push('## Attention checks', '');
		for (const c of p.attention_checks)
			out.push(`- **${c.id}**: ${c.text}${conceal ? '' : ` (correct: ${c.correct})`}`);
		out.push('');
	}
	return out;
}

function outcomesAndPlan(p: Protocol): string[] {
	const out: string[] = [];
	out.push('## Outcomes', '', '| name | role | kind |', '|---|---|---|');
	for (const o of p.outcomes)
		out.push(`| ${o.name} | ${o.role} | ${o.kind}${o.source ? ` (${o.source})` : ''} |`);
	out.push('');

	const r = p.randomization;
	out.push('## Randomization', '', `- Method: ${r.method.replace('_', ' ')}`);
	if ('block_sizes' in r)
		out.push(`- Block sizes (drawn at random per block): ${r.block_sizes.join(', ')}`);
	if (r.method === 'stratified_blocks') out.push(`- Strata: ${r.strata.join(', ')}`);
	if (r.method === 'minimization')
		out.push(
			`- Factors: ${r.factors.join(', ')}; probability of the minimizing arm ${r.probability}`
		);
	out.push('- Allocation ratio: ' + p.arms.map((a) => `${a.id} ${a.weight}`).join(' : '), '');

	const a = p.analysis_plan;
	out.push(
		'## Analysis plan',
		'',
		`- Test of each arm against control: ${a.test}; alpha ${a.alpha}`
	);
	out.push(`- Bootstrap resamples: ${a.bootstrap}; analysis seed ${a.seed}`);
	out.push(
		a.population === 'per_protocol'
			? '- Primary population: per protocol (randomized participants with an outcome, not excluded after randomization, who passed every attention check); intention to treat as a sensitivity analysis'
			: '- Primary population: intention to treat (every randomized participant with an outcome); per protocol (attention-check passers) as a sensitivity analysis'
	);
	out.push(
		'- Multiplicity: Holm across every arm-against-control comparison on the primary outcome(s) together; within each secondary outcome across arms'
	);
	if (a.primary_model === 'mixed_logistic')
		out.push(
			'- Primary model: mixed-effects logistic regression with participant and scenario random intercepts (Laplace, as lme4::glmer); the difference in proportions is secondary'
		);
	out.push(
		'- Estimands and methods: Bedside analysis v1 (arm accuracies with Wilson intervals, Newcombe differences, decision-mediation gap, proxy-vs-clinical relationships); anything else is reported as exploratory.',
		''
	);

	const s = p.sample_size;
	out.push('## Sample size', '', `- Target: ${s.target} participants`);
	if (s.power)
		out.push(
			`- Power inputs: control ${s.power.p_control}, treatment ${s.power.p_treatment}, alpha ${s.power.alpha}, power ${s.power.power}`
		);
	out.push('');

	if (p.tests_assumptions.length > 0) {
		out.push('## Benchmark assumptions tested', '');
		for (const t of p.tests_assumptions)
			out.push(`- \`${t.assumption}\` of BenchmarkCard \`${t.card}\``);
		out.push('');
	}
	return out;
}

/** The power of the design as registered (§8.7), when the protocol gave power inputs. */
function designPowerSection(doc: PreregistrationDocument): string[] {
	const d = doc.registrations[doc.registrations.length - 1]!.design_power;
	if (!d) return [];
	return [
		'## Power of the design',
		'',
		`- ${d.participants_control} participants in control and ${d.participants_treatment} in the treatment arm, ${d.episodes_per_participant} episode(s) each, expected ICC ${d.icc}; accuracy ${d.p_control} against ${d.p_treatment}, alpha ${d.alpha}`,
		`- Design effect ${d.design_effect}; power ${d.analytic_power} by the design effect${d.simulated_power === null ? '' : `, ${d.simulated_power} ± ${d.monte_carlo_se} by ${d.simulations} simulated studies (seed ${d.seed})`}`,
		`- Method: ${d.method}`,
		''
	];
}
