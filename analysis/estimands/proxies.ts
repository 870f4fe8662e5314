import type { Episode } from '../io/export-reader.ts';
import { aucDeLong, spearman } from '../stats/association.ts';
import type { ProxyAssociation } from '../result.ts';
import { outcomeOf, type AnalysisContext } from './context.ts';
import { proxyEffect } from './proxy-effect.ts';
import { rankClusterIntervals, trialLevelR2, type ProxyOptions } from './proxy-clusters.ts';
import { pte } from './pte.ts';

export { pte };

// Does the proxy track the outcome it stands in for? (docs/analysis-estimands.md §3)

export interface ProxyRow {
	participant: string;
	arm: string;
	scenario: string;
	proxy: number;
	outcome: 0 | 1;
}

/** The proxies block for one proxy measure and one binary clinical outcome. */
export function proxyBlock(
	rows: ProxyRow[],
	control: string | undefined,
	arms: string[],
	options: ProxyOptions
): ProxyAssociation {
	const s = spearman(
		rows.map((r) => r.proxy),
		rows.map((r) => r.outcome)
	);
	const hasBoth = rows.some((r) => r.outcome === 1) && rows.some((r) => r.outcome === 0);
	const auc = hasBoth
		? aucDeLong(
				rows.map((r) => r.proxy),
				rows.map((r) => r.outcome)
			)
		: null;
	const cluster = options.clustered && hasBoth ? rankClusterIntervals(rows, options) : null;
	const effects = control
		? arms
				.filter((a) => a !== control)
				.map((arm) => proxyEffect(rows, arm, control, options))
				.filter((e) => e !== null)
		: [];
	return {
		proxy: options.proxy,
		outcome: options.outcome,
		spearman: {
			rho: s.rho,
			ci: s.ci,
			n: s.n,
			method: 'spearman, fisher-z interval (bonett-wright variance)',
			cluster_bootstrap: cluster?.spearman ?? null
		},
		auc: auc
			? {
					estimate: auc.estimate,
					ci: auc.ci,
					method: 'mann-whitney, delong',
					cluster_bootstrap: cluster?.auc ?? null
				}
			: null,
		effects,
		trial_level_r2: trialLevelR2(effects)
	};
}

/**
 * Clinical outcomes that arrived later about the participant (an outcome import or a follow-up
 * wave: participant-level measures of kind clinical, every value 0 or 1), by measure then
 * participant. Each episode of the participant takes the participant's value.
 */
function laterClinicalOutcomes(ctx: AnalysisContext): Map<string, Map<string, 0 | 1>> {
	const byMeasure = new Map<string, Map<string, 0 | 1>>();
	const notBinary = new Set<string>();
	for (const m of ctx.data.measures) {
		if (m.kind !== 'clinical' || m.episode !== null || m.value === null) continue;
		if (m.value !== 0 && m.value !== 1) notBinary.add(m.measure);
		const values = byMeasure.get(m.measure) ?? new Map<string, 0 | 1>();
		values.set(m.participant, m.value === 1 ? 1 : 0);
		byMeasure.set(m.measure, values);
	}
	for (const name of notBinary) byMeasure.delete(name);
	return new Map([...byMeasure].sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * Each episode-level proxy measure joined with each binary clinical outcome of the analysed
 * episodes: the decision's own, and those that arrived later about the participant.
 */
export function proxyBlocks(ctx: AnalysisContext): ProxyAssociation[] {
	const episodeKey = (participant: string, episode: number) => `${participant}\u0000${episode}`;
	const byEpisode = new Map(ctx.analysed.map((e) => [episodeKey(e.participant, e.episode), e]));
	const joined = new Map<string, { e: Episode; value: number }[]>();
	for (const m of ctx.data.measures) {
		if (m.kind !== 'proxy' || m.episode === null || m.value === null) continue;
		const e = byEpisode.get(episodeKey(m.participant, m.episode));
		if (!e) continue;
		let list = joined.get(m.measure);
		if (!list) joined.set(m.measure, (list = []));
		list.push({ e, value: m.value });
	}
	const later = laterClinicalOutcomes(ctx);
	const outcomes: { name: string; of: (e: Episode) => 0 | 1 | null }[] = [
		...ctx.outcomes.map((o) => ({ name: o, of: (e: Episode) => outcomeOf(e, o) })),
		...[...later].map(([name, values]) => ({
			name,
			of: (e: Episode) => values.get(e.participant) ?? null
		}))
	];
	return [...joined.keys()].sort().flatMap((proxy) =>
		outcomes.flatMap(({ name: outcome, of }) => {
			const rows: ProxyRow[] = [];
			for (const { e, value } of joined.get(proxy)!) {
				const y = of(e);
				if (y !== null)
					rows.push({
						participant: e.participant,
						arm: ctx.armOf.get(e.participant)!,
						scenario: e.scenario,
						proxy: value,
						outcome: y
					});
			}
			if (rows.length < 4) return [];
			return [
				proxyBlock(
					rows,
					ctx.control?.id,
					ctx.peopleArms.map((a) => a.id),
					{ proxy, outcome, bootstrap: ctx.bootstrap, seed: ctx.seed, clustered: ctx.clustered }
				)
			];
		})
	);
}
