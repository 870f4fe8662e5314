import { adviceFlowChart, mediationChart, waterfallChart } from '../charts.ts';
import type { AnalysisResult, Mediation } from '../result.ts';
import type { Blocks } from './blocks.ts';
import { ci, drop, num, pct, pp, ppci, pv } from './format.ts';
import { primaryInterval } from './effect-sections.ts';

// What the model decides alone, what it recommended, what people decided with it, and where the
// benchmark's accuracy goes on the way.

const withInterval = (p: number | null, c: ReturnType<typeof primaryInterval>, n?: number) =>
	`${pct(p)} (${ci(c)})${n === undefined ? '' : `, n ${n}`}`;

function mediationTables(b: Blocks, rows: readonly Mediation[], clustered: boolean) {
	b.table(
		[
			'arm',
			'outcome',
			'LLM alone',
			'LLM in conversation',
			'users',
			'gap (LLM − users)',
			...(clustered ? ['gap 95% CI, plain'] : []),
			'p',
			'benchmark-to-user gap',
			'uptake (disposition)'
		],
		rows.map((m) => [
			m.arm,
			m.outcome,
			m.llm_alone ? withInterval(m.llm_alone.p, m.llm_alone.ci) : '—',
			withInterval(
				m.llm_in_conversation.p,
				primaryInterval(m.llm_in_conversation.ci, m.llm_in_conversation.cluster_bootstrap),
				m.llm_in_conversation.n
			),
			withInterval(m.users.p, primaryInterval(m.users.ci, m.users.cluster_bootstrap), m.users.n),
			m.gap
				? `${pp(m.gap.diff)} (${ppci(primaryInterval(m.gap.ci, m.gap.cluster_bootstrap))})`
				: '—',
			...(clustered ? [ppci(m.gap?.ci)] : []),
			pv(m.gap?.p_value),
			m.benchmark_to_user_gap
				? `${pp(m.benchmark_to_user_gap.diff)} (${ppci(primaryInterval(m.benchmark_to_user_gap.ci, m.benchmark_to_user_gap.cluster_bootstrap))})`
				: '—',
			// Uptake compares dispositions (did they do what it recommended?): it is the same
			// whatever the outcome, so it is shown once, on the disposition's row.
			m.outcome === 'disposition_correct' && m.uptake.n > 0
				? `${pct(m.uptake.p)} (${ci(m.uptake.ci)}), n ${m.uptake.n}`
				: '—'
		])
	);
	b.table(
		[
			'arm',
			'outcome',
			'correct advice not taken up',
			'right despite wrong advice',
			"coders' kappa"
		],
		rows.map((m) => [
			m.arm,
			m.outcome,
			pp(m.advice_not_taken_up),
			pp(m.right_despite_wrong_advice),
			num(m.coder_agreement_kappa)
		])
	);
}

export function mediationSection(b: Blocks, a: AnalysisResult, declared: ReadonlySet<string>) {
	const rows = a.mediation.filter((m) => declared.has(m.outcome));
	if (rows.length === 0) return;
	b.heading(3, 'Decision mediation');
	b.paragraph(
		'What the model decides alone (benchmark runs, standardized to the arm’s scenario mix), what it recommended in the conversations, and what the same participants decided. The gap is paired: Newcombe’s paired score interval (continuity-corrected phi), McNemar’s test. The benchmark-to-user gap combines the standardized model-alone interval with the users’ interval (MOVER).'
	);
	mediationTables(b, rows, a.clustered_by_participant);
	for (const m of rows) {
		const title = `Decision mediation, ${m.arm}, ${m.outcome}`;
		b.chart(
			title,
			mediationChart(
				[
					{ label: 'LLM alone', p: m.llm_alone?.p ?? null, ci: m.llm_alone?.ci, n: m.llm_alone?.n },
					{
						label: 'LLM in conversation',
						p: m.llm_in_conversation.p,
						ci: primaryInterval(m.llm_in_conversation.ci, m.llm_in_conversation.cluster_bootstrap),
						n: m.llm_in_conversation.n
					},
					{
						label: 'users',
						p: m.users.p,
						ci: primaryInterval(m.users.ci, m.users.cluster_bootstrap),
						n: m.users.n
					}
				],
				title
			)
		);
	}
}

export function decompositionSection(b: Blocks, a: AnalysisResult) {
	const d = a.decomposition;
	if (!d) return;
	b.heading(3, 'Where the benchmark’s accuracy goes');
	b.paragraph(
		`For ${d.arm} on ${d.outcome}: ${d.method}. Each drop is charged to the assumption relaxed at that step: task assumptions account for ${drop(d.task_total)}, outcome assumptions for ${drop(d.outcome_total)}.`
	);
	b.table(
		['stage', 'accuracy', 'assumption relaxed', 'type', 'drop', 'drop 95% CI'],
		d.stages.map((s, i) => {
			const step = i === 0 ? null : d.steps[i - 1]!;
			return [
				s.name,
				pct(s.p),
				s.relaxes ?? '—',
				s.type ?? '—',
				step ? drop(step.drop) : '—',
				step ? ppci(step.ci) : '—'
			];
		})
	);
	b.chart('Staged decomposition (waterfall)', waterfallChart(d, 'Staged decomposition'));
}

