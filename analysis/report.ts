import type { analyze } from './analyze.ts';
import type { BalanceRow } from './balance.ts';
import {
	consortDiagram,
	escapeXml,
	forestPlot,
	mediationChart,
	proxyEffectsChart,
	waterfallChart,
	type ConsortCounts
} from './charts.ts';

// The analysis as a report for people, in Markdown and as one self-contained HTML file. One list
// of blocks (headings, paragraphs, tables, charts) is built from the analysis JSON and rendered
// twice, so both forms say the same thing in the same order: what was preregistered first (plan,
// seed, the declared outcomes), then everything else labelled exploratory. Every estimate carries
// its n, interval and method. Charts are SVG in the HTML; Markdown points to them.

type Analysis = ReturnType<typeof analyze>;
type Interval = [number, number] | null | undefined;

export type Block =
	| { kind: 'heading'; level: 1 | 2 | 3; text: string }
	| { kind: 'paragraph'; text: string }
	| { kind: 'list'; items: string[] }
	| { kind: 'table'; header: string[]; rows: unknown[][] }
	| { kind: 'chart'; title: string; svg: string };

// Every number goes through these: an estimate that cannot be computed (no events, a zero cell,
// an empty arm on an interim look) reads "not estimable", never NaN or Infinity.
const NOT_ESTIMABLE = 'not estimable';
const missing = (x: number | null | undefined): x is null | undefined =>
	x === null || x === undefined;
const estimable = (c: Interval): c is [number, number] =>
	!!c && Number.isFinite(c[0]) && Number.isFinite(c[1]);
const pct = (p: number | null | undefined) =>
	missing(p) ? '—' : Number.isFinite(p) ? `${(100 * p).toFixed(1)}%` : NOT_ESTIMABLE;
const ci = (c: Interval) =>
	!c ? '—' : estimable(c) ? `${pct(c[0])} to ${pct(c[1])}` : NOT_ESTIMABLE;
const pp = (d: number | null | undefined) =>
	missing(d)
		? '—'
		: Number.isFinite(d)
			? `${d >= 0 ? '+' : ''}${(100 * d).toFixed(1)} pp`
			: NOT_ESTIMABLE;
/** An accuracy lost between stages, as a drop ("a drop of 12.0 pp"; a gain says so). */
const drop = (d: number | null | undefined) =>
	missing(d) || !Number.isFinite(d)
		? pp(d)
		: d >= 0
			? `a drop of ${(100 * d).toFixed(1)} pp`
			: `a gain of ${(-100 * d).toFixed(1)} pp`;
const ppci = (c: Interval) =>
	!c ? '—' : estimable(c) ? `${pp(c[0])} to ${pp(c[1])}` : NOT_ESTIMABLE;
const pv = (p: number | null | undefined) =>
	missing(p) ? '—' : !Number.isFinite(p) ? NOT_ESTIMABLE : p < 0.001 ? '< 0.001' : p.toFixed(3);
const num = (x: number | null | undefined, digits = 2) =>
	missing(x) ? '—' : Number.isFinite(x) ? x.toFixed(digits) : NOT_ESTIMABLE;
const numci = (c: Interval, digits = 2) =>
	!c ? '—' : estimable(c) ? `${num(c[0], digits)} to ${num(c[1], digits)}` : NOT_ESTIMABLE;

interface EffectRow {
	outcome: string;
	arm: string;
	vs: string;
	n: number;
	n_control: number;
	diff: number | null;
	ci: Interval;
	p_value: number | null;
	p_holm?: number | null;
	test: string;
	method: string;
	adjusted?: {
		odds_ratio: number;
		ci: Interval;
		method: string;
		cluster_robust?: { ci: Interval; p_value: number; method: string };
	} | null;
	cluster_bootstrap?: { ci: Interval; method: string } | null;
}

interface MediationRow {
	arm: string;
	outcome: string;
	llm_alone: { p: number | null; ci: Interval; n?: number } | null;
	llm_in_conversation: { p: number | null; ci: Interval; n: number };
	users: { p: number | null; ci: Interval; n: number };
	gap: { diff: number; ci: Interval; p_value: number | null; method: string } | null;
	uptake?: { p: number | null; ci: Interval; n: number } | null;
	advice_not_taken_up: number | null;
	right_despite_wrong_advice: number | null;
	coder_agreement_kappa: number | null;
}

