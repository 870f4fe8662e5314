import { forestPlot } from '../charts.ts';
import type { AnalysisResult, ArmSummary, Effect, Interval } from '../result.ts';
import type { Blocks } from './blocks.ts';
import { ci, num, numci, pct, pp, ppci, pv, words } from './format.ts';

// Accuracy per arm and each arm against control; the same for the sensitivity population.

/** The interval the report calls primary: the participant-cluster one where there is one. */
export function primaryInterval(
	plain: Interval | null,
	cluster: { ci: Interval | null } | null | undefined
): Interval | null {
	return cluster ? cluster.ci : plain;
}

export function armTable(b: Blocks, arms: readonly ArmSummary[], outcomes: readonly string[]) {
	b.table(
		['arm', 'outcome', 'correct / n', 'p', '95% CI', 'method'],
		arms.flatMap((x) =>
			outcomes.map((o) => {
				const v = x.outcomes[o];
				return [x.arm, o, v ? `${v.successes} / ${v.n}` : '—', pct(v?.p), ci(v?.ci), v?.method];
			})
		)
	);
}

/**
 * What an effect says, in words a reader cannot misread: a difference whose interval includes 0
 * is "inconclusive", never "no difference", unless equivalence within the plan's margin is shown.
 */
function readingOf(e: Effect): string {
	const eq = e.equivalence;
	switch (e.reading) {
		case 'higher':
			return 'higher than control';
		case 'lower':
			return 'lower than control';
		case 'equivalent':
			return `equivalent within ±${(100 * eq!.margin).toFixed(1)} pp (90% CI ${ppci(eq!.ci_90)}, TOST p ${pv(eq!.p_tost)})`;
		default:
			return eq
				? `inconclusive: equivalence within ±${(100 * eq.margin).toFixed(1)} pp not shown (90% CI ${ppci(eq.ci_90)})`
				: 'inconclusive (no equivalence margin in the plan)';
	}
}

export function effectTable(b: Blocks, rows: readonly Effect[]) {
	const clustered = rows.some((e) => e.cluster_bootstrap);
	b.table(
		[
			'outcome',
			'arm',
			'vs',
			'family',
			'difference',
			clustered ? '95% CI, cluster bootstrap (primary)' : '95% CI',
			...(clustered ? ['95% CI, plain'] : []),
			'p',
			'p (Holm)',
			'test',
			'reading',
			'method',
			clustered ? 'adjusted OR (95% CI, cluster-robust)' : 'adjusted OR (95% CI)',
			...(clustered ? ['adjusted OR 95% CI, plain'] : [])
		],
		rows.map((e) => [
			e.outcome,
			e.arm,
			e.vs,
			e.family,
			pp(e.diff),
			ppci(primaryInterval(e.ci, e.cluster_bootstrap)),
			...(clustered ? [ppci(e.ci)] : []),
			pv(e.p_value),
			pv(e.p_holm),
			e.test,
			readingOf(e),
			e.method,
			e.adjusted
				? `${num(e.adjusted.odds_ratio)} (${numci(e.adjusted.cluster_robust?.ci ?? e.adjusted.ci)})`
				: '—',
			...(clustered ? [numci(e.adjusted?.ci)] : [])
		])
	);
}

function forest(b: Blocks, rows: readonly Effect[], label: string) {
	b.chart(
		label,
		forestPlot(
			rows.map((e) => ({
				label: `${e.arm}: ${e.outcome}`,
				diff: e.diff,
				ci: primaryInterval(e.ci, e.cluster_bootstrap)
			})),
			label
		)
	);
}

