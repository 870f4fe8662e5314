import type { Measure, Participant } from '../io/export-reader.ts';

// Balance of baseline covariates by arm (docs/analysis-estimands.md §5; CONSORT item 15): each
// covariate described per arm, with the standardized difference of each arm from control. No
// significance tests: in a randomized trial any baseline difference is by chance, and CONSORT
// advises against testing it; the standardized difference says how large it is (|d| > 0.1 is the
// usual flag).

export interface BalanceRow {
	covariate: string;
	level: string | null;
	type: 'numeric' | 'categorical';
	by_arm: Record<string, { n: number; mean: number | null; sd: number | null }>;
	standardized_difference: Record<string, number | null>;
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const variance = (xs: number[]) => {
	if (xs.length < 2) return NaN;
	const m = mean(xs);
	return xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1);
};

/**
 * Standardized difference (arm − control) / √((s²_arm + s²_control) / 2) (Austin 2009); for a
 * level of a categorical covariate the same with the 0/1 indicator of that level.
 */
function standardizedDifference(arm: number[], control: number[]): number | null {
	if (arm.length < 2 || control.length < 2) return null;
	const pooled = Math.sqrt((variance(arm) + variance(control)) / 2);
	const diff = mean(arm) - mean(control);
	if (pooled === 0) return diff === 0 ? 0 : null;
	return diff / pooled;
}

/**
 * Balance of the participant-level covariates (measures of kind covariate without an episode, and
 * the randomization stratum) across the arms people were allocated to.
 */
export function covariateBalance(
	participants: Participant[],
	measures: Measure[],
	arms: string[],
	control: string | undefined
): BalanceRow[] {
	const armOf = new Map(participants.filter((p) => p.arm).map((p) => [p.id, p.arm]));
	const values = new Map<string, Map<string, { value: number | null; text: string }>>();
	for (const m of measures) {
		if (m.kind !== 'covariate' || m.episode !== null || !armOf.has(m.participant)) continue;
		if (!values.has(m.measure)) values.set(m.measure, new Map());
		values.get(m.measure)!.set(m.participant, { value: m.value, text: m.text });
	}
	if (participants.some((p) => p.arm && p.stratum)) {
		values.set(
			'stratum',
			new Map(
				participants
					.filter((p) => p.arm)
					.map((p) => [p.id, { value: null, text: p.stratum || '(none)' }])
			)
		);
	}
	const rows: BalanceRow[] = [];
	for (const [covariate, byParticipant] of [...values].sort(([a], [b]) => a.localeCompare(b))) {
		const entries = [...byParticipant].map(([id, v]) => ({ arm: armOf.get(id)!, ...v }));
		const numeric = entries.every((e) => e.value !== null);
		const series = (indicator: (e: (typeof entries)[number]) => number) =>
			Object.fromEntries(
				arms.map((arm) => [arm, entries.filter((e) => e.arm === arm).map(indicator)])
			) as Record<string, number[]>;
		const row = (level: string | null, xs: Record<string, number[]>): BalanceRow => ({
			covariate,
			level,
			type: numeric ? 'numeric' : 'categorical',
			by_arm: Object.fromEntries(
				arms.map((arm) => {
					const x = xs[arm]!;
					return [
						arm,
						{
							n: x.length,
							mean: x.length ? mean(x) : null,
							sd: x.length > 1 ? Math.sqrt(variance(x)) : null
						}
					];
				})
			),
			standardized_difference: Object.fromEntries(
				arms
					.filter((arm) => arm !== control)
					.map((arm) => [arm, control ? standardizedDifference(xs[arm]!, xs[control]!) : null])
			)
		});
		if (numeric)
			rows.push(
				row(
					null,
					series((e) => e.value!)
				)
			);
		else
			for (const level of [...new Set(entries.map((e) => e.text))].sort())
				rows.push(
					row(
						level,
						series((e) => (e.text === level ? 1 : 0))
					)
				);
	}
	return rows;
}