interface ProxyRow {
	proxy: string;
	outcome: string;
	spearman: { rho: number; ci: Interval; n: number };
	auc: { estimate: number; ci: Interval } | null;
	effects: {
		arm: string;
		proxy_diff: { diff: number; ci: Interval };
		outcome_diff: { diff: number | null; ci: Interval };
		discordant: boolean;
		pte: { estimate: number | null; ci: Interval };
	}[];
	trial_level_r2: number | null;
}

/** The report as blocks, in reading order. */
export function reportBlocks(a: Analysis, title = a.study.slug): Block[] {
	const out: Block[] = [];
	const h = (level: 1 | 2 | 3, text: string) => out.push({ kind: 'heading', level, text });
	const p = (text: string) => out.push({ kind: 'paragraph', text });
	const table = (header: string[], rows: unknown[][]) => out.push({ kind: 'table', header, rows });
	const chart = (title: string, svg: string) => out.push({ kind: 'chart', title, svg });

	const plan = a.plan;
	const declared = new Set(a.declared_outcomes.map((o) => o.name));
	const primary = a.declared_outcomes.find((o) => o.role === 'primary')?.name;
	h(1, `${title}: analysis`);
	// "Preregistered" only when the export carries the registration; otherwise the same analyses
	// are those of the declared outcomes under the default plan.
	const registered = Boolean(a.study.preregistration_sha256);
	p(
		[
			`Study ${a.study.slug}; preregistration SHA-256 ${a.study.preregistration_sha256 ?? 'none (not preregistered)'}.`,
			`${registered ? 'Preregistered plan' : 'Analysis plan (not preregistered)'}: test ${plan.test}, alpha ${plan.alpha}, ${plan.bootstrap} bootstrap resamples; seed ${a.seed}.`,
			`Primary outcome: ${primary ?? 'none declared'}. Intervals are 95%. Proportions in percent; differences in percentage points (pp).`
		].join(' ')
	);
	if (a.clustered_by_participant)
		p(
			'Participants decided on several scenarios, so their episodes are not independent: cluster-robust variants (by participant) are shown beside the plain intervals.'
		);

	h(
		2,
		registered ? 'Preregistered analyses' : 'Analyses of the declared outcomes (not preregistered)'
	);
	p(
		registered
			? 'The outcomes the protocol declared, analysed with the preregistered test, Holm-adjusted across the arm comparisons.'
			: 'This export carries no preregistration: the outcomes the protocol declared, analysed with the default plan, Holm-adjusted across the arm comparisons. None of it is confirmatory.'
	);

	const consort = a.consort as ConsortCounts;
	const armIds = Object.keys(consort.allocated);
	h(3, 'Participant flow (CONSORT)');
	p(
		`Consented: ${consort.consented}. Excluded: ${consort.excluded.total}${
			Object.keys(consort.excluded.reasons).length
				? ` (${Object.entries(consort.excluded.reasons)
						.map(([r, n]) => `${r}: ${n}`)
						.join('; ')})`
				: ''
		}.`
	);
	table(
		['arm', 'allocated', 'completed', 'withdrawn', 'analysed'],
		armIds.map((arm) => [
			arm,
			consort.allocated[arm],
			consort.completed[arm],
			consort.withdrawn[arm],
			consort.analysed[arm]
		])
	);
	chart('CONSORT flow diagram', consortDiagram(consort));

	const arms = a.arms as {
		arm: string;
		n: number;
		outcomes: Record<
			string,
			{ successes: number; n: number; p: number | null; ci: Interval; method: string }
		>;
	}[];
	const outcomes = [...new Set(arms.flatMap((x) => Object.keys(x.outcomes)))];
	const armTable = (which: string[]) =>
		table(
			['arm', 'outcome', 'correct / n', 'p', '95% CI', 'method'],
			arms.flatMap((x) =>
				which.map((o) => {
					const v = x.outcomes[o];
					return [x.arm, o, v ? `${v.successes} / ${v.n}` : '—', pct(v?.p), ci(v?.ci), v?.method];
				})
			)
		);
	h(3, 'Arms');
	armTable(outcomes.filter((o) => declared.has(o)));

	const effects = a.effects as unknown as EffectRow[];
	const effectTable = (rows: EffectRow[]) => {
		const clustered = rows.some((e) => e.cluster_bootstrap);
		table(
			[
				'outcome',
				'arm',
				'vs',
				'difference',
				'95% CI',
				...(clustered ? ['95% CI, cluster bootstrap'] : []),
				'p',
				'p (Holm)',
				'test',
				'method',
				'adjusted OR (95% CI)',
				...(clustered ? ['adjusted OR 95% CI, cluster-robust'] : [])
			],
			rows.map((e) => [
				e.outcome,
				e.arm,
				e.vs,
				pp(e.diff),
				ppci(e.ci),
				...(clustered ? [ppci(e.cluster_bootstrap?.ci)] : []),
				pv(e.p_value),
				pv(e.p_holm),
				e.test,
				e.method,
				e.adjusted ? `${num(e.adjusted.odds_ratio)} (${numci(e.adjusted.ci)})` : '—',
				...(clustered ? [numci(e.adjusted?.cluster_robust?.ci)] : [])
			])
		);
	};
	const forest = (rows: EffectRow[], label: string) =>
		chart(
			label,
			forestPlot(
				rows.map((e) => ({ label: `${e.arm}: ${e.outcome}`, diff: e.diff, ci: e.ci })),
				label
			)
		);
	const preregisteredEffects = effects.filter((e) => declared.has(e.outcome));
	if (preregisteredEffects.length > 0) {
		h(3, 'Effects against control');
		p(
			`Difference in proportions (arm − control) with Newcombe’s hybrid score interval; p from the plan’s test (${plan.test}; Fisher’s exact test where an expected count is below 5). Adjusted: logistic regression with scenario fixed effects, Wald interval.`
		);
		effectTable(preregisteredEffects);
		forest(preregisteredEffects, 'Effects against control (forest plot)');
	}

	const mediation = (a.mediation as unknown as (MediationRow | null)[]).filter(
		(m): m is MediationRow => m !== null && declared.has(m.outcome)
	);
	if (mediation.length > 0) {
		h(3, 'Decision mediation');
		p(
			'What the model decides alone (benchmark runs, standardized to the arm’s scenario mix), what it recommended in the conversations, and what the same participants decided. The gap is paired: Newcombe’s paired score interval, McNemar’s test.'
		);
		table(
			[
				'arm',
				'outcome',
				'LLM alone',
				'LLM in conversation',
				'users',
				'gap (LLM − users)',
				'p',
				'uptake (disposition)'
			],
			mediation.map((m) => [
				m.arm,
				m.outcome,
				m.llm_alone ? `${pct(m.llm_alone.p)} (${ci(m.llm_alone.ci)})` : '—',
				`${pct(m.llm_in_conversation.p)} (${ci(m.llm_in_conversation.ci)}), n ${m.llm_in_conversation.n}`,
				`${pct(m.users.p)} (${ci(m.users.ci)}), n ${m.users.n}`,
				m.gap ? `${pp(m.gap.diff)} (${ppci(m.gap.ci)})` : '—',
				pv(m.gap?.p_value),
				// Uptake compares dispositions (did they do what it recommended?): it is the same
				// whatever the outcome, so it is shown once, on the disposition's row.
				m.outcome === 'disposition_correct' && m.uptake
					? `${pct(m.uptake.p)} (${ci(m.uptake.ci)}), n ${m.uptake.n}`
					: '—'
			])
		);
		table(
			[
				'arm',
				'outcome',
				'correct advice not taken up',
				'right despite wrong advice',
				"coders' kappa"
			],
			mediation.map((m) => [
				m.arm,
				m.outcome,
				pp(m.advice_not_taken_up),
				pp(m.right_despite_wrong_advice),
				num(m.coder_agreement_kappa)
			])
		);
		for (const m of mediation)
			chart(
				`Decision mediation, ${m.arm}, ${m.outcome}`,
				mediationChart(
					[
						{
							label: 'LLM alone',
							p: m.llm_alone?.p ?? null,
							ci: m.llm_alone?.ci,
							n: m.llm_alone?.n
						},
						{
							label: 'LLM in conversation',
							p: m.llm_in_conversation.p,
							ci: m.llm_in_conversation.ci,
							n: m.llm_in_conversation.n
						},
						{ label: 'users', p: m.users.p, ci: m.users.ci, n: m.users.n }
					],
					`Decision mediation, ${m.arm}, ${m.outcome}`
				)
			);
	}

	const movesOutcome = (d: { ci: Interval } | null | undefined) =>
		!!d && estimable(d.ci) && (d.ci[0] > 0 || d.ci[1] < 0);
	const proxies = a.proxies as unknown as ProxyRow[];
	const preregisteredProxies = proxies.filter((x) => declared.has(x.proxy));
	const proxySection = (rows: ProxyRow[]) => {
		table(
			[
				'proxy',
				'outcome',
				'Spearman ρ (95% CI), n',
				'AUC (95% CI)',
				'discordant arms',
				'PTE (95% CI)',
				'trial-level R²'
			],
			rows.map((x) => [
				x.proxy,
				x.outcome,
				`${num(x.spearman.rho)} (${numci(x.spearman.ci)}), n ${x.spearman.n}`,
				x.auc ? `${num(x.auc.estimate)} (${numci(x.auc.ci)})` : '—',
				x.effects
					.filter((e) => e.discordant)
					.map((e) => e.arm)
					.join(', ') || 'none',
				x.effects
					.map((e) =>
						// PTE divides by the effect on the outcome: without one, it means nothing.
						movesOutcome(e.outcome_diff)
							? `${e.arm}: ${num(e.pte.estimate)} (${numci(e.pte.ci)})`
							: `${e.arm}: not interpretable (no clear effect on the outcome)`
					)
					.join('; ') || '—',
				num(x.trial_level_r2)
			])
		);
		for (const x of rows.filter((r) => r.effects.length > 0))
			chart(
				`Effects on ${x.proxy} and on ${x.outcome}`,
				proxyEffectsChart(
					x.effects.map((e) => ({
						arm: e.arm,
						proxy: e.proxy_diff,
						outcome: e.outcome_diff,
						discordant: e.discordant
					})),
					x.proxy,
					x.outcome
				)
			);
	};
	if (preregisteredProxies.length > 0) {
		h(3, 'Proxies against the clinical outcome');
		p(
			'Does the proxy track the outcome it stands in for? Spearman’s ρ (Fisher-z interval) and the AUC (DeLong) over all analysed episodes; per arm, the effects on the proxy (Welch) and on the outcome (Newcombe), discordance, and Freedman’s proportion of treatment effect explained (PTE, percentile bootstrap).'
		);
		proxySection(preregisteredProxies);
	}

	// Everything below was not named by the protocol.
	h(2, 'Exploratory analyses (not preregistered)');
	const undeclared = outcomes.filter((o) => !declared.has(o));
	if (undeclared.length > 0) {
		h(3, 'Outcomes the protocol did not declare');
		armTable(undeclared);
		const rows = effects.filter((e) => !declared.has(e.outcome));
		if (rows.length > 0) effectTable(rows);
	}
	const undeclaredProxies = proxies.filter((x) => !declared.has(x.proxy));
	if (undeclaredProxies.length > 0) {
		h(3, 'Other measures against the clinical outcome');
		proxySection(undeclaredProxies);
	}

	const triage = a.triage as {
		arm: string;
		n: number;
		under: { p: number | null; ci: Interval };
		correct: { p: number | null };
		over: { p: number | null; ci: Interval };
	}[];
	h(3, 'Under- and over-triage');
	p(
		'Chosen disposition against the correct one on the study’s ordered scale; under-triage is the dangerous error. Wilson intervals.'
	);
	table(
		['arm', 'n', 'under-triage (95% CI)', 'correct', 'over-triage (95% CI)'],
		triage.map((t) => [
			t.arm,
			t.n,
			`${pct(t.under.p)} (${ci(t.under.ci)})`,
			pct(t.correct.p),
			`${pct(t.over.p)} (${ci(t.over.ci)})`
		])
	);

	const balance = a.balance as BalanceRow[];
	if (balance.length > 0) {
		h(3, 'Baseline balance');
		p(
			'Covariates by arm among those allocated: mean (SD), or the share for each level, and the standardized difference from control (|d| > 0.1 is usually flagged). No tests: any baseline difference after randomization is by chance.'
		);
		const others = armIds.filter((arm) => balance.some((b) => arm in b.standardized_difference));
		table(
			['covariate', ...armIds, ...others.map((arm) => `d (${arm} − control)`)],
			balance.map((b) => [
				b.level === null ? b.covariate : `${b.covariate} = ${b.level}`,
				...armIds.map((arm) => {
					const v = b.by_arm[arm];
					if (!v || v.n === 0) return '—';
					return b.type === 'numeric'
						? `${num(v.mean)} (${num(v.sd)}), n ${v.n}`
						: `${pct(v.mean)} of ${v.n}`;
				}),
				...others.map((arm) => {
					const d = b.standardized_difference[arm];
					return d === null || d === undefined
						? '—'
						: `${num(d)}${Math.abs(d) > 0.1 ? ' (flag)' : ''}`;
				})
			])
		);
	}

	const d = a.decomposition;
	if (d) {
		h(3, 'Where the benchmark’s accuracy goes');
		p(
			`For ${d.arm} on ${d.outcome}: ${d.method}. Each drop is charged to the assumption relaxed at that step: task assumptions account for ${drop(d.task_total)}, outcome assumptions for ${drop(d.outcome_total)}.`
		);
		table(
			['stage', 'accuracy', 'assumption relaxed', 'type', 'drop'],
			d.stages.map((s, i) => [
				s.name,
				pct(s.p),
				'relaxes' in s ? s.relaxes : '—',
				'type' in s ? s.type : '—',
				i === 0 ? '—' : drop(d.steps[i - 1]!.drop)
			])
		);
		chart('Staged decomposition (waterfall)', waterfallChart(d, 'Staged decomposition'));
	}

	const power = a.power as {
		outcome: string | null;
		p_control: number | null;
		p_arm: number | null;
		n_per_arm: number | null;
		alpha: number;
		power: number;
		method: string;
	} | null;
	if (power) {
		h(3, 'Sample size for a follow-up study');
		p(
			`To detect ${pct(power.p_control)} (control) against ${pct(power.p_arm)} on ${power.outcome ?? '—'} with power ${power.power} at alpha ${power.alpha}: ${power.n_per_arm ?? 'not computable'} per arm (${power.method}).`
		);
	}
	out.push({
		kind: 'list',
		items: [
			`Method names match the JSON (${a.format}); the JSON holds every number with full precision.`,
			`Rerunning with seed ${a.seed} gives the same numbers.`
		]
	});
	return out;
}