export function effectsSection(b: Blocks, a: AnalysisResult, declared: ReadonlySet<string>) {
	const rows = a.effects.filter((e) => declared.has(e.outcome));
	if (rows.length === 0) return;
	b.heading(3, 'Effects against control');
	b.paragraph(
		`Difference in proportions (arm − control) with Newcombe’s hybrid score interval; p from the plan’s test (${a.plan.test}; Fisher’s exact test where an expected count is below 5). Holm’s adjustment runs over the primary family (every arm against control on the primary outcome) together, and over the arms within each secondary outcome. Adjusted: logistic regression with scenario fixed effects, Wald interval. A difference whose interval includes 0 is inconclusive: it shows neither an effect nor its absence, unless equivalence within the plan’s margin is shown.`
	);
	effectTable(b, rows);
	forest(b, rows, 'Effects against control (forest plot, primary intervals)');
}

export function sensitivitySection(b: Blocks, a: AnalysisResult, declared: ReadonlySet<string>) {
	const s = a.sensitivity;
	if (!s) return;
	b.heading(3, `Sensitivity analysis: ${words(s.population)} population`);
	b.paragraph(
		s.population === 'per_protocol'
			? 'The same analyses over the per-protocol population: participants excluded after randomization and those who failed an attention check are left out. Not the primary analysis.'
			: 'The same analyses over every randomized participant with an outcome (intention to treat). Not the primary analysis.'
	);
	armTable(
		b,
		s.arms,
		[...new Set(s.arms.flatMap((x) => Object.keys(x.outcomes)))].filter((o) => declared.has(o))
	);
	const rows = s.effects.filter((e) => declared.has(e.outcome));
	if (rows.length > 0) effectTable(b, rows);
}

/** The mixed-effects logistic model per outcome (§8.4), primary when the plan names it. */
export function mixedSection(b: Blocks, a: AnalysisResult, outcomes: ReadonlySet<string>) {
	const rows = a.mixed.filter((m) => outcomes.has(m.outcome));
	if (rows.length === 0) return;
	const primary = a.plan.primary_model === 'mixed_logistic';
	b.heading(3, `Mixed-effects logistic model${primary ? ' (the plan’s primary model)' : ''}`);
	b.paragraph(
		`${rows[0]!.method}. Participants and scenarios differ: the model lets each have its own level, so the arm's odds ratio is conditional on them. The intraclass correlations are on the latent scale, σ²/(σ² + π²/3).`
	);
	b.table(
		[
			'outcome',
			'arm',
			'vs',
			'odds ratio (95% CI)',
			'p',
			'SD participant (ICC)',
			'SD scenario (ICC)',
			'n (participants, scenarios)'
		],
		rows.flatMap((m) =>
			m.effects.map((e) => [
				m.outcome,
				e.arm,
				e.vs,
				`${num(e.odds_ratio)} (${numci(e.ci)})`,
				pv(e.p_value),
				`${num(m.sd_participant)} (${num(m.icc_participant)})`,
				`${num(m.sd_scenario)} (${num(m.icc_scenario)})`,
				`${m.n} (${m.participants}, ${m.scenarios})`
			])
		)
	);
}

/** The effect of actually using the assistant (CACE), beside the effect of being offered it. */
export function caceSection(b: Blocks, a: AnalysisResult, declared: ReadonlySet<string>) {
	const rows = a.cace.filter((c) => declared.has(c.outcome));
	if (rows.length === 0) return;
	b.heading(3, 'The effect of actually using the assistant');
	b.paragraph(
		`The effects above are of being offered the assistant (intention to treat). Among those who would use it when offered, the effect of using it is the intention-to-treat effect divided by the share who used it: ${rows[0]!.method}.`
	);
	b.table(
		[
			'arm',
			'vs',
			'outcome',
			'used the assistant',
			'effect of being offered (ITT)',
			'effect of using it (CACE, 95% CI)',
			'p',
			'n (participants)'
		],
		rows.map((c) => [
			c.arm,
			c.vs,
			c.outcome,
			`${pct(c.used_share)} (${c.definition})`,
			pp(c.itt),
			`${pp(c.cace.estimate)} (${ppci(c.cace.ci)})`,
			pv(c.cace.p_value),
			`${c.n} (${c.clusters})`
		])
	);
}
