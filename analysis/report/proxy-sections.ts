import { proxyEffectsChart } from '../charts.ts';
import type { AnalysisResult, ProxyAssociation } from '../result.ts';
import type { Blocks } from './blocks.ts';
import { estimable, num, numci } from './format.ts';
import { primaryInterval } from './effect-sections.ts';

// Does the proxy track the outcome it stands in for?

const movesOutcome = (c: [number, number] | null) => estimable(c) && (c[0] > 0 || c[1] < 0);

export function proxyTable(b: Blocks, rows: readonly ProxyAssociation[]) {
	b.table(
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
			`${num(x.spearman.rho)} (${numci(primaryInterval(x.spearman.ci, x.spearman.cluster_bootstrap))}), n ${x.spearman.n}`,
			x.auc
				? `${num(x.auc.estimate)} (${numci(primaryInterval(x.auc.ci, x.auc.cluster_bootstrap))})`
				: '—',
			x.effects
				.filter((e) => e.discordant)
				.map((e) => e.arm)
				.join(', ') || 'none',
			x.effects
				.map((e) =>
					// PTE divides by the effect on the outcome: without one, it means nothing.
					movesOutcome(e.outcome_diff.ci)
						? `${e.arm}: ${num(e.pte.estimate)} (${numci(e.pte.ci)})`
						: `${e.arm}: not interpretable (no clear effect on the outcome)`
				)
				.join('; ') || '—',
			num(x.trial_level_r2)
		])
	);
	for (const x of rows.filter((r) => r.effects.length > 0))
		b.chart(
			`Effects on ${x.proxy} and on ${x.outcome}`,
			proxyEffectsChart(
				x.effects.map((e) => ({
					arm: e.arm,
					proxy: {
						diff: e.proxy_diff.diff,
						ci: primaryInterval(e.proxy_diff.ci, e.proxy_diff.cluster_bootstrap)
					},
					outcome: e.outcome_diff,
					discordant: e.discordant
				})),
				x.proxy,
				x.outcome
			)
		);
}

export function proxiesSection(b: Blocks, a: AnalysisResult, declared: ReadonlySet<string>) {
	const rows = a.proxies.filter((x) => declared.has(x.proxy));
	if (rows.length === 0) return;
	b.heading(3, 'Proxies against the clinical outcome');
	b.paragraph(
		'Does the proxy track the outcome it stands in for? Spearman’s ρ (Fisher-z interval, Bonett–Wright variance) and the AUC (DeLong) over all analysed episodes; per arm, the effects on the proxy (Welch) and on the outcome (Newcombe), discordance, and Freedman’s proportion of treatment effect explained (PTE, percentile bootstrap).'
	);
	proxyTable(b, rows);
}