/** Model-coded estimates beside their correction by the people-coded sample (§8.6). */
export function coderCorrectionSection(
	b: Blocks,
	a: AnalysisResult,
	declared: ReadonlySet<string>
) {
	const rows = a.coder_correction.filter((c) => declared.has(c.outcome));
	if (rows.length === 0) return;
	b.heading(3, 'Coded by a model, corrected by people');
	b.paragraph(
		`${rows[0]!.method}. The corrected estimate is unbiased whatever the model's error rates, because people coded a random sample; when the two disagree, the naive one carries the model's errors.`
	);
	b.table(
		[
			'arm',
			'outcome',
			'model coder',
			'people-coded / all',
			'LLM in conversation: naive',
			'corrected',
			'gap: naive',
			'corrected',
			'kappa model–people (n)',
			'kappa people–people (n)'
		],
		rows.map((c) => [
			c.arm,
			c.outcome,
			c.model_coder,
			`${c.coded_by_people} / ${c.conversations}`,
			`${pct(c.llm_in_conversation.naive.p)} (${ci(c.llm_in_conversation.naive.ci)})`,
			`${pct(c.llm_in_conversation.corrected.p)} (${ci(c.llm_in_conversation.corrected.ci)})`,
			`${pp(c.gap.naive.diff)} (${ppci(c.gap.naive.ci)})`,
			`${pp(c.gap.corrected.diff)} (${ppci(c.gap.corrected.ci)})`,
			`${num(c.agreement.model_vs_people.kappa)} (${c.agreement.model_vs_people.n})`,
			`${num(c.agreement.people_vs_people.kappa)} (${c.agreement.people_vs_people.n})`
		])
	);
}

/** How advice was taken, when participants decided before and after the advice (§8.1). */
export function adviceTakingSection(b: Blocks, a: AnalysisResult) {
	const rows = a.advice_taking;
	if (rows.length === 0) return;
	b.heading(3, 'How advice was taken');
	b.paragraph(
		'Participants decided before the assistant (in control, before whatever they would normally use) and again after. Switch table of initial and final correctness with McNemar’s test; improvement is P(final right | initial wrong), harm P(final wrong | initial right), Wilson intervals; the change in accuracy against control’s change with a participant-cluster bootstrap.'
	);
	b.table(
		[
			'arm',
			'n',
			'initial → final accuracy',
			'improved',
			'harmed',
			'McNemar p',
			'change vs control (95% CI)'
		],
		rows.map((r) => [
			r.arm,
			r.n,
			`${pct(r.initial_accuracy.p)} → ${pct(r.final_accuracy.p)}`,
			`${pct(r.improvement.p)} (${ci(r.improvement.ci)}), n ${r.improvement.n}`,
			`${pct(r.harm.p)} (${ci(r.harm.ci)}), n ${r.harm.n}`,
			pv(r.mcnemar_p),
			r.change_vs_control
				? `${pp(r.change_vs_control.diff)} (${ppci(r.change_vs_control.ci)})`
				: '—'
		])
	);
	b.chart(
		'Initial to final decision, by arm',
		adviceFlowChart(
			rows.map((r) => ({
				arm: r.arm,
				bothRight: r.switch_table.both_right,
				improved: r.switch_table.improved,
				harmed: r.switch_table.harmed,
				bothWrong: r.switch_table.both_wrong
			})),
			'Initial to final decision, by arm'
		)
	);
	const relied = rows.filter((r) => r.reliance);
	if (relied.length > 0)
		b.table(
			[
				'arm',
				'took right advice when initially wrong (RAIR)',
				'kept a right decision against wrong advice (RSR)',
				'followed wrong advice',
				'weight of advice, mean / median (n)'
			],
			relied.map((r) => {
				const x = r.reliance!;
				return [
					r.arm,
					`${pct(x.rair.p)} (${ci(x.rair.ci)}), n ${x.rair.n}`,
					`${pct(x.rsr.p)} (${ci(x.rsr.ci)}), n ${x.rsr.n}`,
					`${pct(x.following_wrong_advice.p)} (${ci(x.following_wrong_advice.ci)}), n ${x.following_wrong_advice.n}`,
					`${num(x.weight_of_advice.mean)} / ${num(x.weight_of_advice.median)} (${x.weight_of_advice.n})`
				];
			})
		);
}
