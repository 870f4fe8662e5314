import type { analyze } from './analyze.ts';

// The analysis as a Markdown report: what was preregistered first (the plan, the primary outcome),
// then the flow of participants, the arms, the effects, decision mediation and the proxies. Every
// estimate carries its n, interval and method; the seed is stated once at the top. Charts are
// not drawn yet.

type Analysis = ReturnType<typeof analyze>;
type Interval = [number, number] | null | undefined;

const pct = (p: number | null | undefined) =>
	p === null || p === undefined ? '—' : `${(100 * p).toFixed(1)}%`;
const ci = (c: Interval) => (c ? `${pct(c[0])} to ${pct(c[1])}` : '—');
const pp = (d: number | null | undefined) =>
	d === null || d === undefined ? '—' : `${d >= 0 ? '+' : ''}${(100 * d).toFixed(1)} pp`;
const ppci = (c: Interval) => (c ? `${pp(c[0])} to ${pp(c[1])}` : '—');
const pv = (p: number | null | undefined) =>
	p === null || p === undefined ? '—' : p < 0.001 ? '< 0.001' : p.toFixed(3);
const num = (x: number | null | undefined, digits = 2) =>
	x === null || x === undefined ? '—' : x.toFixed(digits);
/** Table cells never break the table, whatever a label holds. */
const cell = (s: unknown) =>
	String(s ?? '—')
		.replace(/\|/g, '\\|')
		.replace(/\n/g, ' ');

function table(header: string[], rows: unknown[][]): string {
	return [
		`| ${header.join(' | ')} |`,
		`|${header.map(() => '---').join('|')}|`,
		...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)
	].join('\n');
}

