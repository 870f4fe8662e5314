import type { AnalysisResult } from '../result.ts';
import type { Blocks } from './blocks.ts';
import { ci, num, numci, pct, pv } from './format.ts';

// Triage errors, baseline balance and the sample size a follow-up study would need.

export function triageSection(b: Blocks, a: AnalysisResult) {
	b.heading(3, 'Under- and over-triage');
	b.paragraph(
		'Chosen disposition against the correct one on the study’s ordered scale; under-triage is the dangerous error. Wilson intervals.'
	);
	b.table(
		['arm', 'n', 'under-triage (95% CI)', 'correct', 'over-triage (95% CI)'],
		a.triage.map((t) => [
			t.arm,
			t.n,
			`${pct(t.under.p)} (${ci(t.under.ci)})`,
			pct(t.correct.p),
			`${pct(t.over.p)} (${ci(t.over.ci)})`
		])
	);
	const o = a.ordinal;
	if (o) {
		b.paragraph(
			`The same decisions as an ordered response: ${o.method}, n ${o.n}. An odds ratio above 1 means the arm's participants chose more urgent dispositions than control's, whatever the cut-off on the scale (${o.levels.join(' < ')}).`
		);
		const clustered = o.effects.some((e) => e.cluster_robust);
		b.table(
			[
				'arm',
				'vs',
				'odds ratio of a more urgent decision',
				clustered ? '95% CI, cluster-robust (primary)' : '95% CI',
				...(clustered ? ['95% CI, model'] : []),
				'p'
			],
			o.effects.map((e) => [
				e.arm,
				e.vs,
				num(e.odds_ratio),
				numci(e.cluster_robust?.ci ?? e.ci),
				...(clustered ? [numci(e.ci)] : []),
				pv(e.cluster_robust?.p_value ?? e.p_value)
			])
		);
	}
}

export function balanceSection(b: Blocks, a: AnalysisResult) {
	const balance = a.balance;
	if (balance.length === 0) return;
	const armIds = a.consort.arms.map((x) => x.arm);
	b.heading(3, 'Baseline balance');
	b.paragraph(
		'Covariates by arm among those allocated: mean (SD), or the share for each level, and the standardized difference from control (|d| > 0.1 is usually flagged). No tests: any baseline difference after randomization is by chance.'
	);
	const others = armIds.filter((arm) => balance.some((x) => arm in x.standardized_difference));
	b.table(
		['covariate', ...armIds, ...others.map((arm) => `d (${arm} − control)`)],
		balance.map((row) => [
			row.level === null ? row.covariate : `${row.covariate} = ${row.level}`,
			...armIds.map((arm) => {
				const v = row.by_arm[arm];
				if (!v || v.n === 0) return '—';
				return row.type === 'numeric'
					? `${num(v.mean)} (${num(v.sd)}), n ${v.n}`
					: `${pct(v.mean)} of ${v.n}`;
			}),
			...others.map((arm) => {
				const d = row.standardized_difference[arm];
				return d === null || d === undefined
					? '—'
					: `${num(d)}${Math.abs(d) > 0.1 ? ' (flag)' : ''}`;
			})
		])
	);
}

export function powerSection(b: Blocks, a: AnalysisResult) {
	const power = a.power;
	if (!power) return;
	b.heading(3, 'Sample size for a follow-up study');
	b.paragraph(
		`To detect ${pct(power.p_control)} (control) against ${pct(power.p_arm)} on ${power.outcome ?? '—'} with power ${power.power} at alpha ${power.alpha}: ${power.n_per_arm ?? 'not computable'} per arm (${power.method}).`
	);
}

/** Interaction integrity by arm: pasting, leaving the page, deciding implausibly fast. */
export function integritySection(b: Blocks, a: AnalysisResult) {
	const rows = a.integrity;
	if (rows.length === 0) return;
	b.heading(3, 'Interaction integrity');
	b.paragraph(
		'Did participants bring answers from elsewhere? Per arm, the share of episodes with text pasted into the page (its length is recorded, never the text), with the page hidden at least once (another tab or app), and decided under 10 seconds after the assistant (or usual-sources) step began. A control arm that pastes a lot may have used its own chatbot.'
	);
	b.table(
		[
			'arm',
			'episodes',
			'pasted text',
			'mean characters pasted',
			'left the page',
			'decided in under 10 s',
			'median seconds typing',
			'median seconds in the step'
		],
		rows.map((r) => [
			r.arm,
			r.n,
			pct(r.pasted_share),
			num(r.pasted_chars_mean, 1),
			pct(r.left_page_share),
			pct(r.fast_share),
			num(r.median_typing_seconds, 1),
			num(r.median_assist_seconds, 1)
		])
	);
}
