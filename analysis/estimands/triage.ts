import { wilson } from '../stats/proportions.ts';
import type { TriageRow } from '../result.ts';
import type { AnalysisContext } from './context.ts';

// Under-, correct and over-triage on the study's ordered scale (docs/analysis-estimands.md §7):
// under-triage, a less urgent decision than the correct one, is the dangerous error.

export function triageBlock(ctx: AnalysisContext): TriageRow[] {
	const { study } = ctx.data;
	const level = new Map(study.dispositionScale.map((d, i) => [d, i]));
	const correctLevel = new Map(
		study.scenarios.map((s) => [s.id, level.get(s.correctDisposition)!])
	);
	return ctx.peopleArms.map((a) => {
		const rel = ctx
			.episodesOfArm(a.id)
			.filter((e) => e.disposition !== null)
			.map((e) => Math.sign(level.get(e.disposition!)! - correctLevel.get(e.scenario)!));
		const n = rel.length;
		const count = (s: number) => rel.filter((r) => r === s).length;
		return {
			arm: a.id,
			n,
			under: { p: n ? count(-1) / n : null, ci: wilson(count(-1), n) },
			correct: { p: n ? count(0) / n : null },
			over: { p: n ? count(1) / n : null, ci: wilson(count(1), n) }
		};
	});
}
