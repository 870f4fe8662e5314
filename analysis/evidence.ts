import type { AnalysisResult } from './result.ts';

// What a study's analysis says about the BenchmarkCard assumptions it tests
// (docs/benchmark-card.md, "evidence"): the decision-mediation gap for decision_mediation,
// PTE and discordance for outcome_validity, and the study-derived decomposition's step for each
// assumption it relaxes. Keyed by assumption key; the caller writes only those the study is
// linked to.

export interface EvidenceItem {
	assumption: string;
	estimate: string;
	value: number | null;
	ci: [number, number] | null;
}

export function evidenceFromAnalysis(a: AnalysisResult): EvidenceItem[] {
	const items: EvidenceItem[] = [];
	for (const m of a.mediation) {
		if (m.gap)
			items.push({
				assumption: 'decision_mediation',
				estimate: `decision-mediation gap, ${m.arm}, ${m.outcome}: LLM in conversation − users (${m.gap.method}, n ${m.users.n})`,
				value: m.gap.diff,
				ci: m.gap.ci
			});
		if (m.benchmark_to_user_gap)
			items.push({
				assumption: 'decision_mediation',
				estimate: `benchmark-to-user gap, ${m.arm}, ${m.outcome}: LLM alone − users (${m.benchmark_to_user_gap.method})`,
				value: m.benchmark_to_user_gap.diff,
				ci: m.benchmark_to_user_gap.ci
			});
	}
	for (const x of a.proxies) {
		for (const e of x.effects) {
			if (e.pte.estimate !== null)
				items.push({
					assumption: 'outcome_validity',
					estimate: `proportion of treatment effect on ${x.outcome} explained by ${x.proxy}, ${e.arm} (${e.pte.method})`,
					value: e.pte.estimate,
					ci: e.pte.ci
				});
			items.push({
				assumption: 'outcome_validity',
				estimate: `${x.proxy} discordant with ${x.outcome}, ${e.arm} (1 = the arm moved the proxy but not the outcome, or the other way)`,
				value: e.discordant ? 1 : 0,
				ci: null
			});
		}
	}
	const d = a.decomposition;
	if (d)
		for (const step of d.steps)
			items.push({
				assumption: step.assumption,
				estimate: `accuracy drop when relaxing ${step.assumption}, ${d.arm}, ${d.outcome} (${d.method})`,
				value: step.drop,
				ci: null
			});
	return items;
}