/** Table cells never break a Markdown table, whatever a label holds. */
const mdCell = (s: unknown) =>
	String(s ?? '—')
		.replace(/\|/g, '\\|')
		.replace(/\n/g, ' ');

export function markdownReport(a: Analysis, title = a.study.slug): string {
	const out = reportBlocks(a, title).map((b): string => {
		switch (b.kind) {
			case 'heading':
				return `${'#'.repeat(b.level)} ${b.text}`;
			case 'paragraph':
				return b.text;
			case 'list':
				return b.items.map((i) => `- ${i}`).join('\n');
			case 'table':
				return [
					`| ${b.header.map(mdCell).join(' | ')} |`,
					`|${b.header.map(() => '---').join('|')}|`,
					...b.rows.map((r) => `| ${r.map(mdCell).join(' | ')} |`)
				].join('\n');
			case 'chart':
				return `*Chart: ${b.title} (in the HTML report).*`;
		}
	});
	return `${out.join('\n\n')}\n`;
}

const STYLE = `
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2933; max-width: 1100px; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2.5rem; border-bottom: 2px solid #1f2933; } h3 { margin-top: 2rem; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 13px; display: block; overflow-x: auto; }
th, td { border: 1px solid #cbd2d9; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f5f7fa; }
figure { margin: 1rem 0; overflow-x: auto; } figcaption { color: #52606d; font-size: 13px; }
svg { max-width: 100%; height: auto; }
@media print { h2, h3 { break-after: avoid; } figure, table { break-inside: avoid; } }
`;