export function markdownReport(a: Analysis, title = a.study.slug): string {
	const out: string[] = [];
	const plan = a.plan as { alpha: number; test: string; bootstrap: number; seed: number };
	out.push(`# ${title}: analysis`);
	out.push(
		[
			`Study \`${a.study.slug}\`; preregistration SHA-256 \`${a.study.preregistration_sha256 ?? 'none'}\`.`,
			`Preregistered plan: test ${plan.test}, alpha ${plan.alpha}, ${plan.bootstrap} bootstrap resamples; seed ${a.seed}.`,
			'Intervals are 95%. Proportions in percent; differences in percentage points (pp).'
		].join('\n')
	);

	const consort = a.consort as Record<string, unknown> & {
		consented: number;
		excluded: { total: number; reasons: Record<string, number> };
	};
	const byArm = (key: string) => (consort[key] ?? {}) as Record<string, number>;
	const armIds = Object.keys(byArm('allocated'));
	out.push('## Participant flow (CONSORT)');
	out.push(
		`Consented: ${consort.consented}. Excluded: ${consort.excluded.total}${
			Object.keys(consort.excluded.reasons).length
				? ` (${Object.entries(consort.excluded.reasons)
						.map(([r, n]) => `${r}: ${n}`)
						.join('; ')})`
				: ''
		}.`
	);
	out.push(
		table(
			['arm', 'allocated', 'completed', 'withdrawn', 'analysed'],
			armIds.map((arm) => [
				arm,
				byArm('allocated')[arm],
				byArm('completed')[arm],
				byArm('withdrawn')[arm],
				byArm('analysed')[arm]
			])
		)
	);

	out.push('## Arms');
	const arms = a.arms as {
		arm: string;
		n: number;
		outcomes: Record<
			string,
			{ successes: number; n: number; p: number | null; ci: Interval; method: string }
		>;
	}[];
	const outcomes = [...new Set(arms.flatMap((x) => Object.keys(x.outcomes)))];
	out.push(
		table(
			['arm', 'outcome', 'correct / n', 'p', '95% CI', 'method'],
			arms.flatMap((x) =>
				outcomes.map((o) => {
					const v = x.outcomes[o];
					return [x.arm, o, v ? `${v.successes} / ${v.n}` : '—', pct(v?.p), ci(v?.ci), v?.method];
				})
			)
		)
	);

	const effects = a.effects as {
		outcome: string;
		arm: string;
		vs: string;
		diff: number | null;
		ci: Interval;
		p_value: number | null;
		p_holm?: number | null;
		method: string;
		adjusted?: { odds_ratio: number; ci: Interval; method: string };
	}[];
	if (effects.length > 0) {
		out.push('## Effects against control');
		out.push(
			table(
				[
					'outcome',
					'arm',
					'vs',
					'difference',
					'95% CI',
					'p',
					'p (Holm)',
					'method',
					'adjusted OR (95% CI)'
				],
				effects.map((e) => [
					e.outcome,
					e.arm,
					e.vs,
					pp(e.diff),
					ppci(e.ci),
					pv(e.p_value),
					pv(e.p_holm),
					e.method,
					e.adjusted?.odds_ratio !== undefined
						? `${num(e.adjusted.odds_ratio)} (${e.adjusted.ci ? `${num(e.adjusted.ci[0])} to ${num(e.adjusted.ci[1])}` : '—'})`
						: '—'
				])
			)
		);
	}

	const mediation = a.mediation as ({
		arm: string;
		outcome: string;
		llm_alone: { p: number | null; ci: Interval; n?: number } | null;
		llm_in_conversation: { p: number | null; ci: Interval; n: number };
		users: { p: number | null; ci: Interval; n: number };
		gap: { diff: number; ci: Interval; p_value: number | null; method: string } | null;
		uptake?: { p: number | null; ci: Interval; n: number } | null;
	} | null)[];
	const present = mediation.filter((m): m is NonNullable<typeof m> => m !== null);
	if (present.length > 0) {
		out.push('## Decision mediation');
		out.push(
			'What the model decides alone (benchmark runs, standardized to the arm’s scenario mix), what it recommended in conversations, and what the same participants decided. The gap is paired (Newcombe’s paired score interval, McNemar’s test).'
		);
		out.push(
			table(
				[
					'arm',
					'outcome',
					'LLM alone',
					'LLM in conversation',
					'users',
					'gap (LLM − users)',
					'p',
					'uptake'
				],
				present.map((m) => [
					m.arm,
					m.outcome,
					m.llm_alone ? `${pct(m.llm_alone.p)} (${ci(m.llm_alone.ci)})` : '—',
					`${pct(m.llm_in_conversation.p)} (${ci(m.llm_in_conversation.ci)}), n ${m.llm_in_conversation.n}`,
					`${pct(m.users.p)} (${ci(m.users.ci)}), n ${m.users.n}`,
					m.gap ? `${pp(m.gap.diff)} (${ppci(m.gap.ci)})` : '—',
					pv(m.gap?.p_value),
					m.uptake ? `${pct(m.uptake.p)} (${ci(m.uptake.ci)}), n ${m.uptake.n}` : '—'
				])
			)
		);
	}

	const proxies = a.proxies as {
		proxy: string;
		outcome: string;
		spearman: { rho: number; ci: Interval; n: number };
		auc: { estimate: number; ci: Interval } | null;
		effects: { arm: string; discordant: boolean; pte: { estimate: number | null; ci: Interval } }[];
	}[];
	if (proxies.length > 0) {
		out.push('## Proxies against the clinical outcome');
		out.push(
			table(
				[
					'proxy',
					'outcome',
					'Spearman ρ (95% CI), n',
					'AUC (95% CI)',
					'discordant arms',
					'PTE (95% CI)'
				],
				proxies.map((p) => [
					p.proxy,
					p.outcome,
					`${num(p.spearman.rho)} (${p.spearman.ci ? `${num(p.spearman.ci[0])} to ${num(p.spearman.ci[1])}` : '—'}), n ${p.spearman.n}`,
					p.auc
						? `${num(p.auc.estimate)} (${p.auc.ci ? `${num(p.auc.ci[0])} to ${num(p.auc.ci[1])}` : '—'})`
						: '—',
					p.effects
						.filter((e) => e.discordant)
						.map((e) => e.arm)
						.join(', ') || 'none',
					p.effects
						.map(
							(e) =>
								`${e.arm}: ${num(e.pte.estimate)}${e.pte.ci ? ` (${num(e.pte.ci[0])} to ${num(e.pte.ci[1])})` : ''}`
						)
						.join('; ') || '—'
				])
			)
		);
	}
	out.push('## Not computed yet');
	out.push((a.not_yet_computed as string[]).map((x) => `- ${x}`).join('\n'));
	return `${out.join('\n\n')}\n`;
}