/** The report as one HTML file: inline CSS and SVG, no script, nothing fetched. */
export function htmlReport(a: Analysis, title = a.study.slug): string {
	const body = reportBlocks(a, title).map((b): string => {
		switch (b.kind) {
			case 'heading':
				return `<h${b.level}>${escapeXml(b.text)}</h${b.level}>`;
			case 'paragraph':
				return `<p>${escapeXml(b.text)}</p>`;
			case 'list':
				return `<ul>${b.items.map((i) => `<li>${escapeXml(i)}</li>`).join('')}</ul>`;
			case 'table':
				return [
					'<table>',
					`<thead><tr>${b.header.map((c) => `<th scope="col">${escapeXml(c)}</th>`).join('')}</tr></thead>`,
					'<tbody>',
					...b.rows.map(
						(r) => `<tr>${r.map((c) => `<td>${escapeXml(c ?? '—')}</td>`).join('')}</tr>`
					),
					'</tbody></table>'
				].join('\n');
			case 'chart':
				return `<figure>${b.svg}<figcaption>${escapeXml(b.title)}</figcaption></figure>`;
		}
	});
	return [
		'<!doctype html>',
		'<html lang="en">',
		'<head>',
		'<meta charset="utf-8">',
		'<meta name="viewport" content="width=device-width, initial-scale=1">',
		`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
		`<title>${escapeXml(`${title}: analysis`)}</title>`,
		`<style>${STYLE}</style>`,
		'</head>',
		'<body>',
		...body,
		'</body>',
		'</html>',
		''
	].join('\n');
}
